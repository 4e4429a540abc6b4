package io.edgefleet.http.limits;

import io.helidon.common.buffers.DataReader;
import io.helidon.http.HttpException;
import io.helidon.http.RequestException;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * Tells the failures a client caused while its request was read from the ones of the server:
 * a body over the size limit (Helidon's 413, also for a chunked body), a malformed request
 * (Helidon's 4xx) and a peer that went away in the middle of its body. Used by every HTTP
 * handler of the agent and the control plane so that such failures get their 4xx and one
 * rate-limited log line, never a 500 with a stack trace.
 */
public final class ClientErrors {
    /** A failure the client caused. {@code status} 0 means the client is gone: nothing can be answered. */
    public record ClientError(int status, String kind, String message) {
        public boolean gone() {
            return status == 0;
        }
    }

    private ClientErrors() {
    }

    /**
     * The client's failure behind {@code e}, or empty when {@code e} is the server's own. Only
     * what Helidon throws while it reads the request counts: its 4xx exceptions, the end of the
     * data in the middle of a body, and an {@link UncheckedIOException} from the socket.
     */
    public static Optional<ClientError> of(Throwable e) {
        return switch (e) {
            case HttpException h when h.status().code() >= 400 && h.status().code() < 500 -> Optional.of(forStatus(h.status().code()));
            case RequestException r when r.status().code() >= 400 && r.status().code() < 500 -> Optional.of(forStatus(r.status().code()));
            case DataReader.InsufficientDataAvailableException i -> Optional.of(GONE);
            case UncheckedIOException u -> Optional.of(GONE);
            // closed under the request by a read deadline, or the socket failed while the body was read
            case io.helidon.webserver.CloseConnectionException c -> Optional.of(GONE);
            default -> Optional.empty();
        };
    }

    private static final ClientError GONE = new ClientError(0, "client disconnected mid-body", "the connection ended before the body did");

    private static ClientError forStatus(int status) {
        return status == 413 ? new ClientError(413, "request body over the size limit", "the request body exceeds the size limit")
                : new ClientError(status, "malformed HTTP request", "the request could not be read (malformed body or framing)");
    }
}
