package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.mqtt.MqttLink;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.MosquittoExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The agent's MQTT bounds against a real Mosquitto: Maximum Packet Size announced in CONNECT, busy answers beyond the in-flight bound. */
class AgentMqttLimitsTest {
    /** The requester's reply space: agents answer only inside their own fleet's spaces. */
    static final io.edgefleet.protocols.topics.ReplySpace REPLIES = new io.edgefleet.protocols.topics.ReplySpace("plant-9", "tester");

    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    static final String OK = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
    /** For the {@code mlp} model: 16 layers of 512×512 on one row, far slower to run than to deliver on any machine. */
    static final String SLOW = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,512],\"datatype\":\"FP32\",\"data\":["
            + String.join(",", java.util.Collections.nCopies(512, "0.5")) + "]}]}";

    @TempDir
    Path dir;
    EdgeAgent agent;
    final List<MqttClient> clients = new ArrayList<>();
    final Map<String, MqttMessage> replies = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls.onnx"));
        Files.move(SyntheticModels.mlpOnnx(dir, 1, 512, 16), models.resolve("mlp.onnx"));
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(-1)
                .withIdentity("plant-9", "cam-2").withMqtt(MQTT.broker().url()).withMaxPayloadBytes(64 * 1024).withMqttMaxInFlight(1));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!agent.mqtt().orElseThrow().isSubscribed() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(agent.mqtt().orElseThrow().isSubscribed()).isTrue();
        MqttClient replyClient = client("replies");
        replyClient.setCallback(io.edgefleet.testkit.MqttCallbacks.onMessage((topic, m) ->
                replies.put(new String(m.getProperties().getCorrelationData(), StandardCharsets.UTF_8), m)));
        replyClient.subscribe(REPLIES.filter(), 1);
    }

    private MqttClient client(String id) throws Exception {
        MqttClient c = new MqttClient(MQTT.broker().url(), id + "-" + java.util.UUID.randomUUID(), new MemoryPersistence());
        c.connect(new MqttConnectionOptions());
        clients.add(c);
        return c;
    }

    @AfterEach
    void stop() throws Exception {
        for (MqttClient c : clients) {
            c.disconnect();
            c.close();
        }
        if (agent != null) {
            agent.close();
        }
    }

    private static void request(MqttClient c, byte[] body, String correlation) throws Exception {
        request(c, "cls", body, correlation);
    }

    private static void request(MqttClient c, String model, byte[] body, String correlation) throws Exception {
        MqttMessage m = new MqttMessage(body);
        m.setQos(1);
        MqttProperties p = new MqttProperties();
        p.setResponseTopic(REPLIES.topic() + "/x");
        p.setCorrelationData(correlation.getBytes(StandardCharsets.UTF_8));
        m.setProperties(p);
        for (int attempt = 0; ; attempt++) {
            try {
                c.publish(Topic.infer("plant-9", "cam-2", model).value(), m);
                return;
            } catch (org.eclipse.paho.mqttv5.common.MqttException e) {
                // Paho 1.2.5 counts a completed publish out of its window a moment after the caller hears of it,
                // so the next one may meet a "full" window (32202): wait for it, as MqttSession does.
                if (e.getReasonCode() != org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_MAX_INFLIGHT || attempt >= 200) {
                    throw e;
                }
                Thread.sleep(5);
            }
        }
    }

    private static String property(MqttMessage m, String key) {
        return m.getProperties().getUserProperties().stream().filter(u -> u.getKey().equals(key)).map(UserProperty::getValue).findFirst()
                .orElse("none");
    }

    private void awaitReplies(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (replies.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(replies).hasSize(n);
    }

    @Test
    void a_publish_over_the_maximum_packet_size_never_reaches_the_agent_which_keeps_answering() throws Exception {
        MqttClient device = client("device");
        byte[] huge = new byte[1 << 20]; // 1 MiB against 64 KiB + 64 KiB of packet overhead
        java.util.Arrays.fill(huge, (byte) ' ');
        request(device, huge, "huge");
        request(device, OK.getBytes(StandardCharsets.UTF_8), "small");
        awaitReplies(1);
        assertThat(property(replies.get("small"), MqttLink.STATUS)).isEqualTo("200");
        // The broker handled both PUBLISHes in order: the large one was dropped for the agent's Maximum Packet Size.
        assertThat(agent.mqtt().orElseThrow().received()).isEqualTo(1);
        assertThat(replies).doesNotContainKey("huge");
        request(device, OK.getBytes(StandardCharsets.UTF_8), "after");
        awaitReplies(2);
        assertThat(property(replies.get("after"), MqttLink.STATUS)).isEqualTo("200");
    }

    @Test
    void a_burst_beyond_the_in_flight_bound_gets_busy_answers_counted_and_nothing_is_lost() throws Exception {
        long droppedBefore = agent.mqtt().orElseThrow().dropped(); // e.g. the state of the activation before the broker connected
        int publishers = 8;
        int each = 40;
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < publishers; t++) {
            MqttClient c = client("burst" + t);
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    for (int i = 0; i < each; i++) {
                        // The slow model: with the tiny classifier a fast machine could answer each request before the
                        // next arrived, and the bound would never be reached.
                        request(c, "mlp", SLOW.getBytes(StandardCharsets.UTF_8), "b-" + id + "-" + i);
                    }
                } catch (Exception e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        assertThat(failures).isEmpty();
        awaitReplies(publishers * each);
        long busy = replies.values().stream().filter(m -> property(m, MqttLink.STATUS).equals("503")).count();
        long ok = replies.values().stream().filter(m -> property(m, MqttLink.STATUS).equals("200")).count();
        assertThat(ok + busy).isEqualTo(publishers * each);
        assertThat(busy).as("requests beyond one in flight were answered busy").isPositive();
        assertThat(replies.values().stream().filter(m -> property(m, MqttLink.STATUS).equals("503")))
                .allSatisfy(m -> assertThat(property(m, MqttLink.REASON)).isEqualTo("busy"));
        assertThat(agent.mqtt().orElseThrow().busy()).isEqualTo(busy);
        assertThat(agent.mqtt().orElseThrow().dropped()).isEqualTo(droppedBefore);
    }
}
