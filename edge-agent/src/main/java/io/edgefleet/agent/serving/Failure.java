package io.edgefleet.agent.serving;

import io.edgefleet.agent.slots.ModelNotReadyException;
import io.edgefleet.agent.slots.ModelNotServedException;
import io.edgefleet.engines.EngineBusyException;
import io.edgefleet.engines.InferenceFailedException;
import io.edgefleet.engines.InvalidInputException;
import io.edgefleet.protocols.ProtocolException;

/**
 * What a failed request tells its client, the same for HTTP, CoAP and MQTT: an HTTP-style status
 * (CoAP maps it to 4.xx/5.xx, MQTT sends it as the user property {@code status}) and a message.
 * Internal exception text never reaches a client: the engines' messages name model, input and
 * shapes only, and a runtime's own words (ONNX Runtime node names, TFLite's native messages) stay
 * in the server log.
 *
 * @param status 400 bad input, 404 unknown model or version, 503 model refused at startup (not ready, no Retry-After), 429 queue full, 503 overloaded or late, 500 runtime failure
 * @param message for the client
 * @param retryable whether the client should retry later ({@code Retry-After})
 */
public record Failure(int status, String message, boolean retryable) {
    private static final System.Logger LOG = System.getLogger(Failure.class.getName());

    public static Failure of(RuntimeException e) {
        return switch (e) {
            case ProtocolException p -> new Failure(400, p.getMessage(), false);
            case InvalidInputException i -> {
                // The client's mistake, so not worth more than a debug line; the runtime's words stay here.
                i.runtimeDetail().ifPresent(d -> LOG.log(System.Logger.Level.DEBUG, "{0} (runtime: {1})", i.getMessage(), d));
                yield new Failure(400, i.getMessage(), false);
            }
            case ModelNotServedException m -> new Failure(404, m.getMessage(), false);
            case ModelNotReadyException m -> new Failure(503, m.getMessage(), false);
            case OverloadedException o -> new Failure(o.queueFull() ? 429 : 503, o.getMessage(), true);
            case EngineBusyException b -> new Failure(503, b.getMessage(), true);
            case InferenceFailedException f -> {
                LOG.log(System.Logger.Level.WARNING, "{0} (runtime: {1})", f.getMessage(), f.runtimeDetail().orElse("no detail"));
                yield new Failure(500, f.getMessage(), false);
            }
            default -> {
                LOG.log(System.Logger.Level.ERROR, "unexpected failure", e);
                yield new Failure(500, "internal error", false);
            }
        };
    }

    /**
     * Whether the client caused this failure (a 4xx other than 429): a malformed or misshapen
     * request, an unknown model or version. Such failures are never model errors: the telemetry,
     * the watchdog and the rollout gates must not count them as the model's.
     */
    public boolean clientCaused() {
        return status >= 400 && status < 500 && status != 429;
    }

    /**
     * Whether {@code e} is a failure the client caused, by type: {@link ProtocolException} (a
     * request that does not decode), {@link InvalidInputException} (inputs the model cannot take,
     * whichever rule, see {@link InvalidInputException#rule()}) and {@link ModelNotServedException}.
     */
    public static boolean causedByClient(Throwable e) {
        return e instanceof ProtocolException || e instanceof InvalidInputException || e instanceof ModelNotServedException;
    }
}
