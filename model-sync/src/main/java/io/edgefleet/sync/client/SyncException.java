package io.edgefleet.sync.client;

/**
 * A download that did not finish. {@link #retriable()} is true for network trouble (the next try
 * resumes where this one stopped) and false for content that will never verify.
 */
public class SyncException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean retriable;

    public SyncException(String message, boolean retriable, Throwable cause) {
        super(message, cause);
        this.retriable = retriable;
    }

    public boolean retriable() {
        return retriable;
    }
}
