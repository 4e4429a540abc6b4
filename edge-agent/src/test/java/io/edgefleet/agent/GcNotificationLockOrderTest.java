package io.edgefleet.agent;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.edgefleet.transport.metrics.JvmMeters;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.service.registry.Services;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A collection that ends while a meter is being registered through Helidon's API must not deadlock (2026-11-30: the
 * agent never became ready, its main thread in Helidon's {@code getOrCreate} waiting for Micrometer's meter lock, the
 * JVM's notification thread in Micrometer's {@code JvmGcMetrics} holding that lock and waiting for Helidon's).
 * Real registry, real collections: this test holds Helidon's registry lock as {@code getOrCreate} does, makes the JVM
 * collect, and checks that the GC notification, about to create the collection's {@code jvm.gc.pause} timer, now waits
 * for Helidon's lock before it takes Micrometer's, so that registering a new meter meanwhile (what deadlocked) still goes
 * through.
 */
class GcNotificationLockOrderTest {
    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a deadlock fails the test instead of hanging the build
    void gcNotificationsTakeHelidonsRegistryLockBeforeMicrometers() throws Exception {
        MeterRegistry helidon = Services.get(MeterRegistry.class);
        JvmMeters.bind(helidon);
        ReentrantReadWriteLock lock = JvmMeters.gcLockOrder(helidon).orElseThrow(
                () -> new AssertionError("Helidon's registry has no lock to order GC notifications by (a Helidon upgrade?)"));
        io.micrometer.core.instrument.MeterRegistry micrometer = helidon.unwrap(io.micrometer.core.instrument.MeterRegistry.class);
        // the timer of a System.gc() may exist from an earlier collection in this JVM: the next one must create it again
        micrometer.find("jvm.gc.pause").tag("cause", "System.gc()").meters().forEach(micrometer::remove);
        lock.writeLock().lock(); // as Helidon's getOrCreate holds it while it registers with Micrometer
        try {
            CompletableFuture.runAsync(System::gc);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!lock.hasQueuedThreads() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(lock.hasQueuedThreads(), "the GC notification did not wait for Helidon's registry lock");
            // What deadlocked: a new meter registered while Helidon's lock is held needs Micrometer's lock, which the
            // notification thread held. Now it waits for Helidon's lock without holding Micrometer's.
            io.micrometer.core.instrument.Counter.builder("edgefleet.test.gc.order." + System.nanoTime()).register(micrometer);
        } finally {
            lock.writeLock().unlock();
        }
        // the notification goes on once the lock is free and records the collection
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (micrometer.find("jvm.gc.pause").tag("cause", "System.gc()").timer() == null && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(10);
        }
        assertTrue(micrometer.find("jvm.gc.pause").tag("cause", "System.gc()").timer() != null,
                "the collection was not recorded after the lock was released");
    }
}
