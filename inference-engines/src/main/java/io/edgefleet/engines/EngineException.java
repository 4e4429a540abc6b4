package io.edgefleet.engines;

/**
 * Base of the errors a caller of this module can act on. {@link #retriable()} says whether the
 * same call may succeed later (a busy pool) or never will (a bad input, a model the runtime
 * refuses). Messages name the model or file and the rule; they never carry a stack trace's text.
 */
public abstract class EngineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    protected EngineException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Whether retrying the same call later can succeed. */
    public abstract boolean retriable();
}
