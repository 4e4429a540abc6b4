package io.edgefleet.bench;

import io.edgefleet.transport.mqtt.MqttSession;
import io.edgefleet.transport.mqtt.SessionConfig;
import io.edgefleet.transport.mqtt.Will;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * One virtual device's MQTT 5 session as {@link VirtualDevice} uses it: clean start, one QoS 1
 * subscription to the device's command topic renewed after every connect, QoS 1 publishes that wait
 * for the broker's PUBACK, a retained last will read at every connect, reconnects until
 * {@link #close()}.
 *
 * <p>Two implementations: {@link #paho} (the product's own {@link MqttSession}, about four threads
 * per session) and {@link HiveMqLink} (the HiveMQ MQTT client: every session shares one Netty
 * event-loop group, so 10,000 sessions fit on two cores). Only benchmarks use the second; the
 * product speaks through {@link MqttSession}.
 */
public interface DeviceLink extends AutoCloseable {
    /** Connects in the background and keeps reconnecting until {@link #close()}. */
    void start();

    boolean isConnected();

    /** Publishes with QoS 1 and waits for the PUBACK (bounded); {@code false} when it was not acknowledged. */
    boolean publish(String topic, byte[] payload, boolean retained);

    /** Disconnects for good (no reconnect; the broker discards the will on a normal disconnect). */
    @Override
    void close();

    /** What a link calls: on its own threads (Paho's callback thread, HiveMQ's application scheduler); keep it short. */
    interface Events {
        /** A message arrived on the command topic. */
        void command(byte[] payload);

        /** The subscription is in place after a connect: time to publish the retained state. */
        void subscribed();
    }

    /** Opens a link for one device (not started). */
    @FunctionalInterface
    interface Factory {
        DeviceLink open(String clientId, String commandTopic, Supplier<Will> will, Events events);
    }

    /** Sessions on the product's {@link MqttSession} (Paho), over {@code tcp://} or, with {@code tls}, {@code ssl://}. */
    static Factory paho(String brokerUrl, Optional<Supplier<SSLContext>> tls) {
        return (clientId, commandTopic, will, events) -> {
            MqttSession session = MqttSession.create(SessionConfig.of(brokerUrl, clientId, tls)
                    .withCleanStart(true, 0)
                    .withTimeouts(60, 60, Duration.ofSeconds(60))
                    .withWill(will)
                    .withSubscription(commandTopic), (m, ack) -> events.command(m.payload()));
            session.listener(new MqttSession.Listener() {
                @Override
                public void subscribed(boolean first) {
                    events.subscribed();
                }
            });
            return new DeviceLink() {
                @Override
                public void start() {
                    session.start();
                }

                @Override
                public boolean isConnected() {
                    return session.isConnected();
                }

                @Override
                public boolean publish(String topic, byte[] payload, boolean retained) {
                    return session.publish(topic, payload, retained);
                }

                @Override
                public void close() {
                    session.close();
                }
            };
        };
    }

    /** Sessions on the HiveMQ MQTT client over plain TCP to {@code host:port}, sharing its default event loops. */
    static Factory hivemq(String host, int port) {
        return (clientId, commandTopic, will, events) -> new HiveMqLink(host, port, clientId, commandTopic, will, events);
    }
}
