package io.edgefleet.transport.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The JVM's and process's own meters, Prometheus-named: Micrometer's binders ({@code jvm_memory_used_bytes},
 * {@code jvm_gc_pause_seconds}, {@code jvm_threads_live_threads}, {@code process_cpu_usage}, {@code system_cpu_logical_processors}, {@code process_uptime_seconds},
 * {@code process_open_fds} ...), each with its HELP text and base unit, bound to the Micrometer registry under Helidon's.
 * They replace {@code helidon-metrics-system-meters}, whose MicroProfile names ({@code classloader.loadedClasses.count},
 * {@code memory.usedHeap}) come out camelCase and fail {@code promtool check metrics}.
 *
 * <p>Bound once per process ({@link #bind} is idempotent): agent and control plane tests share one JVM and one
 * registry. {@link JvmGcMetrics} is left open for the life of the process on purpose (it listens to GC notifications).
 *
 * <p><b>Lock order.</b> {@link JvmGcMetrics} creates its {@code jvm.gc.pause} timer for each new (gc, action, cause) on the
 * JVM's "Notification Thread", through Micrometer: Micrometer's meter lock, then (its meter-added listener) the lock of
 * Helidon's registry. Every {@code getOrCreate} through Helidon's API takes them the other way round, so a collection that
 * ended while the agent registered a meter deadlocked both threads (seen: the agent never became ready, 2026-11-30). A
 * listener of this class runs before JvmGcMetrics' and creates a new timer under Helidon's registry lock first
 * ({@link #gcLockOrder}), so both orders agree and JvmGcMetrics finds the timer there.
 */
public final class JvmMeters {
    private static final AtomicBoolean BOUND = new AtomicBoolean();

    private JvmMeters() {
    }

    /** Binds the JVM meters to the Micrometer registry under {@code helidon} (Helidon's {@code unwrap}), once per process. */
    public static void bind(io.helidon.metrics.api.MeterRegistry helidon) {
        if (!BOUND.compareAndSet(false, true)) {
            return;
        }
        synchronized (BINDING) {
            bindAll(helidon);
        }
    }

    /** Held while the meters are bound: a GC notification waits for it, so that it never takes Helidon's lock first meanwhile. */
    private static final Object BINDING = new Object();

    private static void bindAll(io.helidon.metrics.api.MeterRegistry helidon) {
        MeterRegistry registry = helidon.unwrap(MeterRegistry.class);
        // two of ProcessorMetrics' names break the Prometheus rules: process.cpu.time counts nanoseconds
        // (process_cpu_time_ns_total: no abbreviated units; process_cpu_usage says the same as a ratio) and
        // system.cpu.count becomes system_cpu_count, a gauge with a histogram's "_count" suffix
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")));
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                return id.getName().equals("system.cpu.count") ? id.withName("system.cpu.logical.processors") : id;
            }
        });
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        // before JvmGcMetrics' listener (listeners of an emitter run in the order they were added, on the one notification
        // thread): creates the timer that JvmGcMetrics is about to record, in Helidon's lock order
        gcLockOrder(helidon).ifPresent(rw -> gcListeners(new TimerFirst(registry, rw.writeLock())));
        @SuppressWarnings("resource") // process lifetime: see the class comment
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    /**
     * The lock of Helidon's Micrometer-backed registry ({@code MMeterRegistry.lock}, Helidon 4.x), whose write lock its
     * {@code getOrCreate} holds while it registers with Micrometer, and which {@link #bind} makes GC notifications take
     * first; empty (with a warning) when the registry has no such field, e.g. another provider or a Helidon that changed
     * it: then GC notifications take no lock, as before. Public for the test that proves the order.
     */
    public static java.util.Optional<java.util.concurrent.locks.ReentrantReadWriteLock> gcLockOrder(io.helidon.metrics.api.MeterRegistry helidon) {
        for (Class<?> c = helidon.getClass(); c != null; c = c.getSuperclass()) {
            for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                if (java.util.concurrent.locks.ReadWriteLock.class.isAssignableFrom(f.getType())
                        && !java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                    try {
                        f.setAccessible(true);
                        // only a reentrant lock: the listener after JvmGcMetrics' must be able to tell that it holds it
                        if (f.get(helidon) instanceof java.util.concurrent.locks.ReentrantReadWriteLock rw) {
                            return java.util.Optional.of(rw);
                        }
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        // no usable lock: warn below
                    }
                }
            }
        }
        System.getLogger(JvmMeters.class.getName()).log(System.Logger.Level.WARNING,
                "{0} has no registry lock to order GC notifications by: a collection that ends while a meter is registered may deadlock",
                helidon.getClass().getName());
        return java.util.Optional.empty();
    }

    private static void gcListeners(javax.management.NotificationListener listener) {
        javax.management.NotificationFilter gcOnly = n -> n.getType().equals(
                com.sun.management.GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION);
        for (java.lang.management.GarbageCollectorMXBean bean : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            if (bean instanceof javax.management.NotificationEmitter emitter) {
                emitter.addNotificationListener(listener, gcOnly, null);
            }
        }
    }

    /**
     * Creates the timer that {@link JvmGcMetrics} records a collection in ({@code jvm.gc.pause}, or
     * {@code jvm.gc.concurrent.phase.time} for a concurrent phase, tagged {@code gc}, {@code action}, {@code cause}), when it
     * is new, under Helidon's registry lock: then JvmGcMetrics finds it and creates nothing on the notification thread.
     * Waits while {@link #bind} runs (which takes Micrometer's lock before Helidon's).
     */
    private record TimerFirst(MeterRegistry registry, java.util.concurrent.locks.Lock helidonLock)
            implements javax.management.NotificationListener {
        @Override
        public void handleNotification(javax.management.Notification n, Object handback) {
            synchronized (BINDING) {
                // nothing: bound by now
            }
            var info = com.sun.management.GarbageCollectionNotificationInfo.from(
                    (javax.management.openmbean.CompositeData) n.getUserData());
            String name = info.getGcName();
            String cause = info.getGcCause();
            boolean concurrent = "No GC".equals(cause) || "Shenandoah Cycles".equals(name) // Micrometer's JvmMemory.isConcurrentPhase
                    || name.startsWith("ZGC") && name.endsWith("Cycles") || name.startsWith("GPGC") && !name.endsWith("Pauses");
            String meter = concurrent ? "jvm.gc.concurrent.phase.time" : "jvm.gc.pause";
            io.micrometer.core.instrument.Tags tags = io.micrometer.core.instrument.Tags.of("gc", name, "action", info.getGcAction(), "cause", cause);
            if (registry.find(meter).tags(tags).timer() != null) {
                return;
            }
            helidonLock.lock();
            try {
                io.micrometer.core.instrument.Timer.builder(meter).tags(tags)
                        .description(concurrent ? "Time spent in concurrent phase" : "Time spent in GC pause").register(registry);
            } finally {
                helidonLock.unlock();
            }
        }
    }
}
