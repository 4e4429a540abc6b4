package io.edgefleet.agent.serving;

import io.edgefleet.protocols.oip.Encoded;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.OipCodec;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The agent as a client of the cloud's inference role (Open Inference Protocol v2 over HTTP),
 * behind a circuit breaker: after {@code failures} consecutive failures (error, timeout, refused
 * connection) the breaker opens for {@code openFor} and calls fail at once; then one probe is let
 * through (half-open), and its success closes the breaker.
 */
public final class CloudFallback {
    /** The cloud could not answer in time; the message says why. */
    public static final class UnavailableException extends RuntimeException {
        UnavailableException(String m) {
            super(m);
        }
    }

    /** Breaker state, for status and tests. */
    public enum State {
        CLOSED, OPEN, HALF_OPEN
    }

    private final URI base;
    private final int failureThreshold;
    private final Duration openFor;
    private final Clock clock;
    private final OipCodec codec = OipCodec.create();
    private final io.edgefleet.transport.http.HttpCredentials credentials;
    private final java.util.function.Consumer<HttpClient.Builder> httpSettings = b -> b.connectTimeout(Duration.ofSeconds(2));
    private final AtomicInteger consecutive = new AtomicInteger();
    private volatile Instant openedAt;
    private volatile boolean probing;

    public CloudFallback(URI base, int failureThreshold, Duration openFor, Clock clock) {
        this(base, failureThreshold, openFor, io.edgefleet.transport.http.HttpCredentials.none(), clock);
    }

    /**
     * @param credentials the device's TLS context (its client certificate for mTLS) and/or bearer
     *     token: the cloud's inference role answers 401 without one of them
     */
    public CloudFallback(URI base, int failureThreshold, Duration openFor, io.edgefleet.transport.http.HttpCredentials credentials, Clock clock) {
        this.credentials = java.util.Objects.requireNonNull(credentials, "credentials");
        this.base = base;
        this.failureThreshold = failureThreshold;
        this.openFor = openFor;
        this.clock = clock;
    }

    private volatile io.edgefleet.transport.tracing.Tracing tracing = io.edgefleet.transport.tracing.Tracing.off();

    /**
     * Traces each call to the cloud as an HTTP client span ({@code POST}, semantic conventions for
     * HTTP clients), a child of the current span, whose context goes to the cloud in the W3C
     * {@code traceparent} header. Off by default.
     */
    public void useTracing(io.edgefleet.transport.tracing.Tracing t) {
        this.tracing = java.util.Objects.requireNonNull(t);
    }

    public synchronized State state() {
        if (openedAt == null) {
            return State.CLOSED;
        }
        return clock.instant().isBefore(openedAt.plus(openFor)) ? State.OPEN : State.HALF_OPEN;
    }

    private synchronized boolean admit() {
        State s = state();
        if (s == State.CLOSED) {
            return true;
        }
        if (s == State.HALF_OPEN && !probing) {
            probing = true;
            return true;
        }
        return false;
    }

    private synchronized void success() {
        consecutive.set(0);
        openedAt = null;
        probing = false;
    }

    private synchronized void failure() {
        probing = false;
        if (consecutive.incrementAndGet() >= failureThreshold || openedAt != null) {
            openedAt = clock.instant();
        }
    }

    /** Sends the request to the cloud within {@code timeout}; throws {@link UnavailableException} otherwise. */
    public InferResponse infer(String model, InferRequest request, Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new UnavailableException("no time left for the cloud within the request's deadline");
        }
        if (!admit()) {
            throw new UnavailableException("the cloud circuit breaker is open after " + failureThreshold + " consecutive failures");
        }
        io.edgefleet.transport.tracing.Tracing t = tracing;
        if (!t.on()) {
            return call(model, request, timeout, null);
        }
        URI url = base.resolve("/v2/models/" + model + "/infer");
        io.opentelemetry.api.trace.Span span = t.tracer().spanBuilder("POST").setSpanKind(io.opentelemetry.api.trace.SpanKind.CLIENT)
                .setAttribute("http.request.method", "POST")
                .setAttribute("url.full", url.toString())
                .setAttribute("server.address", url.getHost())
                .setAttribute("server.port", (long) (url.getPort() > 0 ? url.getPort() : url.getScheme().equals("https") ? 443 : 80))
                .startSpan();
        try (io.opentelemetry.context.Scope s = span.makeCurrent()) {
            return call(model, request, timeout, span);
        } catch (RuntimeException e) {
            io.edgefleet.transport.tracing.Tracing.failed(span, e);
            throw e;
        } finally {
            span.end();
        }
    }

    private InferResponse call(String model, InferRequest request, Duration timeout, io.opentelemetry.api.trace.Span span) {
        try {
            Encoded e = codec.encodeRequest(request, true);
            HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve("/v2/models/" + model + "/infer")).timeout(timeout)
                    .header("Content-Type", e.contentType()).header("EdgeFleet-Timeout-Ms", Long.toString(Math.max(1, timeout.toMillis())))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(e.body()));
            e.headerLength().ifPresent(h -> b.header(OipCodec.HEADER_CONTENT_LENGTH, Integer.toString(h)));
            if (span != null) {
                tracing.inject(io.opentelemetry.context.Context.current(), b, (builder, k, v) -> builder.header(k, v));
            }
            HttpResponse<byte[]> r = credentials.client(httpSettings).send(credentials.authorize(b).build(), HttpResponse.BodyHandlers.ofByteArray());
            if (span != null) {
                span.setAttribute("http.response.status_code", (long) r.statusCode());
            }
            if (r.statusCode() != 200) {
                failure();
                throw new UnavailableException("the cloud answered " + r.statusCode());
            }
            OptionalInt h = OipCodec.parseHeaderLength(r.headers().firstValue(OipCodec.HEADER_CONTENT_LENGTH).orElse(null));
            InferResponse out = codec.decodeResponse(r.body(), h);
            success();
            return out;
        } catch (IOException ex) {
            failure();
            throw new UnavailableException("the cloud did not answer: " + reason(ex));
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
            failure();
            throw new UnavailableException("interrupted");
        }
    }

    /** Why the call failed, in words (the JDK's client throws a refused connection without a message). */
    static String reason(IOException ex) {
        if (ex instanceof java.net.http.HttpTimeoutException) {
            return "no answer in time";
        }
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException) {
                return "connection refused";
            }
            if (t instanceof javax.net.ssl.SSLException) {
                return "the TLS handshake failed";
            }
        }
        return ex.getMessage() != null && !ex.getMessage().isBlank() ? ex.getMessage() : "the connection failed";
    }
}
