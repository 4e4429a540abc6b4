package io.edgefleet.agent.serving;

import io.edgefleet.agent.slots.ModelNotServedException;
import io.edgefleet.engines.InvalidInputException;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.ClientErrorKind;
import java.util.Optional;

/**
 * Which failures are the client's mistake, and of what kind, for telemetry. Decided by the
 * exception's type first (the same types {@link Failure} maps to 4xx), then by the status a
 * transport answered, for refusals that never became one of our exceptions (an oversize body).
 * Everything else (the runtime failing, a late answer, the agent draining) is not a client error:
 * a model failure is counted as a model error where it happens, in {@link InferenceService}.
 */
final class ClientErrors {
    private ClientErrors() {
    }

    /**
     * @param cause what the request failed with
     * @param status the HTTP-style status answered (CoAP and MQTT use the same table)
     * @return the kind, or empty when the failure is not the client's
     */
    static Optional<ClientErrorKind> kind(RuntimeException cause, int status) {
        return switch (cause) {
            case ProtocolException p -> Optional.of(ClientErrorKind.BAD_REQUEST);
            case InvalidInputException i -> Optional.of(ClientErrorKind.INVALID_INPUT);
            case ModelNotServedException m -> Optional.of(ClientErrorKind.UNKNOWN_MODEL);
            case OverloadedException o -> o.queueFull() ? Optional.of(ClientErrorKind.OVERLOADED) : Optional.empty();
            default -> byStatus(status);
        };
    }

    static Optional<ClientErrorKind> byStatus(int status) {
        return switch (status) {
            case 404 -> Optional.of(ClientErrorKind.UNKNOWN_MODEL);
            case 413 -> Optional.of(ClientErrorKind.PAYLOAD_TOO_LARGE);
            case 415 -> Optional.of(ClientErrorKind.UNSUPPORTED_MEDIA_TYPE);
            case 429 -> Optional.of(ClientErrorKind.OVERLOADED);
            default -> status >= 400 && status < 500 ? Optional.of(status == 400 ? ClientErrorKind.BAD_REQUEST : ClientErrorKind.OTHER)
                    : Optional.empty();
        };
    }
}
