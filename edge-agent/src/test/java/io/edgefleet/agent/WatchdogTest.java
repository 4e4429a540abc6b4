package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.agent.slots.SelfTest;
import io.edgefleet.agent.slots.Watchdog;
import io.edgefleet.engines.InferenceFailedException;
import io.edgefleet.engines.InvalidInputException;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.MosquittoExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The local watchdog rolls a new version back by itself when it misbehaves on real traffic, and tells the cloud. */
class WatchdogTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();

    @TempDir
    Path dir;

    private static InferRequest negative() {
        return InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, -1, -2, -3, -4)));
    }

    private static InferRequest indices(float v) {
        return InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, v, 1, 2, 3)));
    }

    @Test
    void a_version_that_answers_nan_in_the_field_is_rolled_back_and_reported() throws Exception {
        try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withWatchdog(new Watchdog.Limits(Duration.ofMinutes(5), 10, 0.2, 0.0, 3.0)))) {
            List<String> reports = new CopyOnWriteArrayList<>();
            agent.watchdog().onRollback((model, reason) -> reports.add(model + ": " + reason));
            agent.slots().install("cls", "1", SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1"))));
            for (int i = 0; i < 50; i++) {
                agent.inference().infer("cls", Optional.empty(), negative()); // a baseline for version 1
            }
            agent.slots().install("cls", "2", SyntheticModels.sqrtOnnx(Files.createDirectories(dir.resolve("v2"))));
            assertThat(agent.slots().activeVersions()).containsEntry("cls", "2"); // passed its self-test on zeros
            for (int i = 0; i < 10; i++) {
                agent.inference().infer("cls", Optional.empty(), negative());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (reports.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20); // listeners hear a rollback after the swap, on the watchdog's thread
            }
            assertThat(agent.slots().activeVersions()).containsEntry("cls", "1");
            assertThat(reports).singleElement().asString()
                    .isEqualTo("cls: version 2 rolled back to 1: 10 of 10 answers held NaN or infinity");
            assertThat(agent.inference().infer("cls", Optional.empty(), negative()).modelVersion()).contains("1");
        }
    }

    @Test
    void model_errors_roll_back_a_version_and_client_errors_never_do() throws Exception {
        Path v1 = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1")));
        Path v2 = SyntheticModels.lookupOnnx(Files.createDirectories(dir.resolve("v2")));
        try (SlotRig rig = new SlotRig(dir.resolve("data"), SelfTest.Limits.defaults(), Watchdog.Limits.defaults())) {
            rig.slots.install("cls", "1", v1);
            rig.slots.install("cls", "2", v2);
            InferRequest wrongShape = InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 3}, 1, 2, 3)));
            assertThatThrownBy(() -> rig.inference.infer("cls", Optional.empty(), wrongShape)).isInstanceOf(InvalidInputException.class);
            // 200 client errors (400s) and a few good answers: 99 % of the requests failed, none by the model's fault
            assertThat(rig.send("cls", 199, wrongShape)).isZero();
            assertThat(rig.send("cls", 5, indices(0))).isEqualTo(5);
            rig.endWindow();
            Watchdog.BakeStatus quiet = rig.watchdog.bake("cls").orElseThrow();
            assertThat(quiet.requests()).isEqualTo(5);
            assertThat(quiet.modelErrors()).isZero();
            assertThat(rig.slots.activeVersions()).containsEntry("cls", "2");
            // now the model itself fails: an index out of its table is a runtime error (500), the model's fault
            assertThatThrownBy(() -> rig.inference.infer("cls", Optional.empty(), indices(9))).isInstanceOf(InferenceFailedException.class);
            rig.send("cls", 4, indices(9));
            assertThat(rig.watchdog.bake("cls").orElseThrow().modelErrors()).isEqualTo(5);
            rig.send("cls", 9, indices(0));
            Watchdog.BakeStatus early = rig.watchdog.bake("cls").orElseThrow();
            assertThat(early.requests()).isEqualTo(19);
            assertThat(early.rollingBack()).as("5 of 19 are model errors, but fewer than 20 requests judge nothing").isFalse();
            rig.send("cls", 1, indices(0)); // the 20th request: 5 of 20 model errors, 25 %
            rig.awaitRollbackTo("cls", "1");
            assertThat(rig.rollbacks).containsExactly("cls: version 2 rolled back to 1: model error rate 25% over 20 requests"
                    + " is above the limit of 20%");
        }
    }

    @Test
    void an_automatic_rollback_reaches_the_cloud_as_a_watchdog_ack() throws Exception {
        try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withIdentity("plant-7", "cam-9").withMqtt(MQTT.broker().url()))) {
            MqttClient cloud = new MqttClient(MQTT.broker().url(), "cloud-watchdog-test", new MemoryPersistence());
            BlockingQueue<MqttMessage> acks = new LinkedBlockingQueue<>();
            cloud.setCallback(io.edgefleet.testkit.MqttCallbacks.onMessage((topic, m) -> acks.add(m)));
            cloud.connect();
            cloud.subscribe(Topic.commandAck("plant-7", "cam-9").value(), 1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!agent.mqtt().orElseThrow().isConnected() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(agent.mqtt().orElseThrow().isConnected()).isTrue();
            agent.slots().install("cls", "1", SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1"))));
            agent.slots().install("cls", "2", SyntheticModels.sqrtOnnx(Files.createDirectories(dir.resolve("v2"))));
            for (int i = 0; i < Watchdog.Limits.defaults().minRequests(); i++) {
                agent.inference().infer("cls", Optional.empty(), negative());
            }
            MqttMessage m = acks.poll(20, TimeUnit.SECONDS);
            assertThat(m).as("an ack within 20 s").isNotNull();
            CommandAck ack = MessageCodec.json().decode(m.getPayload(), CommandAck.class);
            assertThat(ack.device()).isEqualTo("cam-9");
            assertThat(ack.phase()).isEqualTo(AckPhase.ROLLED_BACK);
            assertThat(ack.commandId()).startsWith("watchdog-");
            assertThat(ack.rolloutId()).isEmpty();
            assertThat(ack.error().orElseThrow().code()).isEqualTo("watchdog");
            assertThat(ack.error().orElseThrow().message()).isEqualTo("version 2 rolled back to 1: 20 of 20 answers held NaN or infinity");
            assertThat(agent.slots().activeVersions()).containsEntry("cls", "1");
            cloud.disconnect();
            cloud.close();
        }
    }
}
