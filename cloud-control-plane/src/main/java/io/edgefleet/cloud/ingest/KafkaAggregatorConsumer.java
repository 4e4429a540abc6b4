package io.edgefleet.cloud.ingest;

import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.TelemetryBatch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The aggregating consumer (group {@code edgefleet-aggregator}; several replicas split the
 * partitions): each poll is folded into the aggregates in one transaction, then the offsets are
 * committed. A crash between the two redelivers the poll, and the (device, sequence) dedupe in the
 * same transaction drops what was already counted: effectively exactly once.
 */
public final class KafkaAggregatorConsumer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KafkaAggregatorConsumer.class.getName());

    private final KafkaConsumer<String, byte[]> consumer;
    private final Aggregator aggregator;
    private final IngestStats stats;
    private final MessageCodec json = MessageCodec.json();
    private final Thread thread;
    private final Runnable beforeCommit;
    private volatile boolean closed;

    public KafkaAggregatorConsumer(KafkaSettings settings, Aggregator aggregator, IngestStats stats) {
        this(settings, aggregator, stats, () -> { });
    }

    /**
     * @param beforeCommit runs on the consumer thread after a poll is stored and before its offsets
     *     are committed: the window in which a crash makes Kafka redeliver what is already counted
     *     (tests throw an {@link Error} here to crash the consumer exactly there)
     */
    KafkaAggregatorConsumer(KafkaSettings settings, Aggregator aggregator, IngestStats stats, Runnable beforeCommit) {
        this.beforeCommit = beforeCommit;
        KafkaTopics.ensure(settings);
        Map<String, Object> p = settings.base();
        p.put("group.id", settings.consumerGroup());
        p.put("enable.auto.commit", false);
        p.put("auto.offset.reset", "earliest");
        p.put("max.poll.records", 1000);
        p.put("isolation.level", "read_committed");
        p.put("reconnect.backoff.max.ms", 2000);
        p.put("client.id", "edgefleet-aggregator");
        this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        this.aggregator = aggregator;
        this.stats = stats;
        consumer.subscribe(List.of(settings.telemetryTopic()));
        this.thread = Thread.ofPlatform().name("kafka-aggregator").daemon().start(this::run);
    }

    private void run() {
        try {
            loop();
        } finally {
            // Also after an Error: leave the group at once (no offsets are committed here, as
            // enable.auto.commit is off) so the partitions move to another replica without waiting
            // for the session timeout.
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void loop() {
        while (!closed) {
            try {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
                if (records.isEmpty()) {
                    continue;
                }
                List<TelemetryBatch> batches = new ArrayList<>(records.count());
                for (ConsumerRecord<String, byte[]> r : records) {
                    try {
                        batches.add(json.decode(r.value(), TelemetryBatch.class));
                    } catch (ProtocolException e) {
                        stats.rejected.incrementAndGet();
                        LOG.log(System.Logger.Level.WARNING, "skipping malformed record at {0}-{1}@{2}: {3}", r.topic(), r.partition(),
                                r.offset(), e.getMessage());
                    }
                }
                applyWithRetry(batches);
                beforeCommit.run();
                try {
                    consumer.commitSync(Duration.ofSeconds(30));
                } catch (RuntimeException e) {
                    if (e instanceof WakeupException) {
                        throw e;
                    }
                    // Redelivered after a rebalance or restart and dropped by the dedupe: no harm.
                    LOG.log(System.Logger.Level.INFO, "offset commit failed ({0}); the batches will be deduplicated on redelivery", e.getMessage());
                }
            } catch (WakeupException e) {
                if (closed) {
                    break;
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "Kafka consumer: {0}", e.toString());
                sleep(1000);
            }
        }
    }

    private void applyWithRetry(List<TelemetryBatch> batches) {
        long backoff = 100;
        while (true) {
            try {
                aggregator.apply(batches);
                return;
            } catch (RuntimeException e) {
                if (closed) {
                    throw new WakeupException();
                }
                LOG.log(System.Logger.Level.WARNING, "cannot store {0} batches ({1}); retrying", batches.size(), e.getMessage());
                sleep(backoff);
                backoff = Math.min(backoff * 2, 5000);
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the consumer thread is still running (false after {@link #close()} or a crash). */
    public boolean isRunning() {
        return thread.isAlive();
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
