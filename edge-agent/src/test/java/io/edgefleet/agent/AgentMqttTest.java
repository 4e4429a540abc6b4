package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.edgefleet.agent.mqtt.MqttLink;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.MosquittoExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The agent's MQTT side against a real Mosquitto: inference with response topics, commands with acks, retained state. */
class AgentMqttTest {
    /** The requester's reply space: agents answer only inside their own fleet's spaces. */
    static final io.edgefleet.protocols.topics.ReplySpace REPLIES = new io.edgefleet.protocols.topics.ReplySpace("plant-7", "tester");

    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    static final MessageCodec JSON = MessageCodec.json();

    @TempDir
    Path dir;
    EdgeAgent agent;
    MqttClient cloud;
    final BlockingQueue<MqttMessage> replies = new LinkedBlockingQueue<>();
    final BlockingQueue<MqttMessage> acks = new LinkedBlockingQueue<>();
    final BlockingQueue<MqttMessage> states = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls.onnx"));
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withIdentity("plant-7", "cam-1").withMqtt(MQTT.broker().url()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!agent.mqtt().orElseThrow().isSubscribed() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        cloud = new MqttClient(MQTT.broker().url(), "cloud-test", new MemoryPersistence());
        cloud.setCallback(io.edgefleet.testkit.MqttCallbacks.onMessage((topic, m) -> (topic.endsWith("/cmd/ack") ? acks : topic.endsWith("/state") ? states : replies).add(m)));
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setAutomaticReconnect(true);
        cloud.connect(o);
        cloud.subscribe(REPLIES.filter(), 1);
        cloud.subscribe(Topic.commandAck("plant-7", "cam-1").value(), 1);
        cloud.subscribe(Topic.state("plant-7", "cam-1").value(), 1);
    }

    @AfterEach
    void stop() throws MqttException {
        if (cloud != null) {
            cloud.disconnect();
            cloud.close();
        }
        if (agent != null) {
            agent.close();
        }
    }

    private void request(String model, String body, String correlation) throws MqttException {
        request(model, body, correlation, java.util.List.of());
    }

    private void request(String model, String body, String correlation, java.util.List<UserProperty> user) throws MqttException {
        MqttMessage m = new MqttMessage(body.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        MqttProperties p = new MqttProperties();
        p.setUserProperties(user);
        p.setResponseTopic(REPLIES.topic() + "/" + correlation);
        p.setCorrelationData(correlation.getBytes(StandardCharsets.UTF_8));
        m.setProperties(p);
        cloud.publish(Topic.infer("plant-7", "cam-1", model).value(), m);
    }

    private static MqttMessage next(BlockingQueue<MqttMessage> q) throws InterruptedException {
        MqttMessage m = q.poll(20, TimeUnit.SECONDS);
        assertThat(m).as("a message within 20 s").isNotNull();
        return m;
    }

    private static String status(MqttMessage m) {
        return m.getProperties().getUserProperties().stream().filter(u -> u.getKey().equals(MqttLink.STATUS))
                .map(UserProperty::getValue).findFirst().orElse("none");
    }

    @Test
    void answers_on_the_response_topic_with_the_correlation_data_and_the_same_answer_as_http() throws Exception {
        request("cls", "{\"id\":\"q1\",\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", "c-42");
        MqttMessage reply = next(replies);
        assertThat(new String(reply.getProperties().getCorrelationData(), StandardCharsets.UTF_8)).isEqualTo("c-42");
        assertThat(status(reply)).isEqualTo("200");
        InferResponse r = OipCodec.create().decodeResponse(reply.getPayload(), OptionalInt.empty());
        assertThat(r.id()).contains("q1");
        assertThat(r.modelVersion()).contains(agent.slots().activeVersions().get("cls"));
        assertThat(r.outputs().get(0).data().toFloatArray()).containsExactly(SyntheticModels.classify(new float[] {1, 2, 3, 4}), within(1e-5f));
    }

    @Test
    void malformed_requests_are_answered_with_a_reason_and_the_agent_keeps_serving() throws Exception {
        request("cls", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}", "bad-shape");
        MqttMessage a = next(replies);
        assertThat(status(a)).isEqualTo("400");
        assertThat(OipCodec.create().decodeError(a.getPayload())).isEqualTo("model 'cls' input 'x': expected shape [-1,4], got [1,3]");
        request("cls", "not json", "bad-json");
        MqttMessage b = next(replies);
        assertThat(status(b)).isEqualTo("400");
        assertThat(OipCodec.create().decodeError(b.getPayload())).startsWith("$: malformed input");
        request("nope", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", "unknown");
        MqttMessage c = next(replies);
        assertThat(status(c)).isEqualTo("404");
        request("cls", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", "ok");
        assertThat(status(next(replies))).isEqualTo("200");
    }

    @Test
    void mosquitto_clients_get_an_answer() throws Exception {
        Process sub = new ProcessBuilder("mosquitto_sub", "-V", "mqttv5", "-p", Integer.toString(MQTT.broker().port()), "-h", "127.0.0.1",
                "-t", "ef/replies/plant-7/cli/1", "-C", "1", "-W", "20").redirectErrorStream(true).start();
        Thread.sleep(500); // let the subscription land before the request
        Process pub = new ProcessBuilder("mosquitto_pub", "-V", "mqttv5", "-p", Integer.toString(MQTT.broker().port()), "-h", "127.0.0.1",
                "-q", "1", "-t", Topic.infer("plant-7", "cam-1", "cls").value(), "-D", "publish", "response-topic", "ef/replies/plant-7/cli/1",
                "-D", "publish", "correlation-data", "abc",
                "-m", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}")
                .redirectErrorStream(true).start();
        assertThat(pub.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(pub.exitValue()).as(new String(pub.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
        assertThat(sub.waitFor(25, TimeUnit.SECONDS)).isTrue();
        String out = new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(out).contains("\"model_name\":\"cls\"", "\"name\":\"probs\"");
    }

    @Test
    void a_response_topic_outside_the_fleets_reply_space_gets_no_answer_and_the_agent_keeps_serving() throws Exception {
        BlockingQueue<MqttMessage> spied = new LinkedBlockingQueue<>();
        MqttClient spy = new MqttClient(MQTT.broker().url(), "spy-" + java.util.UUID.randomUUID(), new MemoryPersistence());
        spy.setCallback(io.edgefleet.testkit.MqttCallbacks.onMessage((topic, m) -> spied.add(m)));
        spy.connect(new MqttConnectionOptions());
        try {
            spy.subscribe(Topic.command("plant-7", "cam-1").value(), 1);
            spy.subscribe("ef/replies/plant-8/#", 1);
            long before = agent.mqtt().orElseThrow().outsideReplySpace();
            String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
            // The answer aimed at the agent's own command topic, at another fleet's reply space, and at no space at all.
            requestTo(Topic.command("plant-7", "cam-1").value(), body, "evil-cmd");
            requestTo("ef/replies/plant-8/tester/1", body, "evil-fleet");
            requestTo("replies/anywhere", body, "evil-free");
            request("cls", body, "fine");
            MqttMessage reply = next(replies);
            assertThat(new String(reply.getProperties().getCorrelationData(), StandardCharsets.UTF_8)).isEqualTo("fine");
            assertThat(status(reply)).isEqualTo("200");
            // Refused in the order they came, before any inference: counted by the time the good one is answered.
            assertThat(agent.mqtt().orElseThrow().outsideReplySpace() - before).isEqualTo(3);
            request("cls", body, "still-fine");
            assertThat(status(next(replies))).isEqualTo("200");
            assertThat(spied).as("nothing was published on the command topic or into another fleet's replies").isEmpty();
            assertThat(replies).isEmpty();
        } finally {
            spy.disconnect();
            spy.close();
        }
    }

    private void requestTo(String responseTopic, String body, String correlation) throws MqttException {
        MqttMessage m = new MqttMessage(body.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        MqttProperties p = new MqttProperties();
        p.setResponseTopic(responseTopic);
        p.setCorrelationData(correlation.getBytes(StandardCharsets.UTF_8));
        m.setProperties(p);
        cloud.publish(Topic.infer("plant-7", "cam-1", "cls").value(), m);
    }

    @Test
    void commands_are_applied_once_and_acknowledged_and_state_is_retained() throws Exception {
        DeviceState online = JSON.decode(next(states).getPayload(), DeviceState.class);
        assertThat(online.online()).isTrue();
        assertThat(online.models()).extracting(m -> m.model()).containsExactly("cls");
        // the runtimes this host loads, with the reason for any that does not (both load on linux/x86_64)
        assertThat(online.runtimes()).extracting(io.edgefleet.protocols.messages.RuntimeReport::runtime).containsExactly("onnxruntime", "tflite");
        if (io.edgefleet.profiles.probe.Platform.current().toString().equals("linux/x86_64")) {
            assertThat(online.runtimes()).allSatisfy(r -> assertThat(r.loadable()).as(r.detail()).isTrue());
        }
        String v1 = agent.slots().activeVersions().get("cls");
        // stage version 2 in the data folder as a deploy would, then activate it by command
        agent.slots().install("cls", "v2", SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2"))));
        states.clear();
        Command rollback = Command.rollback("cmd-1", "ro-1", "cls", Instant.now());
        cloud.publish(Topic.command("plant-7", "cam-1").value(), qos1(JSON.encode(rollback)));
        assertThat(JSON.decode(next(acks).getPayload(), CommandAck.class).phase()).isEqualTo(AckPhase.RECEIVED);
        CommandAck done = JSON.decode(next(acks).getPayload(), CommandAck.class);
        assertThat(done.phase()).isEqualTo(AckPhase.ROLLED_BACK);
        assertThat(done.rolloutId()).contains("ro-1");
        assertThat(agent.slots().activeVersions()).containsEntry("cls", v1);
        // the state of the v2 activation may still be on its way: wait for the one after the rollback
        DeviceState after = JSON.decode(next(states).getPayload(), DeviceState.class);
        while (!after.models().get(0).active().orElse("").equals(v1)) {
            after = JSON.decode(next(states).getPayload(), DeviceState.class);
        }
        assertThat(after.models().get(0).active()).contains(v1);
        assertThat(after.models().get(0).previous()).contains("v2");

        // redelivered: the recorded outcome again, and no second rollback
        cloud.publish(Topic.command("plant-7", "cam-1").value(), qos1(JSON.encode(rollback)));
        CommandAck again = JSON.decode(next(acks).getPayload(), CommandAck.class);
        assertThat(again.commandId()).isEqualTo("cmd-1");
        assertThat(again.phase()).isEqualTo(AckPhase.ROLLED_BACK);
        assertThat(agent.slots().activeVersions()).containsEntry("cls", v1);

        Command activate = Command.activate("cmd-2", "ro-1", "cls", "v2", Instant.now());
        cloud.publish(Topic.command("plant-7", "cam-1").value(), qos1(JSON.encode(activate)));
        next(acks);
        assertThat(JSON.decode(next(acks).getPayload(), CommandAck.class).phase()).isEqualTo(AckPhase.ACTIVATED);
        assertThat(agent.slots().activeVersions()).containsEntry("cls", "v2");

        Command missing = Command.activate("cmd-3", null, "cls", "v9", Instant.now());
        cloud.publish(Topic.command("plant-7", "cam-1").value(), qos1(JSON.encode(missing)));
        next(acks);
        CommandAck failed = JSON.decode(next(acks).getPayload(), CommandAck.class);
        assertThat(failed.phase()).isEqualTo(AckPhase.FAILED);
        assertThat(failed.error().orElseThrow().code()).isEqualTo("not-staged");

        Command configure = Command.configure("cmd-4", "cls", Map.of("escalation.threshold", "0.6"), Instant.now());
        cloud.publish(Topic.command("plant-7", "cam-1").value(), qos1(JSON.encode(configure)));
        next(acks);
        assertThat(JSON.decode(next(acks).getPayload(), CommandAck.class).phase()).isEqualTo(AckPhase.ACTIVATED);
        // a malformed command is ignored (no id to acknowledge to) and the agent keeps serving
        cloud.publish(Topic.command("plant-7", "cam-1").value(), qos1("{\"garbage\":true}".getBytes(StandardCharsets.UTF_8)));
        request("cls", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", "still");
        assertThat(status(next(replies))).isEqualTo("200");
    }

    @Test
    void the_agent_reconnects_after_a_broker_restart_and_answers_again() throws Exception {
        MQTT.broker().restart();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while ((!agent.mqtt().orElseThrow().isSubscribed() || !cloud.isConnected()) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        cloud.subscribe(REPLIES.filter(), 1);
        request("cls", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}", "after-restart");
        assertThat(status(next(replies))).isEqualTo("200");
    }

    private static MqttMessage qos1(byte[] payload) {
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        return m;
    }

    /** MQTT maps HTTP headers to user properties: the {@code edgefleet-split-key} one keys a sticky split; the parameter wins. */
    @Test
    void the_split_key_user_property_keys_the_split_and_the_parameter_wins() throws Exception {
        agent.slots().loadArmB("cls", "v2", SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("b"))));
        agent.splits().start(new io.edgefleet.agent.split.SplitRouter.Experiment("exp-mqtt", "cls", "v2", 0.5,
                io.edgefleet.agent.split.SplitRouter.SplitBy.KEY));
        String keyA = null;
        String keyB = null;
        for (int k = 0; keyA == null || keyB == null; k++) {
            if (io.edgefleet.agent.split.SplitRouter.bucket("exp-mqtt", "k" + k) < 0.5) {
                keyB = keyB == null ? "k" + k : keyB;
            } else {
                keyA = keyA == null ? "k" + k : keyA;
            }
        }
        String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
        String withParam = "{\"parameters\":{\"edgefleet.split_key\":\"" + keyA + "\"},"
                + "\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
        for (int i = 0; i < 5; i++) {
            request("cls", body, "kb-" + i, java.util.List.of(new UserProperty(io.edgefleet.agent.split.SplitRouter.KEY_HEADER, keyB)));
            assertThat(arm(next(replies))).isEqualTo("b");
            request("cls", body, "ka-" + i, java.util.List.of(new UserProperty(io.edgefleet.agent.split.SplitRouter.KEY_HEADER, keyA)));
            assertThat(arm(next(replies))).isEqualTo("a");
            request("cls", withParam, "kp-" + i, java.util.List.of(new UserProperty(io.edgefleet.agent.split.SplitRouter.KEY_HEADER, keyB)));
            assertThat(arm(next(replies))).as("the parameter wins").isEqualTo("a");
        }
    }

    private static String arm(MqttMessage reply) {
        assertThat(status(reply)).isEqualTo("200");
        return OipCodec.create().decodeResponse(reply.getPayload(), OptionalInt.empty()).parameters().get("edgefleet.arm").orElseThrow().toString();
    }
}
