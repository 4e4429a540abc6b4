package io.edgefleet.transport.mqtt;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * How one {@link MqttSession} connects; immutable, built from {@link #of} with {@code withX} methods.
 *
 * @param url {@code tcp://host:port} (plain) or {@code ssl://host:port} (TLS; needs {@link #tls})
 * @param clientId the MQTT client identifier; the broker keeps the session under it
 * @param cleanStart MQTT 5 Clean Start: true drops the session the broker kept; false resumes it
 *     (subscriptions and queued QoS 1 messages survive while this client is away)
 * @param sessionExpirySeconds MQTT 5 Session Expiry Interval, seconds the broker keeps the session after a disconnect
 * @param keepAliveSeconds the Keep Alive, seconds
 * @param connectTimeoutSeconds how long one connect attempt (TCP, TLS handshake, CONNACK) may take
 * @param operationTimeout how long a publish waits for its PUBACK (and a subscribe for its SUBACK)
 * @param receiveMaximum MQTT 5 Receive Maximum announced to the broker: QoS 1 messages it may have unacknowledged to us
 * @param maximumPacketSizeBytes MQTT 5 Maximum Packet Size announced to the broker: it drops a larger
 *     PUBLISH for this client instead of sending it (section 3.1.2.11.4)
 * @param will the last will, asked for again at every connect (so it may reflect the latest state)
 * @param subscriptions topic filters subscribed with QoS 1 after every connect (shared ones included)
 * @param manualAcks whether the handler acknowledges each QoS 1 message itself (at-least-once
 *     processing: an unacknowledged message comes again on the resumed session)
 * @param reconnectMin first delay before reconnecting after the connection is lost (or the first connect failed)
 * @param reconnectMax the delay doubles, with jitter, up to this
 * @param tls the TLS context, read at every connect (a renewed certificate is used at the next one);
 *     required for {@code ssl://}, refused for {@code tcp://}
 */
public record SessionConfig(String url, String clientId, boolean cleanStart, long sessionExpirySeconds, int keepAliveSeconds,
        int connectTimeoutSeconds, Duration operationTimeout, OptionalInt receiveMaximum, OptionalLong maximumPacketSizeBytes,
        Optional<Supplier<Will>> will, List<String> subscriptions, boolean manualAcks, Duration reconnectMin, Duration reconnectMax,
        Optional<Supplier<SSLContext>> tls) {

    public SessionConfig {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(clientId, "clientId");
        if (!url.startsWith("tcp://") && !url.startsWith("ssl://")) {
            throw new IllegalArgumentException("MQTT broker URL must be tcp://host:port or ssl://host:port, got '" + url + "'");
        }
        if (clientId.isEmpty() || clientId.length() > 128) {
            throw new IllegalArgumentException("MQTT client id must have 1 to 128 characters, got " + clientId.length());
        }
        if (sessionExpirySeconds < 0 || keepAliveSeconds < 0 || connectTimeoutSeconds < 1) {
            throw new IllegalArgumentException("session expiry and keep alive must be >= 0 s, connect timeout >= 1 s");
        }
        if (operationTimeout.isNegative() || operationTimeout.isZero() || reconnectMin.isNegative() || reconnectMin.isZero()
                || reconnectMax.compareTo(reconnectMin) < 0) {
            throw new IllegalArgumentException("operation timeout and reconnect delays must be > 0 and reconnectMin <= reconnectMax");
        }
        receiveMaximum.ifPresent(r -> {
            if (r < 1 || r > 65535) {
                throw new IllegalArgumentException("receive maximum must be 1..65535, got " + r);
            }
        });
        maximumPacketSizeBytes.ifPresent(m -> {
            if (m < 1 || m > 268_435_455L) {
                throw new IllegalArgumentException("maximum packet size must be 1..268435455 bytes, got " + m);
            }
        });
        Objects.requireNonNull(will, "will");
        subscriptions = List.copyOf(subscriptions);
        Objects.requireNonNull(tls, "tls");
        if (url.startsWith("ssl://") && tls.isEmpty()) {
            throw new IllegalArgumentException("an ssl:// broker URL needs a TLS context (CA and client certificate): " + url);
        }
        if (url.startsWith("tcp://") && tls.isPresent()) {
            throw new IllegalArgumentException("a TLS context was given for a plain tcp:// broker URL; use ssl://: " + url);
        }
    }

    /**
     * Defaults: persistent session (clean start off, one-day expiry), keep alive 30 s, connect
     * timeout 10 s, PUBACK wait 20 s, no Receive Maximum or Maximum Packet Size announced, no will,
     * no subscriptions, automatic acknowledgements, reconnect after 1 s doubling to 10 s, no TLS.
     */
    public static SessionConfig of(String url, String clientId) {
        return of(url, clientId, Optional.empty());
    }

    /** {@link #of(String, String)} over TLS when {@code tls} is present (an {@code ssl://} URL needs one). */
    public static SessionConfig of(String url, String clientId, Optional<Supplier<SSLContext>> tls) {
        return new SessionConfig(url, clientId, false, 24L * 3600, 30, 10, Duration.ofSeconds(20), OptionalInt.empty(), OptionalLong.empty(),
                Optional.empty(), List.of(), false, Duration.ofSeconds(1), Duration.ofSeconds(10), tls);
    }

    public SessionConfig withCleanStart(boolean clean, long expirySeconds) {
        return new SessionConfig(url, clientId, clean, expirySeconds, keepAliveSeconds, connectTimeoutSeconds, operationTimeout, receiveMaximum,
                maximumPacketSizeBytes, will, subscriptions, manualAcks, reconnectMin, reconnectMax, tls);
    }

    public SessionConfig withTimeouts(int keepAlive, int connect, Duration operation) {
        return new SessionConfig(url, clientId, cleanStart, sessionExpirySeconds, keepAlive, connect, operation, receiveMaximum,
                maximumPacketSizeBytes, will, subscriptions, manualAcks, reconnectMin, reconnectMax, tls);
    }

    public SessionConfig withReceiveMaximum(int max) {
        return new SessionConfig(url, clientId, cleanStart, sessionExpirySeconds, keepAliveSeconds, connectTimeoutSeconds, operationTimeout,
                OptionalInt.of(max), maximumPacketSizeBytes, will, subscriptions, manualAcks, reconnectMin, reconnectMax, tls);
    }

    public SessionConfig withMaximumPacketSize(long bytes) {
        return new SessionConfig(url, clientId, cleanStart, sessionExpirySeconds, keepAliveSeconds, connectTimeoutSeconds, operationTimeout,
                receiveMaximum, OptionalLong.of(bytes), will, subscriptions, manualAcks, reconnectMin, reconnectMax, tls);
    }

    public SessionConfig withWill(Supplier<Will> w) {
        return new SessionConfig(url, clientId, cleanStart, sessionExpirySeconds, keepAliveSeconds, connectTimeoutSeconds, operationTimeout,
                receiveMaximum, maximumPacketSizeBytes, Optional.of(w), subscriptions, manualAcks, reconnectMin, reconnectMax, tls);
    }

    /** This config with {@code filter} added to the subscriptions. */
    public SessionConfig withSubscription(String filter) {
        List<String> l = new ArrayList<>(subscriptions);
        l.add(filter);
        return new SessionConfig(url, clientId, cleanStart, sessionExpirySeconds, keepAliveSeconds, connectTimeoutSeconds, operationTimeout,
                receiveMaximum, maximumPacketSizeBytes, will, l, manualAcks, reconnectMin, reconnectMax, tls);
    }

    public SessionConfig withManualAcks(boolean manual) {
        return new SessionConfig(url, clientId, cleanStart, sessionExpirySeconds, keepAliveSeconds, connectTimeoutSeconds, operationTimeout,
                receiveMaximum, maximumPacketSizeBytes, will, subscriptions, manual, reconnectMin, reconnectMax, tls);
    }

    public SessionConfig withReconnect(Duration min, Duration max) {
        return new SessionConfig(url, clientId, cleanStart, sessionExpirySeconds, keepAliveSeconds, connectTimeoutSeconds, operationTimeout,
                receiveMaximum, maximumPacketSizeBytes, will, subscriptions, manualAcks, min, max, tls);
    }

}
