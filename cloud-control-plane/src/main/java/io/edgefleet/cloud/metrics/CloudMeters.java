package io.edgefleet.cloud.metrics;

import io.edgefleet.cloud.ingest.IngestStats;
import io.edgefleet.transport.metrics.JvmMeters;
import io.helidon.metrics.api.DistributionSummary;
import io.helidon.metrics.api.FunctionalCounter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Tag;
import io.helidon.metrics.api.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * The control plane's request-path meters on {@code /observe/metrics}, Prometheus-named (base units, {@code _total}
 * counters, HELP on every family; checked by {@code promtool check metrics}): ingest counters and lag, inference latency
 * per route and model, batch sizes, queue depth, and the JVM's own meters ({@link JvmMeters}). The fleet-wide gauges
 * (devices, rollouts, registry, resources) are {@link FleetMeters}. The full list is in {@code docs/control-plane.md},
 * section "Metrics".
 *
 * <p>Thread-safe; the record methods are called on request and ingest threads.
 */
public final class CloudMeters {
    /** Inference latency buckets, 1 ms to 10 s. */
    static final Duration[] LATENCY_BUCKETS = {Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)};
    /** Ingest lag buckets, 100 ms to 1 h: a batch waits at least its window on the agent, longer across a broker outage. */
    static final Duration[] LAG_BUCKETS = {Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5),
        Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(5),
        Duration.ofMinutes(15), Duration.ofHours(1)};

    private final MeterRegistry registry;
    private final AtomicLong lastLagMillis = new AtomicLong();

    public CloudMeters(MeterRegistry registry) {
        this.registry = registry;
        JvmMeters.bind(registry);
    }

    /** Ingest counters (cumulative since start, as counters) and the batches waiting for their producer's acknowledgement. */
    public void ingest(IngestStats stats, LongSupplier pending) {
        counter("edgefleet.cloud.ingest.received.messages", stats.received::get, "Telemetry messages taken from the broker");
        counter("edgefleet.cloud.ingest.rejected.messages", stats.rejected::get,
                "Telemetry messages refused as malformed or implausible (acknowledged, logged, never retried)");
        counter("edgefleet.cloud.ingest.produced.batches", stats.produced::get, "Telemetry batches produced to Kafka and acknowledged by it");
        counter("edgefleet.cloud.ingest.produce.retries", stats.produceRetries::get, "Kafka produce attempts that failed and were retried");
        counter("edgefleet.cloud.ingest.applied.batches", stats.applied::get, "Telemetry batches folded into the aggregates");
        counter("edgefleet.cloud.ingest.duplicate.batches", stats.duplicates::get, "Redelivered telemetry batches dropped by (device, sequence)");
        counter("edgefleet.cloud.ingest.requests", stats.requests::get, "Inference requests counted in applied telemetry batches");
        registry.getOrCreate(Gauge.builder("edgefleet.cloud.ingest.pending.batches", pending::getAsLong)
                .description("Telemetry batches taken from the broker and not yet applied"));
        registry.getOrCreate(Gauge.builder("edgefleet.cloud.ingest.last.lag", () -> lastLagMillis.get() / 1000.0).baseUnit("seconds")
                .description("Ingest lag of the last telemetry batch applied: when it was applied minus when the agent sent it"));
    }

    /** One batch's ingest lag (applied minus sent); called on the ingest thread. */
    public void ingestLag(Duration lag) {
        lastLagMillis.set(lag.toMillis());
        registry.getOrCreate(Timer.builder("edgefleet.cloud.ingest.lag")
                .description("Time from an agent sending a telemetry batch to the control plane applying it (agent and control-plane clocks)")
                .buckets(LAG_BUCKETS).percentiles(new double[0])).record(lag);
    }

    /** One answered inference request; {@code route} is the route's pattern, {@code model} a model the registry serves. */
    public void inference(String route, String model, Duration took) {
        registry.getOrCreate(Timer.builder("edgefleet.cloud.inference.duration")
                .description("Time from reading an inference request to sending its answer, by route and model")
                .buckets(LATENCY_BUCKETS).percentiles(new double[0])
                .tags(List.of(Tag.create("route", route), Tag.create("model", model)))).record(took);
    }

    /** The inference role's queue depth gauge and batch size histogram; returns the batch size recorder. */
    public java.util.function.IntConsumer inference(IntSupplier queued) {
        // the name predates issue 17: the queue-depth autoscaler (deploy/k8s/overlays/queue-depth-hpa) reads it
        registry.getOrCreate(Gauge.builder("edgefleet.cloud.inference.queued", queued::getAsInt)
                .description("Inference requests waiting in the cloud's batching queues"));
        DistributionSummary sizes = registry.getOrCreate(DistributionSummary.builder("edgefleet.cloud.inference.batch.size")
                .description("Requests per batch the cloud's models ran")
                .distributionStatisticsConfig(io.helidon.metrics.api.DistributionStatisticsConfig.builder()
                        .buckets(1, 2, 4, 8, 16, 32, 64, 128, 256).percentiles(new double[0])));
        return sizes::record;
    }

    /**
     * The leadership gauges of one replica (issue 18), tagged {@code replica}: {@code edgefleet_cloud_leader} (1 while
     * this replica runs the rollout engine and the other once-per-fleet work, else 0) and
     * {@code edgefleet_cloud_leader_token} (the fencing token it holds, 0 when none). Returns a closer that removes both
     * (several control planes may share one JVM's registry in tests).
     */
    public AutoCloseable leadership(String replica, java.util.function.BooleanSupplier leader, LongSupplier token) {
        List<Tag> tags = List.of(Tag.create("replica", replica));
        Gauge<Integer> l = registry.getOrCreate(Gauge.builder("edgefleet.cloud.leader", () -> leader.getAsBoolean() ? 1 : 0).tags(tags)
                .description("1 while this control-plane replica leads (runs rollouts, sweeps and retention jobs), else 0"));
        Gauge<Long> t = registry.getOrCreate(Gauge.builder("edgefleet.cloud.leader.token", token::getAsLong).tags(tags)
                .description("The leader lease's fencing token this replica holds; 0 when it does not lead or runs alone on SQLite"));
        return () -> {
            registry.remove(l);
            registry.remove(t);
        };
    }

    private void counter(String name, LongSupplier value, String help) {
        registry.getOrCreate(FunctionalCounter.builder(name, value, v -> v.getAsLong()).description(help));
    }
}
