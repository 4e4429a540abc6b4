package io.edgefleet.transport.net;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Owns the reconnection of an MQTT client, with a backoff of its own; the client's automatic
 * reconnect is off. Paho 1.2.5 keeps the automatic-reconnect delay in a <em>static</em> field:
 * every client of a JVM doubles the same delay, so with many clients in one process (the
 * simulator's fleet, the control plane's two sessions next to it) a broker outage of a few seconds
 * pushed the delay to Paho's two-minute ceiling and most clients came back two minutes after the
 * broker did (seen with 50 agents and a 3 s broker restart). Nudging Paho's cycle from outside
 * (its {@code reconnect()}) wedged ingest sessions after a restart, so this watch is the only one
 * that reconnects: it checks the client every 250 ms and, once it has been disconnected for the
 * current delay, connects it again (same options, same session); the delay doubles from
 * {@code min} to {@code max}, with jitter, per client.
 */
public final class ReconnectWatch implements AutoCloseable {
    /** The client, seen from here. */
    public interface Client {
        boolean isConnected();

        /** Connects again (blocking until connected or failed); may throw when that is not possible now. */
        void reconnect() throws Exception;
    }

    private final Client client;
    private final long minMs;
    private final long maxMs;
    private volatile boolean closed;
    private final Thread thread;

    private ReconnectWatch(String name, Client client, Duration min, Duration max) {
        this.client = client;
        this.minMs = min.toMillis();
        this.maxMs = max.toMillis();
        this.thread = Thread.ofVirtual().name("reconnect-" + name).unstarted(this::run);
    }

    /** A step that may throw (a connect). */
    @FunctionalInterface
    public interface Step {
        void run() throws Exception;
    }

    /** A client from two functions; {@code connect} runs only while {@code closed} says false. */
    public static Client client(java.util.function.BooleanSupplier closed, java.util.function.BooleanSupplier connected, Step connect) {
        return new Client() {
            @Override
            public boolean isConnected() {
                return closed.getAsBoolean() || connected.getAsBoolean();
            }

            @Override
            public void reconnect() throws Exception {
                if (!closed.getAsBoolean()) {
                    connect.run();
                }
            }
        };
    }

    public static ReconnectWatch start(String name, Client client, Duration min, Duration max) {
        ReconnectWatch w = new ReconnectWatch(name, client, min, max);
        w.thread.start();
        return w;
    }

    private void run() {
        long delay = minMs;
        long next = 0;
        while (!closed) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                return;
            }
            if (closed) {
                return;
            }
            long now = System.nanoTime() / 1_000_000;
            if (client.isConnected()) {
                delay = minMs;
                next = 0;
                continue;
            }
            if (next == 0) {
                next = now + delay;
                continue;
            }
            if (now >= next) {
                try {
                    client.reconnect();
                } catch (Exception e) {
                    // an attempt is already running, or this one failed at once: the next try comes after the delay
                }
                delay = Math.min(maxMs, delay * 2);
                next = now + delay + ThreadLocalRandom.current().nextLong(Math.max(1, delay / 4));
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
