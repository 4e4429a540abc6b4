package io.edgefleet.transport.mqtt;

import java.util.Objects;

/**
 * One MQTT 5 user property (MQTT 5.0 section 3.3.2.3.7): a UTF-8 name/value pair; a message may
 * carry the same name more than once, in order.
 */
public record UserProperty(String key, String value) {
    public UserProperty {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
    }
}
