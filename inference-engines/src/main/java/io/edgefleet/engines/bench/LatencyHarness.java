package io.edgefleet.engines.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs calls on platform threads, one list entry per thread, all released together after their
 * warm-up, and reports latency percentiles and throughput: the measuring part of every EdgeFleet
 * benchmark, so that all of them measure the same way.
 */
public final class LatencyHarness {
    /** One call to measure; may throw, which ends the run with that failure. */
    public interface Call {
        void call() throws Exception;
    }

    /** Latency percentiles in microseconds and calls per second over all threads. */
    public record Stats(double p50Micros, double p99Micros, double callsPerSecond) {
    }

    private LatencyHarness() {
    }

    /**
     * @param calls one call per thread
     * @throws IllegalStateException naming {@code what} when a call fails
     */
    public static Stats run(String what, List<Call> calls, int warmup, int iterations) {
        int threads = calls.size();
        long[][] lat = new long[threads][iterations];
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts.add(Thread.ofPlatform().name("bench-" + t).start(() -> {
                try {
                    Call c = calls.get(id);
                    for (int i = 0; i < warmup; i++) {
                        c.call();
                    }
                    ready.countDown();
                    go.await();
                    for (int i = 0; i < iterations; i++) {
                        long t0 = System.nanoTime();
                        c.call();
                        lat[id][i] = System.nanoTime() - t0;
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    ready.countDown();
                }
            }));
        }
        try {
            ready.await();
            long start = System.nanoTime();
            go.countDown();
            for (Thread th : ts) {
                th.join();
            }
            long wall = System.nanoTime() - start;
            if (failure.get() != null) {
                throw new IllegalStateException(what + " failed: " + failure.get(), failure.get());
            }
            long[] all = Arrays.stream(lat).flatMapToLong(Arrays::stream).sorted().toArray();
            return new Stats(all[all.length / 2] / 1e3, all[(int) Math.min(all.length - 1, Math.ceil(all.length * 0.99) - 1)] / 1e3,
                    all.length / (wall / 1e9));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
