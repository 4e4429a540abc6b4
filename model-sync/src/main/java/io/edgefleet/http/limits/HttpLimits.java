package io.edgefleet.http.limits;

import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http1.Http1Config;
import io.edgefleet.transport.net.ClientFailureLog;
import java.time.Duration;

/**
 * What one HTTP listener lets its clients hold, applied to a Helidon 4 web server by
 * {@link #applyTo}: an idle keep-alive connection (or one that has not finished its request line)
 * is closed after {@code idleTimeout}; a request whose headers are not complete
 * {@code headerTimeout} after its request line, or whose client then sends no body byte for
 * {@code bodyReadTimeout} before the response starts, is closed ({@link ReadDeadlines}); at most
 * {@code maxConnections} TCP connections are accepted at once (the rest wait in the kernel's
 * backlog and hold no file descriptor of the process); at most {@code maxConcurrentRequests} are
 * processed at once (503 beyond, Helidon's own answer).
 *
 * <p>{@code bodyReadTimeout} also covers the time the handler takes before it answers, since a
 * client waiting for its answer sends nothing: keep it above the longest handler time (the
 * agent's request timeout; the control plane's upload validation).
 *
 * @param idleTimeout an idle connection is closed after this; checked every {@code min(1 s, idleTimeout / 4)}
 * @param headerTimeout from the request line to the end of the headers
 * @param bodyReadTimeout longest silence of a client after its headers, until the response starts
 * @param maxConnections TCP connections accepted at once, >= 1
 * @param maxConcurrentRequests requests processed at once, >= 1
 */
public record HttpLimits(Duration idleTimeout, Duration headerTimeout, Duration bodyReadTimeout, int maxConnections,
        int maxConcurrentRequests) {
    public HttpLimits {
        for (Duration d : new Duration[] {idleTimeout, headerTimeout, bodyReadTimeout}) {
            if (d.toMillis() < 10) {
                throw new IllegalArgumentException("HTTP timeouts must be >= 10 ms, got " + d);
            }
        }
        if (maxConnections < 1 || maxConcurrentRequests < 1) {
            throw new IllegalArgumentException("max-connections and max-concurrent-requests must be >= 1");
        }
    }

    /** The agent's defaults: idle 30 s, headers 10 s, body silence 30 s, 256 connections, 128 concurrent requests. */
    public static HttpLimits agentDefaults() {
        return new HttpLimits(Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(30), 256, 128);
    }

    /** The control plane's defaults: idle 60 s, headers 10 s, body silence 120 s, 1,024 connections, 512 concurrent requests. */
    public static HttpLimits cloudDefaults() {
        return new HttpLimits(Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(120), 1024, 512);
    }

    public HttpLimits withIdleTimeout(Duration d) {
        return new HttpLimits(d, headerTimeout, bodyReadTimeout, maxConnections, maxConcurrentRequests);
    }

    public HttpLimits withReadTimeouts(Duration header, Duration body) {
        return new HttpLimits(idleTimeout, header, body, maxConnections, maxConcurrentRequests);
    }

    public HttpLimits withMaxConnections(int connections, int concurrentRequests) {
        return new HttpLimits(idleTimeout, headerTimeout, bodyReadTimeout, connections, concurrentRequests);
    }

    /**
     * Sets the limits on the default listener of {@code builder} and registers the read deadlines
     * as HTTP/1 listeners.
     *
     * @return the deadlines, to be closed with the server (they own one sweeper thread)
     */
    public ReadDeadlines applyTo(WebServerConfig.Builder builder, ClientFailureLog failures) {
        ReadDeadlines deadlines = new ReadDeadlines(headerTimeout, bodyReadTimeout, failures);
        long period = Math.max(10, Math.min(1000, idleTimeout.toMillis() / 4));
        builder.idleConnectionTimeout(idleTimeout)
                .idleConnectionPeriod(Duration.ofMillis(period))
                .maxTcpConnections(maxConnections)
                .maxConcurrentRequests(maxConcurrentRequests)
                // Explicit protocols only: with the service-loaded HTTP/1 beside ours, Helidon 4.5's idle
                // timeout no longer closed silent connections (measured).
                .protocolsDiscoverServices(false)
                .addProtocol(Http1Config.builder().addReceiveListener(deadlines).addSendListener(deadlines).build());
        return deadlines;
    }
}
