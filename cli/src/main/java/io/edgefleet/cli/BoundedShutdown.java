package io.edgefleet.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The shutdown hook of a long-running command ({@code agent}, {@code cloud}): runs the component's
 * close on its own thread and waits for it at most {@code limit}. Each close step has its own
 * bound; this is the backstop that makes SIGTERM end the process in time whatever a broker or a
 * native call is doing. Once the hook returns the JVM halts (daemon or not, other threads do not
 * hold it), so a close still running then is cut short, with one line saying so.
 */
final class BoundedShutdown {
    private BoundedShutdown() {
    }

    /**
     * Registers the hook and returns a latch that opens when the close finished or was given up.
     *
     * @param name what closes, for the thread name and the message
     * @param limit how long the close may take
     */
    static CountDownLatch register(String name, Runnable close, Duration limit) {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Thread closer = Thread.ofPlatform().name(name + "-close").daemon().start(() -> {
                try {
                    close.run();
                } finally {
                    stopped.countDown();
                }
            });
            try {
                if (!stopped.await(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                    System.err.println("edgefleet " + name + ": shutdown took longer than " + limit.toMillis()
                            + " ms (still in " + closer.getState() + "); exiting without waiting for the rest");
                    stopped.countDown();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, name + "-shutdown"));
        return stopped;
    }
}
