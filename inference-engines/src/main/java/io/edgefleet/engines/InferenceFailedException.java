package io.edgefleet.engines;

/**
 * The runtime failed while running inputs that it did not refuse as invalid: a fault of the model
 * or the runtime, counted as a model error. Final. The message names the model and the input
 * shapes and is fit for a client; the runtime's own words (node names, native messages) are in
 * {@link #runtimeDetail()} only, for the server log.
 */
public final class InferenceFailedException extends EngineException {
    private static final long serialVersionUID = 1L;
    private final String runtimeDetail;

    public InferenceFailedException(String message, Throwable cause) {
        super(message, cause);
        this.runtimeDetail = cause == null ? null : cause.getMessage();
    }

    /** The runtime's own words: for logs and operators, never for a client. */
    public java.util.Optional<String> runtimeDetail() {
        return java.util.Optional.ofNullable(runtimeDetail);
    }

    @Override
    public boolean retriable() {
        return false;
    }
}
