package io.edgefleet.engines;

/**
 * A model file that cannot be loaded: the runtime refused it (its own message is kept), the file
 * is empty, truncated or of an unknown format, or the isolated child JVM that tried it crashed,
 * hung or ran out of memory. Final.
 */
public final class ModelLoadException extends EngineException {
    private static final long serialVersionUID = 1L;
    private final String file;
    private final String reason;

    public ModelLoadException(String file, String reason, Throwable cause) {
        super("model file " + file + ": " + reason, cause);
        this.file = file;
        this.reason = reason;
    }

    public ModelLoadException(String file, String reason) {
        this(file, reason, null);
    }

    public String file() {
        return file;
    }

    /** The reason without the file name, e.g. the runtime's own message. */
    public String reason() {
        return reason;
    }

    @Override
    public boolean retriable() {
        return false;
    }
}
