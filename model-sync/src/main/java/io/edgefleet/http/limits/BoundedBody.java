package io.edgefleet.http.limits;

import io.helidon.http.HttpException;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.ServerRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Reads a request body with a limit of its own, for routes that take less than the listener's
 * limit (the cloud's listener takes model uploads up to 1 GiB; an inference request may hold
 * 16 MiB). Nothing past the limit is buffered: a {@code Content-Length} over it is refused before
 * a byte is read, a chunked body as soon as it streams past it. Called on the request's (virtual)
 * thread.
 */
public final class BoundedBody {
    private BoundedBody() {
    }

    /**
     * @param maxBytes the largest body accepted, bytes
     * @return the body; empty when the request has none
     * @throws HttpException 413 when the body is over {@code maxBytes}; 400 when its chunked framing
     *     is malformed (both the client's, see {@link ClientErrors}; the handler answers with
     *     {@code Connection: close})
     * @throws UncheckedIOException when the client went away mid-body
     */
    public static byte[] read(ServerRequest req, int maxBytes) {
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        req.headers().contentLength().ifPresent(n -> {
            if (n > maxBytes) {
                throw tooLarge(maxBytes);
            }
        });
        // Not closed on the way out: closing drains what is left of the body, which for an oversize or
        // garbled chunked body means waiting for bytes that never parse; the handler answers and closes instead.
        InputStream in = req.content().inputStream();
        try {
            byte[] body = in.readNBytes(maxBytes);
            if (body.length == maxBytes && in.read() >= 0) {
                throw tooLarge(maxBytes);
            }
            return body;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (HttpException | UncheckedIOException | CloseConnectionException e) {
            throw e;
        } catch (RuntimeException e) {
            if (ClientErrors.of(e).isPresent()) {
                throw e; // the client left mid-body, or another failure ClientErrors already names
            }
            // Helidon's chunked decoder fails on the client's framing (a chunk size "ZZZ" is a NumberFormatException)
            throw new HttpException("the request body's chunked framing is malformed", Status.BAD_REQUEST_400, e, true);
        }
    }

    private static HttpException tooLarge(int maxBytes) {
        return new HttpException("the request body exceeds the limit of " + maxBytes + " bytes", Status.REQUEST_ENTITY_TOO_LARGE_413, true);
    }
}
