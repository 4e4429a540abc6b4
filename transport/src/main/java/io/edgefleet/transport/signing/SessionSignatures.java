package io.edgefleet.transport.signing;

import io.edgefleet.transport.mqtt.Metadata;
import io.edgefleet.transport.mqtt.UserProperty;
import java.util.List;
import java.util.Map;

/**
 * Where {@link SenderSignature}s meet the MQTT session's {@link Metadata}: a signature travels as
 * MQTT 5 user properties next to the payload, which stays unchanged. Stateless; any thread.
 */
public final class SessionSignatures {
    private SessionSignatures() {
    }

    /** {@code m} with the signature's user properties added after any it has. */
    public static Metadata attach(Metadata m, SenderSignature s) {
        Metadata out = m;
        for (Map.Entry<String, String> e : s.userProperties()) {
            out = out.withUserProperty(e.getKey(), e.getValue());
        }
        return out;
    }

    /** The user properties of a received message, in order (empty when none). */
    public static List<Map.Entry<String, String>> userProperties(Metadata m) {
        return m.userProperties().stream().map(u -> Map.entry(u.key(), u.value())).toList();
    }

    /** The same, as the session's own records. */
    static List<UserProperty> toSession(List<Map.Entry<String, String>> properties) {
        return properties.stream().map(e -> new UserProperty(e.getKey(), e.getValue())).toList();
    }
}
