package io.edgefleet.transport.mqtt;

import io.edgefleet.protocols.topics.Topic;
import java.util.Objects;
import java.util.Optional;

/**
 * One message the broker delivered to an {@link MqttSession}.
 *
 * @param topic the topic name as received (reply topics under {@code ef/replies/} are only here)
 * @param parsed the topic as an EdgeFleet device topic ({@code ef/v1/...}), when it is one
 * @param payload the payload bytes (owned by the receiver)
 * @param metadata QoS, retain flag and MQTT 5 properties
 */
public record Delivery(String topic, Optional<Topic> parsed, byte[] payload, Metadata metadata) {
    public Delivery {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(parsed, "parsed");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(metadata, "metadata");
    }
}
