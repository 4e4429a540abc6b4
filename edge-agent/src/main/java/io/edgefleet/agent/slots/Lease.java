package io.edgefleet.agent.slots;

import io.edgefleet.engines.LoadedModel;

/**
 * The right to run one request on a model version: the version stays loaded until the lease is
 * closed, even if another version is activated meanwhile. Not thread-safe; one request, one lease.
 */
public final class Lease implements AutoCloseable {
    private final String model;
    private final Loaded loaded;
    private boolean closed;

    Lease(String model, Loaded loaded) {
        this.model = model;
        this.loaded = loaded;
    }

    public String modelName() {
        return model;
    }

    public String version() {
        return loaded.version;
    }

    public LoadedModel model() {
        return loaded.model;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            loaded.release();
        }
    }
}
