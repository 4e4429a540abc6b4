package io.edgefleet.agent.slots;

import io.edgefleet.engines.LoadedModel;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A model version in memory, reference-counted: the slot holds one reference while the version
 * is active, each request one while it runs. The native model closes when the last reference
 * goes, so a swap never closes a model under a running request.
 */
final class Loaded {
    final String version;
    final LoadedModel model;
    private final AtomicInteger refs = new AtomicInteger(1);

    Loaded(String version, LoadedModel model) {
        this.version = version;
        this.model = model;
    }

    /** Takes a reference unless the version was already released for good. */
    boolean retain() {
        for (;;) {
            int r = refs.get();
            if (r == 0) {
                return false;
            }
            if (refs.compareAndSet(r, r + 1)) {
                return true;
            }
        }
    }

    void release() {
        if (refs.decrementAndGet() == 0) {
            model.close();
        }
    }
}
