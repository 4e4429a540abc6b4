package io.edgefleet.agent;

import java.util.ArrayList;
import java.util.List;

/**
 * One busy-looping platform thread per core while open: the "machine that is also busy with other
 * work" of issue 14, made on purpose. Closing stops and joins them.
 */
final class BusyCores implements AutoCloseable {
    private volatile boolean running = true;
    private final List<Thread> threads = new ArrayList<>();
    /** Where the loops' arithmetic ends up, so the JIT cannot drop it. */
    static volatile long sink;

    BusyCores() {
        int cores = Runtime.getRuntime().availableProcessors();
        for (int i = 0; i < cores; i++) {
            Thread t = Thread.ofPlatform().daemon().name("busy-core-" + i).unstarted(() -> {
                long x = 1;
                while (running) {
                    for (int k = 0; k < 10_000; k++) {
                        x = x * 6364136223846793005L + 1442695040888963407L;
                    }
                }
                sink = x;
            });
            threads.add(t);
            t.start();
        }
    }

    int threads() {
        return threads.size();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(10_000);
        }
    }
}
