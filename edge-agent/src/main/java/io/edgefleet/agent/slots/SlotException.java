package io.edgefleet.agent.slots;

/**
 * A slot operation that could not be done: a candidate that failed to load or its self-test, a
 * rollback with no previous version. The active version is untouched. Final.
 */
public final class SlotException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SlotException(String message, Throwable cause) {
        super(message, cause);
    }
}
