package io.edgefleet.cloud.ingest;

import io.edgefleet.protocols.messages.TelemetryBatch;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces each batch, as the device sent it, to {@code edgefleet.telemetry.v1} keyed by
 * {@code fleet/device} (so one device's batches stay in order on one partition) with an idempotent
 * producer ({@code acks=all}), and acknowledges the MQTT message only in the send's success
 * callback. A send that fails (Kafka away past the delivery timeout) is sent again after a backoff,
 * still unacknowledged to the broker; nothing is dropped.
 */
public final class KafkaSink implements TelemetrySink {
    private static final System.Logger LOG = System.getLogger(KafkaSink.class.getName());

    private final KafkaProducer<String, byte[]> producer;
    private final String topic;
    private final IngestStats stats;
    private final AtomicInteger pending = new AtomicInteger();
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "kafka-sink-retry");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;

    public KafkaSink(KafkaSettings settings, IngestStats stats) {
        KafkaTopics.ensure(settings);
        Map<String, Object> p = settings.base();
        p.put("enable.idempotence", true);
        p.put("acks", "all");
        p.put("linger.ms", 2);
        p.put("compression.type", "lz4");
        p.put("max.in.flight.requests.per.connection", 5);
        p.put("retries", Integer.MAX_VALUE);
        p.put("delivery.timeout.ms", 60_000);
        p.put("request.timeout.ms", 15_000);
        p.put("reconnect.backoff.max.ms", 2000);
        p.put("client.id", "edgefleet-ingest");
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        this.topic = settings.telemetryTopic();
        this.stats = stats;
    }

    @Override
    public void submit(TelemetryBatch batch, byte[] raw, Ack ack) {
        pending.incrementAndGet();
        send(batch.fleet() + "/" + batch.device(), raw, ack, 200);
    }

    private void send(String key, byte[] raw, Ack ack, long backoff) {
        if (closed) {
            pending.decrementAndGet();
            return; // unacknowledged: redelivered by the broker to the next ingest
        }
        producer.send(new ProducerRecord<>(topic, key, raw), (meta, error) -> {
            if (error == null) {
                stats.produced.incrementAndGet();
                pending.decrementAndGet();
                try {
                    ack.ack();
                } catch (RuntimeException e) {
                    // produced already; unacknowledged, the broker redelivers it and the consumer's dedupe drops it
                    LOG.log(System.Logger.Level.INFO, "acknowledgement of {0} failed: {1}", key, e.toString());
                }
                return;
            }
            stats.produceRetries.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "Kafka did not take the batch of {0} ({1}); sending again in {2} ms", key,
                    error.getMessage(), backoff);
            retries.schedule(() -> send(key, raw, ack, Math.min(backoff * 2, 10_000)), backoff, TimeUnit.MILLISECONDS);
        });
    }

    @Override
    public int pending() {
        return pending.get();
    }

    @Override
    public void close() {
        closed = true;
        retries.shutdownNow();
        producer.close(java.time.Duration.ofSeconds(5));
    }
}
