package io.edgefleet.engines;

/** The runtime failed while running valid inputs; the runtime's message is kept. Final. */
public final class InferenceFailedException extends EngineException {
    private static final long serialVersionUID = 1L;

    public InferenceFailedException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public boolean retriable() {
        return false;
    }
}
