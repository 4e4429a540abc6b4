package io.edgefleet.cloud.ingest;

import java.util.HashMap;
import java.util.Map;

/**
 * Kafka connection and topics.
 *
 * @param bootstrapServers {@code host:port,...}
 * @param partitions partitions of the telemetry topic when the control plane creates it
 * @param replicationFactor replication of the topics it creates (1 for a single broker)
 * @param extra any further client properties (security, timeouts), applied to every client
 */
public record KafkaSettings(String bootstrapServers, String telemetryTopic, String eventsTopic, String consumerGroup, int partitions,
        short replicationFactor, Map<String, String> extra) {
    public static final String TELEMETRY_TOPIC = "edgefleet.telemetry.v1";
    public static final String EVENTS_TOPIC = "edgefleet.events.v1";

    public KafkaSettings {
        extra = Map.copyOf(extra);
    }

    public static KafkaSettings of(String bootstrapServers) {
        return new KafkaSettings(bootstrapServers, TELEMETRY_TOPIC, EVENTS_TOPIC, "edgefleet-aggregator", 6, (short) 1, Map.of());
    }

    Map<String, Object> base() {
        Map<String, Object> m = new HashMap<>(extra);
        m.put("bootstrap.servers", bootstrapServers);
        return m;
    }
}
