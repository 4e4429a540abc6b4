package io.edgefleet.agent.serving;

/**
 * A model's request queue is full, or its answer did not come within the request timeout.
 * Retriable: answered with 429 (queue full) or 503 (timeout) and {@code Retry-After}.
 */
public final class OverloadedException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean queueFull;

    public OverloadedException(String message, boolean queueFull) {
        super(message);
        this.queueFull = queueFull;
    }

    /** True for a full queue (429), false for a timeout (503). */
    public boolean queueFull() {
        return queueFull;
    }
}
