package io.edgefleet.agent.slots;

/**
 * A request for a model this agent knows but cannot serve: its file was refused when the agent
 * started (it does not load, or failed its self-test). Final until an operator fixes the file or
 * deploys a version; answers 503 without {@code Retry-After} and names the reason.
 */
public final class ModelNotReadyException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String model;
    private final String reason;

    public ModelNotReadyException(String model, String reason) {
        super("model '" + model + "' is not ready: " + reason);
        this.model = model;
        this.reason = reason;
    }

    public String model() {
        return model;
    }

    /** The file and why its load was refused. */
    public String reason() {
        return reason;
    }
}
