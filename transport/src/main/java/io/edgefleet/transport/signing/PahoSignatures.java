package io.edgefleet.transport.signing;

import java.util.List;
import java.util.Map;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;

/**
 * The one place where {@link SenderSignature}s meet Paho's message type: today's {@code MqttLink}
 * and {@code CloudMqtt} call these; the shared MQTT session will carry user properties in its own
 * metadata and call {@link SenderSignature#userProperties()} / {@link SenderVerifier} directly.
 */
public final class PahoSignatures {
    private PahoSignatures() {
    }

    /** Adds the signature's user properties to {@code m} (keeping any it has). */
    public static MqttMessage attach(MqttMessage m, SenderSignature s) {
        MqttProperties p = m.getProperties() == null ? new MqttProperties() : m.getProperties();
        List<UserProperty> users = new java.util.ArrayList<>(p.getUserProperties() == null ? List.of() : p.getUserProperties());
        s.userProperties().forEach(e -> users.add(new UserProperty(e.getKey(), e.getValue())));
        p.setUserProperties(users);
        m.setProperties(p);
        return m;
    }

    /** The user properties of a received message, in order (empty when none). */
    public static List<Map.Entry<String, String>> userProperties(MqttMessage m) {
        MqttProperties p = m.getProperties();
        if (p == null || p.getUserProperties() == null) {
            return List.of();
        }
        return p.getUserProperties().stream().map(u -> Map.entry(u.getKey(), u.getValue())).toList();
    }
}
