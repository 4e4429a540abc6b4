package io.edgefleet.agent.slots;

/** A request for a model, or a model version, that this agent does not serve. Final; answers 404. */
public final class ModelNotServedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelNotServedException(String message) {
        super(message);
    }
}
