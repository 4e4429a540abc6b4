package io.edgefleet.cloud.mqtt;

import io.edgefleet.transport.mqtt.MqttSession;
import io.edgefleet.transport.mqtt.MqttTls;
import io.edgefleet.transport.mqtt.SessionConfig;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The control plane's MQTT 5 sessions, on the one {@link MqttSession}: persistent (clean start
 * off, one-day expiry) so the broker keeps QoS 1 messages while the control plane restarts;
 * connecting in the background and reconnecting fast (250 ms doubling to 2 s, before the agents,
 * which hold telemetry for 3 s after their own reconnect); subscribing again after every connect;
 * Receive Maximum 1000. With manual acknowledgements (ingest) a message is settled only when its
 * consumer says it is durable; an acknowledgement made after a reconnect settles the redelivered
 * copy (see {@link MqttSession}).
 */
public final class CloudMqtt {
    private CloudMqtt() {
    }

    /**
     * A session, not yet started.
     *
     * @param url {@code tcp://host:port}, or {@code ssl://host:port} with {@code tls}
     * @param tls this role's identity (CA, key and certificate) for an {@code ssl://} URL
     * @param manualAcks whether the handler acknowledges each message itself (ingest: once durable)
     * @param filters subscribed with QoS 1 after every connect
     * @throws IllegalArgumentException when the URL and the TLS setting do not fit together
     */
    public static MqttSession session(String url, Optional<MqttTls> tls, String clientId, boolean manualAcks, List<String> filters,
            MqttSession.Handler handler) {
        return session(url, tls, clientId, manualAcks, filters, handler, 24L * 3600);
    }

    /**
     * {@link #session(String, Optional, String, boolean, List, MqttSession.Handler)} whose broker session outlives a
     * connection by {@code sessionExpirySeconds} instead of a day. A member of a shared subscription needs a short one:
     * Mosquitto keeps handing a disconnected member its share of the group's messages until its session expires
     * (eclipse-mosquitto/mosquitto#1747), so a replica that died would swallow half the states and acks for a day.
     */
    public static MqttSession session(String url, Optional<MqttTls> tls, String clientId, boolean manualAcks, List<String> filters,
            MqttSession.Handler handler, long sessionExpirySeconds) {
        SessionConfig c = SessionConfig.of(url, clientId, tls.map(MqttTls::context))
                .withCleanStart(false, sessionExpirySeconds)
                .withTimeouts(20, 5, Duration.ofSeconds(15)) // a publish never waits on a PUBACK forever
                .withReceiveMaximum(1000)
                .withManualAcks(manualAcks)
                .withReconnect(Duration.ofMillis(250), Duration.ofSeconds(2));
        for (String f : filters) {
            c = c.withSubscription(f);
        }
        return MqttSession.create(c, handler);
    }
}
