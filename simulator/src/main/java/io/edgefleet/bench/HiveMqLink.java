package io.edgefleet.bench;

import com.hivemq.client.mqtt.MqttClient;
import com.hivemq.client.mqtt.datatypes.MqttQos;
import com.hivemq.client.mqtt.lifecycle.MqttDisconnectSource;
import com.hivemq.client.mqtt.mqtt5.Mqtt5AsyncClient;
import com.hivemq.client.mqtt.mqtt5.lifecycle.Mqtt5ClientDisconnectedContext;
import com.hivemq.client.mqtt.mqtt5.message.connect.Mqtt5Connect;
import com.hivemq.client.mqtt.mqtt5.message.publish.Mqtt5PublishResult;
import io.edgefleet.transport.mqtt.Will;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A {@link DeviceLink} on the HiveMQ MQTT client (MQTT 5, non-blocking): all links of a JVM share
 * the client's default Netty event-loop group and its application scheduler, so a session costs
 * buffers, not threads. Reconnects after 0.5–2 s (random, so a broker restart is not met by every
 * session at once) with a fresh will; the subscription is renewed on every connect (clean start).
 * Plain TCP only: the TLS runs of the bench use {@link DeviceLink#paho}.
 */
final class HiveMqLink implements DeviceLink {
    private static final long PUBLISH_TIMEOUT_SECONDS = 60;
    private final Mqtt5AsyncClient client;
    private final String commandTopic;
    private final Supplier<Will> will;
    private final Events events;
    private volatile boolean closed;

    HiveMqLink(String host, int port, String clientId, String commandTopic, Supplier<Will> will, Events events) {
        this.commandTopic = commandTopic;
        this.will = will;
        this.events = events;
        this.client = MqttClient.builder().useMqttVersion5().identifier(clientId).serverHost(host).serverPort(port)
                .addConnectedListener(ctx -> subscribe())
                .addDisconnectedListener(ctx -> {
                    if (!closed && ctx.getSource() != MqttDisconnectSource.USER && ctx instanceof Mqtt5ClientDisconnectedContext c5) {
                        c5.getReconnector().reconnect(true).connect(connect()).delay(ThreadLocalRandom.current().nextLong(500, 2000), TimeUnit.MILLISECONDS);
                    }
                })
                .buildAsync();
    }

    private Mqtt5Connect connect() {
        Will w = will.get();
        return Mqtt5Connect.builder().cleanStart(true).sessionExpiryInterval(0).keepAlive(60)
                .willPublish().topic(w.topic()).payload(w.payload()).qos(MqttQos.AT_LEAST_ONCE).retain(w.retained()).applyWillPublish()
                .build();
    }

    private void subscribe() {
        client.subscribeWith().topicFilter(commandTopic).qos(MqttQos.AT_LEAST_ONCE)
                .callback(p -> events.command(p.getPayloadAsBytes()))
                .send()
                .whenComplete((ack, error) -> {
                    if (error == null) {
                        events.subscribed();
                    }
                });
    }

    @Override
    public void start() {
        client.connect(connect()); // a failed first connect also reaches the disconnected listener, which retries
    }

    @Override
    public boolean isConnected() {
        return client.getState().isConnected();
    }

    @Override
    public boolean publish(String topic, byte[] payload, boolean retained) {
        try {
            Mqtt5PublishResult r = client.publishWith().topic(topic).payload(payload).qos(MqttQos.AT_LEAST_ONCE).retain(retained).send()
                    .get(PUBLISH_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return r.getError().isEmpty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false; // the bench counts what arrives: a lost publish shows as a device that never finishes
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            client.disconnect().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // not connected: nothing to say goodbye to
        }
    }
}
