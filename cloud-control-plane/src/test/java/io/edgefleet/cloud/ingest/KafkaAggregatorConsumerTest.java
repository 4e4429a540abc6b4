package io.edgefleet.cloud.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.store.Aggregate;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.TelemetryRepository;
import io.edgefleet.protocols.messages.LatencyPercentiles;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import io.edgefleet.testkit.KafkaExtension;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The aggregating consumer against a real KRaft broker and a real SQLite store, in the two
 * situations its exactly-once claim rests on: a crash after the aggregates are committed but before
 * the offsets are, and partitions moving between replicas (rebalances) while batches keep coming.
 * Each test has its own topic and consumer group, so nothing carries over between tests.
 */
class KafkaAggregatorConsumerTest {
    @RegisterExtension
    static final KafkaExtension KAFKA = new KafkaExtension();
    private static final int REQUESTS_PER_BATCH = 7;
    private static final Instant WINDOW = Instant.parse("2026-11-29T12:00:00Z");

    @TempDir
    Path dir;
    private CloudStore store;
    private TelemetryRepository repo;
    private KafkaProducer<String, byte[]> producer;

    /** Thrown on the consumer thread to crash it between the aggregate and the offset commit. */
    static final class SimulatedCrash extends Error {
        SimulatedCrash() {
            super("simulated crash between the aggregate commit and the offset commit", null, false, false);
        }
    }

    @BeforeEach
    void open() {
        store = CloudStore.open(dir);
        repo = new TelemetryRepository(store, Duration.ofMinutes(1));
    }

    @AfterEach
    void closeAll() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        store.close();
    }

    private KafkaSettings settings(String name) {
        KafkaSettings s = new KafkaSettings(KAFKA.broker().bootstrapServers(), "telemetry-" + name, "events-" + name, "aggregator-" + name, 3,
                (short) 1, Map.of());
        KafkaTopics.ensure(s);
        Map<String, Object> p = s.base();
        p.put("acks", "all");
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        return s;
    }

    private void produce(KafkaSettings s, String device, long sequence) {
        TelemetryRecord r = new TelemetryRecord("cls", "1", WINDOW, WINDOW.plusSeconds(1), REQUESTS_PER_BATCH, 0,
                new LatencyPercentiles(1, 2, 3, 4), OptionalDouble.empty(), 0, 0, 0, Map.of());
        TelemetryBatch b = new TelemetryBatch("fleet", device, sequence, WINDOW, List.of(r));
        try {
            producer.send(new ProducerRecord<>(s.telemetryTopic(), "fleet/" + device, MessageCodec.json().encode(b))).get();
        } catch (Exception e) {
            throw new AssertionError("produce " + device + "#" + sequence, e);
        }
    }

    private long stored() {
        Aggregate a = repo.modelTotal("cls", "1", WINDOW.minusSeconds(3600), WINDOW.plusSeconds(3600));
        return a.count();
    }

    private static void await(Duration limit, String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + limit + " waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    @Test
    void a_crash_between_the_aggregate_commit_and_the_offset_commit_redelivers_and_the_dedupe_counts_each_batch_once() throws Exception {
        KafkaSettings s = settings("crash");
        for (int seq = 1; seq <= 10; seq++) {
            for (String d : List.of("d1", "d2", "d3")) {
                produce(s, d, seq);
            }
        }
        IngestStats crashedStats = new IngestStats();
        AtomicBoolean crashed = new AtomicBoolean();
        KafkaAggregatorConsumer first = new KafkaAggregatorConsumer(s, new Aggregator(repo, crashedStats, Clock.systemUTC()), crashedStats, () -> {
            crashed.set(true);
            throw new SimulatedCrash();
        });
        try {
            await(Duration.ofSeconds(60), "the first consumer to store a poll and crash", () -> crashed.get() && !first.isRunning());
        } finally {
            first.close();
        }
        long storedBeforeRestart = stored();
        assertThat(crashedStats.applied.get()).as("the crashed consumer stored a poll").isPositive();
        assertThat(storedBeforeRestart).as("what it stored is committed in the store").isEqualTo(crashedStats.applied.get() * REQUESTS_PER_BATCH);

        IngestStats stats = new IngestStats();
        try (KafkaAggregatorConsumer second = new KafkaAggregatorConsumer(s, new Aggregator(repo, stats, Clock.systemUTC()), stats)) {
            await(Duration.ofSeconds(60), "the replacement to read all 30 batches", () -> stats.applied.get() + stats.duplicates.get() >= 30);
            assertThat(stats.duplicates.get()).as("every batch of the uncommitted poll came again and was dropped")
                    .isEqualTo(crashedStats.applied.get());
            assertThat(crashedStats.applied.get() + stats.applied.get()).as("each batch stored exactly once").isEqualTo(30);
            assertThat(stored()).isEqualTo(30L * REQUESTS_PER_BATCH);
        }
    }

    @Test
    void partitions_moving_between_replicas_mid_stream_lose_and_double_count_nothing() throws Exception {
        KafkaSettings s = settings("rebalance");
        List<String> devices = List.of("d1", "d2", "d3", "d4", "d5", "d6");
        AtomicLong produced = new AtomicLong();
        long[] sequence = new long[devices.size()];
        Runnable burst = () -> {
            for (int i = 0; i < devices.size(); i++) {
                produce(s, devices.get(i), ++sequence[i]);
                produced.incrementAndGet();
            }
        };
        IngestStats statsA = new IngestStats();
        IngestStats statsB = new IngestStats();
        KafkaAggregatorConsumer a = new KafkaAggregatorConsumer(s, new Aggregator(repo, statsA, Clock.systemUTC()), statsA);
        KafkaAggregatorConsumer b = null;
        try {
            for (int i = 0; i < 5; i++) {
                burst.run();
            }
            await(Duration.ofSeconds(60), "replica A to take the first batches", () -> statsA.applied.get() > 0);
            b = new KafkaAggregatorConsumer(s, new Aggregator(repo, statsB, Clock.systemUTC()), statsB); // rebalance: A and B split
            for (int i = 0; i < 20 && statsB.applied.get() == 0; i++) {
                burst.run();
                Thread.sleep(200);
            }
            KafkaAggregatorConsumer bb = b;
            await(Duration.ofSeconds(60), "replica B to take partitions after it joined", () -> statsB.applied.get() > 0);
            a.close(); // rebalance: B takes everything
            long beforeLeaving = statsB.applied.get();
            for (int i = 0; i < 5; i++) {
                burst.run();
            }
            await(Duration.ofSeconds(60), "all " + produced + " batches stored",
                    () -> statsA.applied.get() + statsB.applied.get() >= produced.get() && bb.isRunning());
            assertThat(statsB.applied.get()).as("B alone served the batches after A left").isGreaterThanOrEqualTo(beforeLeaving + 5L * devices.size());
            assertThat(statsA.applied.get() + statsB.applied.get()).as("each batch stored exactly once").isEqualTo(produced.get());
            assertThat(stored()).isEqualTo(produced.get() * REQUESTS_PER_BATCH);
        } finally {
            a.close();
            if (b != null) {
                b.close();
            }
        }
    }
}
