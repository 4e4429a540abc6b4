package io.edgefleet.transport.mqtt;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/** Paho messages to and from {@link Metadata}; Paho types stay inside this package. */
final class PahoMessages {
    private PahoMessages() {
    }

    static Metadata metadata(MqttMessage m) {
        MqttProperties p = m.getProperties();
        if (p == null) {
            return new Metadata(m.getQos(), m.isRetained(), Optional.empty(), Optional.empty(), List.of(), Optional.empty(), OptionalLong.empty());
        }
        List<UserProperty> user = p.getUserProperties() == null ? List.of()
                : p.getUserProperties().stream().map(u -> new UserProperty(u.getKey(), u.getValue())).toList();
        return new Metadata(m.getQos(), m.isRetained(), Optional.ofNullable(p.getResponseTopic()), Optional.ofNullable(p.getCorrelationData()),
                user, Optional.ofNullable(p.getContentType()),
                p.getMessageExpiryInterval() == null ? OptionalLong.empty() : OptionalLong.of(p.getMessageExpiryInterval()));
    }

    /** A QoS 1 message with {@code meta}'s retain flag and properties. */
    static MqttMessage qos1(byte[] payload, Metadata meta) {
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        m.setRetained(meta.retained());
        MqttProperties p = new MqttProperties();
        meta.responseTopic().ifPresent(p::setResponseTopic);
        meta.correlationData().ifPresent(p::setCorrelationData);
        meta.contentType().ifPresent(p::setContentType);
        meta.messageExpirySeconds().ifPresent(s -> p.setMessageExpiryInterval(s));
        if (!meta.userProperties().isEmpty()) {
            p.setUserProperties(meta.userProperties().stream()
                    .map(u -> new org.eclipse.paho.mqttv5.common.packet.UserProperty(u.key(), u.value())).toList());
        }
        m.setProperties(p);
        return m;
    }
}
