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
        @SuppressWarnings("resource") // process lifetime: see the class comment
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }
}
