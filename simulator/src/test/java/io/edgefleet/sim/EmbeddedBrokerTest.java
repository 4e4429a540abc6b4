package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.testkit.MqttCallbacks;
import io.edgefleet.testkit.Ports;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded broker does what the agents and the control plane need, and keeps it across a restart. */
class EmbeddedBrokerTest {
    @TempDir
    Path dir;

    @Test
    void retained_will_shared_subscription_and_persistent_session_survive_a_restart() throws Exception {
        try (EmbeddedBroker broker = EmbeddedBroker.start(dir, Ports.freePort())) {
            // HiveMQ's start bridged java.util.logging into Logback; EdgeFleet's one format is back on the root logger
            assertThat(java.util.logging.Logger.getLogger("").getHandlers()).as("root handlers after the broker's start")
                    .anySatisfy(h -> assertThat(h.getFormatter()).isInstanceOf(io.edgefleet.transport.logging.LineFormatter.class))
                    .noneSatisfy(h -> assertThat(h.getClass().getName()).contains("SLF4JBridgeHandler"));
            BlockingQueue<String> got = new ArrayBlockingQueue<>(100);
            MqttClient sub = new MqttClient(broker.url(), "sub", new MemoryPersistence());
            sub.setCallback(MqttCallbacks.onMessage((t, m) -> got.add(t + "=" + new String(m.getPayload(), StandardCharsets.UTF_8))));
            MqttConnectionOptions persistent = new MqttConnectionOptions();
            persistent.setCleanStart(false);
            persistent.setSessionExpiryInterval(3600L);
            sub.connect(persistent);
            sub.subscribe("$share/g/t/+/x", 1);

            MqttClient dev = new MqttClient(broker.url(), "dev", new MemoryPersistence());
            MqttConnectionOptions will = new MqttConnectionOptions();
            will.setWill("t/dev/state", new MqttMessage("offline".getBytes(StandardCharsets.UTF_8), 1, true, null));
            dev.connect(will);
            MqttMessage state = new MqttMessage("online".getBytes(StandardCharsets.UTF_8), 1, true, null);
            dev.publish("t/dev/state", state);
            dev.publish("t/dev/x", new MqttMessage("one".getBytes(StandardCharsets.UTF_8), 1, false, null));
            assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("t/dev/x=one");
            dev.disconnectForcibly(0, 0, false); // no DISCONNECT: the will fires

            // the subscriber goes away; what is published meanwhile waits in its session across a broker restart
            sub.disconnect();
            MqttClient pub = new MqttClient(broker.url(), "pub", new MemoryPersistence());
            pub.connect();
            pub.publish("t/pub/x", new MqttMessage("two".getBytes(StandardCharsets.UTF_8), 1, false, null));
            pub.disconnect();
            pub.close();
            broker.stop();
            broker.start();
            sub.connect(persistent);
            assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("t/pub/x=two");

            MqttClient late = new MqttClient(broker.url(), "late", new MemoryPersistence());
            late.setCallback(MqttCallbacks.onMessage((t, m) -> got.add(t + "=" + new String(m.getPayload(), StandardCharsets.UTF_8))));
            late.connect();
            late.subscribe("t/dev/state", 1);
            assertThat(got.poll(10, TimeUnit.SECONDS)).isEqualTo("t/dev/state=offline"); // the will, retained
            late.disconnect();
            late.close();
            sub.disconnect();
            sub.close();
        }
    }
}
