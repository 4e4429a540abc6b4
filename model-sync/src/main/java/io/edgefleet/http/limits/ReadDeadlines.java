package io.edgefleet.http.limits;

import io.edgefleet.transport.net.ClientFailureLog;
import io.helidon.common.buffers.BufferData;
import io.helidon.common.socket.HelidonSocket;
import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Header and body read deadlines for Helidon's HTTP/1 connections, which Helidon 4 does not have
 * (its idle timeout skips a connection once the request line is in, so a client that trickles
 * its headers or its body holds the connection forever). Registered as both receive and send
 * listener: the request line starts a header deadline; complete headers of a request with a body
 * start a body deadline that every received byte pushes back; the response's status line ends
 * the request's deadlines. A sweeper closes the socket of a connection past its deadline and
 * writes one rate-limited line ({@link ClientFailureLog}).
 *
 * <p>Threads: listener methods run on Helidon's connection threads; the sweeper is one named
 * daemon platform thread, stopped by {@link #close}.
 */
public final class ReadDeadlines implements Http1ConnectionListener, AutoCloseable {
    private final long headerNanos;
    private final long bodyNanos;
    private final ClientFailureLog failures;
    private final Map<ConnectionContext, Deadline> open = new ConcurrentHashMap<>();
    private final AtomicLong closed = new AtomicLong();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("http-read-deadlines").daemon().unstarted(r));

    ReadDeadlines(Duration header, Duration body, ClientFailureLog failures) {
        this.headerNanos = header.toNanos();
        this.bodyNanos = body.toNanos();
        this.failures = failures;
        long period = Math.max(10, Math.min(1000, Math.min(header.toMillis(), body.toMillis()) / 4));
        sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    private record Deadline(HelidonSocket socket, boolean body, long atNanos) {
    }

    @Override
    public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
        open.put(ctx, new Deadline(ctx.serverSocket(), false, System.nanoTime() + headerNanos));
    }

    @Override
    public void headers(ConnectionContext ctx, Headers headers) {
        Deadline d = open.get(ctx);
        if (d == null || d.body()) {
            return; // response headers (send side) or trailers
        }
        boolean entity = headers.contains(HeaderNames.TRANSFER_ENCODING)
                || headers.first(HeaderNames.CONTENT_LENGTH).map(v -> !v.strip().equals("0")).orElse(false);
        if (entity) {
            open.put(ctx, new Deadline(d.socket(), true, System.nanoTime() + bodyNanos));
        } else {
            open.remove(ctx);
        }
    }

    @Override
    public void data(ConnectionContext ctx, BufferData data) {
        pushBack(ctx);
    }

    @Override
    public void data(ConnectionContext ctx, byte[] bytes, int offset, int length) {
        pushBack(ctx);
    }

    private void pushBack(ConnectionContext ctx) {
        open.computeIfPresent(ctx, (c, d) -> d.body() ? new Deadline(d.socket(), true, System.nanoTime() + bodyNanos) : d);
    }

    @Override
    public void status(ConnectionContext ctx, Status status) {
        open.remove(ctx);
    }

    /** Connections closed for a missed deadline so far. */
    public long closedConnections() {
        return closed.get();
    }

    void sweep() {
        long now = System.nanoTime();
        open.forEach((ctx, d) -> {
            if (now - d.atNanos() > 0 && open.remove(ctx, d)) {
                closed.incrementAndGet();
                failures.log(d.body() ? "client went silent in the middle of a request body" : "client did not finish its request headers in time",
                        "client at " + peer(ctx) + "; connection closed");
                try {
                    d.socket().close();
                } catch (RuntimeException e) {
                    // already gone
                }
            } else if (!d.socket().isConnected()) {
                open.remove(ctx, d);
            }
        });
    }

    private static String peer(ConnectionContext ctx) {
        try {
            return ctx.remotePeer().host() + ":" + ctx.remotePeer().port();
        } catch (RuntimeException e) {
            return "?";
        }
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        open.clear();
    }
}
