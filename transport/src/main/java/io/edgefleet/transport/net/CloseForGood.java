package io.edgefleet.transport.net;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Closes an MQTT client that may be in the middle of a reconnect. Paho 1.2.5 refuses
 * {@code close()} while a connect is in progress; a client left that way reconnects later under
 * the same client id and takes the session over from its successor. So: disconnect, force the
 * connection down, close, and retry until the attempt in progress has ended or {@code limit} passed.
 * Library-neutral so that the agent and the control plane share it.
 */
public final class CloseForGood {
    /** One step that may fail. */
    @FunctionalInterface
    public interface Step {
        void run() throws Exception;
    }

    private CloseForGood() {
    }

    /**
     * @param disconnect a polite disconnect (skipped when it fails)
     * @param force the connection dropped without a DISCONNECT (skipped when it fails)
     * @param close the final close; retried while it fails
     * @return null when closed, else the last failure of {@code close}
     */
    public static Exception close(Step disconnect, Step force, Step close, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            try {
                disconnect.run();
            } catch (Exception e) {
                // forced next
            }
            try {
                force.run();
            } catch (Exception e) {
                // not connected
            }
            try {
                close.run();
                return null;
            } catch (Exception e) {
                if (System.nanoTime() > deadline) {
                    return e;
                }
                try {
                    TimeUnit.MILLISECONDS.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return e;
                }
            }
        }
    }
}
