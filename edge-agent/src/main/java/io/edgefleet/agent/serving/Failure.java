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
 * Internal exception text never reaches a client.
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
            case InvalidInputException i -> new Failure(400, i.getMessage(), false);
            case ModelNotServedException m -> new Failure(404, m.getMessage(), false);
            case ModelNotReadyException m -> new Failure(503, m.getMessage(), false);
            case OverloadedException o -> new Failure(o.queueFull() ? 429 : 503, o.getMessage(), true);
            case EngineBusyException b -> new Failure(503, b.getMessage(), true);
            case InferenceFailedException f -> new Failure(500, f.getMessage(), false);
            default -> {
                LOG.log(System.Logger.Level.ERROR, "unexpected failure", e);
                yield new Failure(500, "internal error", false);
            }
        };
    }
}
