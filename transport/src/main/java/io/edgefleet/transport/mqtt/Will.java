package io.edgefleet.transport.mqtt;

import java.util.List;
import java.util.Objects;

/**
 * The last will of a session (MQTT 5.0 section 3.1.3.2): published by the broker with QoS 1 when
 * the connection is lost without a DISCONNECT.
 *
 * @param topic where the broker publishes it
 * @param payload its bytes
 * @param retained whether the broker retains it
 * @param userProperties the Will Properties' user properties (e.g. the sender's signature)
 */
public record Will(String topic, byte[] payload, boolean retained, List<UserProperty> userProperties) {
    public Will {
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(payload, "payload");
        userProperties = List.copyOf(userProperties);
    }

    public Will(String topic, byte[] payload, boolean retained) {
        this(topic, payload, retained, List.of());
    }
}
