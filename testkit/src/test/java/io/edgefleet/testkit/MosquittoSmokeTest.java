package io.edgefleet.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The harness itself, against the real broker: publish/subscribe, MQTT 5 properties, restart with reconnect. */
class MosquittoSmokeTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();

    @Test
    void publishes_and_subscribes_with_mqtt5_properties_through_a_real_broker() throws Exception {
        Received inbox = new Received();
        try (Client sub = Client.connect(MQTT.broker(), "sub-1", true, inbox);
                Client pub = Client.connect(MQTT.broker(), "pub-1", true, new Received())) {
            sub.client.subscribe("ef/v1/f/d/infer/kws", 1);
            MqttMessage m = new MqttMessage("{\"x\":1}".getBytes(StandardCharsets.UTF_8));
            m.setQos(1);
            MqttProperties props = new MqttProperties();
            props.setResponseTopic("ef/v1/f/d/replies/42");
            props.setCorrelationData(new byte[] {4, 2});
            m.setProperties(props);
            pub.client.publish("ef/v1/f/d/infer/kws", m);
            MqttMessage got = inbox.next();
            assertThat(new String(got.getPayload(), StandardCharsets.UTF_8)).isEqualTo("{\"x\":1}");
            assertThat(got.getProperties().getResponseTopic()).isEqualTo("ef/v1/f/d/replies/42");
            assertThat(got.getProperties().getCorrelationData()).containsExactly(4, 2);
        }
    }

    @Test
    void a_persistent_session_gets_messages_published_after_a_broker_restart() throws Exception {
        Received inbox = new Received();
        try (Client sub = Client.connect(MQTT.broker(), "agent-7", false, inbox);
                Client pub = Client.connect(MQTT.broker(), "cloud-1", false, new Received())) {
            sub.client.subscribe("ef/v1/f/agent-7/cmd", 1);
            pub.publish("ef/v1/f/agent-7/cmd", "before");
            assertThat(new String(inbox.next().getPayload(), StandardCharsets.UTF_8)).isEqualTo("before");

            MQTT.broker().restart();
            assertThat(MQTT.broker().isRunning()).isTrue();

            // Both clients reconnect by themselves; the broker restored the subscriber's session from its
            // persistence file, so a QoS 1 message published now reaches it whichever reconnects first.
            pub.awaitConnected();
            pub.publish("ef/v1/f/agent-7/cmd", "after");
            assertThat(new String(inbox.next().getPayload(), StandardCharsets.UTF_8)).isEqualTo("after");
            assertThat(sub.reconnects).isPositive();
        }
    }

    @Test
    void a_killed_broker_refuses_connections_until_started_again_on_the_same_port() {
        int port = MQTT.broker().port();
        MQTT.broker().kill();
        assertThat(Ports.accepts(port)).isFalse();
        assertThat(MQTT.broker().isRunning()).isFalse();
        MQTT.broker().start();
        assertThat(MQTT.broker().port()).isEqualTo(port);
        assertThat(MQTT.broker().isRunning()).isTrue();
    }

    /** Messages as they arrive. */
    static final class Received {
        final BlockingQueue<MqttMessage> queue = new LinkedBlockingQueue<>();

        MqttMessage next() throws InterruptedException {
            MqttMessage m = queue.poll(30, TimeUnit.SECONDS);
            assertThat(m).as("a message within 30 s").isNotNull();
            return m;
        }
    }

    /** A Paho v5 client with automatic reconnect, counting reconnects. */
    static final class Client implements AutoCloseable, MqttCallback {
        final MqttClient client;
        final Received inbox;
        volatile int reconnects;

        private Client(MqttClient client, Received inbox) {
            this.client = client;
            this.inbox = inbox;
        }

        static Client connect(MosquittoBroker broker, String id, boolean cleanStart, Received inbox) throws MqttException {
            MqttClient c = new MqttClient(broker.url(), id, new MemoryPersistence());
            Client client = new Client(c, inbox);
            c.setCallback(client);
            MqttConnectionOptions o = new MqttConnectionOptions();
            o.setCleanStart(cleanStart);
            o.setSessionExpiryInterval(cleanStart ? 0L : 300L);
            o.setAutomaticReconnect(true);
            o.setAutomaticReconnectDelay(1, 2);
            o.setConnectionTimeout(5);
            c.connect(o);
            return client;
        }

        void publish(String topic, String payload) throws MqttException {
            MqttMessage m = new MqttMessage(payload.getBytes(StandardCharsets.UTF_8));
            m.setQos(1);
            client.publish(topic, m);
        }

        void awaitConnected() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!client.isConnected() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(client.isConnected()).as("reconnected within 30 s").isTrue();
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            inbox.queue.add(message);
        }

        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            if (reconnect) {
                reconnects++;
            }
        }

        @Override
        public void disconnected(MqttDisconnectResponse r) {
        }

        @Override
        public void mqttErrorOccurred(MqttException e) {
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }

        @Override
        public void close() throws MqttException {
            if (client.isConnected()) {
                client.disconnect();
            }
            client.close(true);
        }
    }
}
