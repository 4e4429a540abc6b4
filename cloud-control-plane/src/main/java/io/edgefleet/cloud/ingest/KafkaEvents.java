package io.edgefleet.cloud.ingest;

import io.edgefleet.cloud.store.Event;
import io.edgefleet.protocols.Json;
import io.edgefleet.protocols.DecodeLimits;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Copies every stored event to {@code edgefleet.events.v1}, keyed by its subject, as JSON. The
 * database is the record; Kafka is the feed for other systems, so a failed send is logged, not retried
 * forever.
 */
public final class KafkaEvents implements Consumer<Event>, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(KafkaEvents.class.getName());
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = Json.jsonMapper(DecodeLimits.DEFAULT);

    private final KafkaProducer<String, byte[]> producer;
    private final String topic;

    public KafkaEvents(KafkaSettings settings) {
        KafkaTopics.ensure(settings);
        Map<String, Object> p = settings.base();
        p.put("enable.idempotence", true);
        p.put("acks", "all");
        p.put("linger.ms", 5);
        p.put("delivery.timeout.ms", 120_000);
        p.put("client.id", "edgefleet-events");
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        this.topic = settings.eventsTopic();
    }

    @Override
    public void accept(Event e) {
        byte[] value;
        try {
            value = JSON.writeValueAsBytes(e);
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
        producer.send(new ProducerRecord<>(topic, e.subject(), value), (m, ex) -> {
            if (ex != null) {
                LOG.log(System.Logger.Level.WARNING, "event {0} ({1}) not produced to Kafka: {2}", e.id(), e.kind(), ex.getMessage());
            }
        });
    }

    @Override
    public void close() {
        producer.close(java.time.Duration.ofSeconds(5));
    }
}
