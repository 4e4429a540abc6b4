package io.edgefleet.transport.mqtt;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What an MQTT 5 PUBLISH carries besides its topic and payload, as plain Java: the QoS, the
 * retain flag and the properties an application reads or sets (MQTT 5.0 section 3.3.2.3). The
 * same record describes a received message and one to send; {@link MqttSession} always sends
 * with QoS 1, whatever {@link #qos} says.
 *
 * @param qos 0, 1 or 2 as received
 * @param retained the RETAIN flag
 * @param responseTopic the Response Topic (request/response, section 4.10)
 * @param correlationData the Correlation Data, bytes chosen by the requester (the array is shared, not copied)
 * @param userProperties the User Properties in their order
 * @param contentType the Content Type, a MIME type
 * @param messageExpirySeconds the Message Expiry Interval, in seconds
 */
public record Metadata(int qos, boolean retained, Optional<String> responseTopic, Optional<byte[]> correlationData,
        List<UserProperty> userProperties, Optional<String> contentType, OptionalLong messageExpirySeconds) {

    public Metadata {
        if (qos < 0 || qos > 2) {
            throw new IllegalArgumentException("qos must be 0, 1 or 2, got " + qos);
        }
        Objects.requireNonNull(responseTopic, "responseTopic");
        Objects.requireNonNull(correlationData, "correlationData");
        userProperties = List.copyOf(userProperties);
        Objects.requireNonNull(contentType, "contentType");
        Objects.requireNonNull(messageExpirySeconds, "messageExpirySeconds");
    }

    /** QoS 1, not retained, no properties: what a plain publish sends. */
    public static Metadata qos1() {
        return new Metadata(1, false, Optional.empty(), Optional.empty(), List.of(), Optional.empty(), OptionalLong.empty());
    }

    public Metadata withRetained(boolean r) {
        return new Metadata(qos, r, responseTopic, correlationData, userProperties, contentType, messageExpirySeconds);
    }

    public Metadata withResponseTopic(String topic) {
        return new Metadata(qos, retained, Optional.of(topic), correlationData, userProperties, contentType, messageExpirySeconds);
    }

    public Metadata withCorrelationData(byte[] data) {
        return new Metadata(qos, retained, responseTopic, Optional.ofNullable(data), userProperties, contentType, messageExpirySeconds);
    }

    /** This metadata with one more user property, after those already there. */
    public Metadata withUserProperty(String key, String value) {
        List<UserProperty> l = new ArrayList<>(userProperties);
        l.add(new UserProperty(key, value));
        return new Metadata(qos, retained, responseTopic, correlationData, l, contentType, messageExpirySeconds);
    }

    public Metadata withContentType(String type) {
        return new Metadata(qos, retained, responseTopic, correlationData, userProperties, Optional.of(type), messageExpirySeconds);
    }

    public Metadata withMessageExpirySeconds(long seconds) {
        if (seconds < 0) {
            throw new IllegalArgumentException("message expiry must be >= 0 s, got " + seconds);
        }
        return new Metadata(qos, retained, responseTopic, correlationData, userProperties, contentType, OptionalLong.of(seconds));
    }

    /** The value of the first user property named {@code key}. */
    public Optional<String> userProperty(String key) {
        return userProperties.stream().filter(u -> u.key().equals(key)).map(UserProperty::value).findFirst();
    }
}
