package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.split.SplitRouter;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.Parameters;
import io.edgefleet.protocols.oip.TensorData;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.MosquittoExtension;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Experiments and shadows that survive what the field does to them (issue 20), with real parts: a control plane with
 * every role, a real Mosquitto, two real agents restarted from their data folders. A device offline (its broker session
 * gone) when an experiment starts gets its split once it connects, from the cloud's re-send; an agent restarted in the
 * middle of an experiment answers from arm B again before any command could reach it, and one restarted in a shadow wave
 * samples its shadow again; aborting the shadow rollout unloads the candidate from every device.
 */
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CandidatesKeptTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;
    static final List<AgentConfig> configs = new ArrayList<>();
    static final List<EdgeAgent> agents = new ArrayList<>();
    static String activeVersion;
    static String experiment;
    static final Random random = new Random(29);

    @BeforeAll
    static void start() throws Exception {
        int port = io.edgefleet.testkit.Ports.freePort();
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withHttp("127.0.0.1", port).withRoles(EnumSet.allOf(Role.class))
                .withMqtt(MQTT.broker().url()).withRolloutTick(Duration.ofMillis(100)).withBucket(Duration.ofSeconds(1)),
                java.time.Clock.systemUTC(), io.edgefleet.cloud.pki.Revocations.none(), io.edgefleet.transport.tracing.Tracing.off());
        ops = client(cp, OPERATOR);
        Path cands = Files.createDirectories(dir.resolve("candidates"));
        CloudClient.Response pushed = ops.pushModel("clf", "sharp", List.of(SyntheticModels.rotatedClassifierOnnx(cands, "sharp.onnx", 0, 4)),
                List.of(), Map.of(), n -> { });
        assertThat(pushed.status()).as(pushed.text()).isEqualTo(201);
        JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
        AgentConfig.Sync sync = new AgentConfig.Sync(URI.create("http://127.0.0.1:" + port),
                Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
        for (int i = 0; i < 2; i++) {
            Path models = Files.createDirectories(dir.resolve("models-" + i));
            SyntheticModels.rotatedClassifierOnnx(models, "clf.onnx", 0, 1);
            configs.add(AgentConfig.defaults(dir.resolve("agent-" + i)).withModelsDir(models).withHttp("127.0.0.1", 0)
                    .withCoapPort(-1).withIdentity("kp", "d-" + i).withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                    .withMqtt(MQTT.broker().url()).withSync(sync).withTls(CloudTestSupport.agentToken()).withTelemetry(Duration.ofMillis(250), 10_000)
                    .withMaxLatencyFactor(Double.MAX_VALUE));
            agents.add(EdgeAgent.start(configs.get(i)));
        }
        activeVersion = agents.get(0).slots().activeVersions().get("clf");
        awaitOnline(2);
    }

    static void awaitOnline(int n) {
        await(Duration.ofSeconds(30), n + " agents online with their version", () -> cp.fleet().select(
                io.edgefleet.cloud.fleet.Selector.parse("fleet=kp,status=online")).stream().filter(d -> d.activeVersion("clf").isPresent()).count() == n);
    }

    @AfterAll
    static void stop() {
        agents.forEach(a -> {
            if (a != null) {
                a.close();
            }
        });
        if (cp != null) {
            cp.close();
        }
    }

    /** Agent {@code i} killed and started again from its data folder (the same identity, store and models folder). */
    static EdgeAgent restart(int i) {
        agents.get(i).close();
        agents.set(i, null);
        EdgeAgent a = EdgeAgent.start(configs.get(i));
        agents.set(i, a);
        return a;
    }

    static InferResponse infer(EdgeAgent a, String key) {
        InferTensor x = new InferTensor("x", TensorData.ofFloats(new long[] {1, 2}, (float) random.nextGaussian(), (float) random.nextGaussian()));
        return a.inference().infer("clf", Optional.empty(), new InferRequest(Optional.empty(), Parameters.of(SplitRouter.KEY_PARAMETER, key),
                List.of(x), List.of()));
    }

    /** The arm of 60 client keys on agent {@code a}, each checked against the version that answered. */
    static Map<String, String> arms(EdgeAgent a) {
        Map<String, String> out = new HashMap<>();
        for (int k = 0; k < 60; k++) {
            InferResponse r = infer(a, "client-" + k);
            String arm = r.parameters().get("edgefleet.arm").orElseThrow().toString();
            assertThat(r.modelVersion()).contains(arm.equals("b") ? "sharp" : activeVersion);
            out.put("client-" + k, arm);
        }
        return out;
    }

    static JsonNode show(String id) {
        return ops.get("/api/v1/experiments/" + id).json();
    }

    static JsonNode command(JsonNode shown, String device, String kind) {
        for (JsonNode c : shown.get("commands")) {
            if (c.get("device").asText().equals(device) && c.get("kind").asText().equals(kind)) {
                return c;
            }
        }
        throw new AssertionError("no " + kind + " command for " + device + " in " + shown.get("commands"));
    }

    @Test
    @Order(1)
    void a_device_offline_when_the_experiment_starts_gets_its_split_once_it_connects() throws Exception {
        agents.get(1).close();
        agents.set(1, null);
        // the broker forgets the offline device's session (as when its session expires): nothing is queued for it
        MqttClient forget = new MqttClient(MQTT.broker().url(), "ef-kp-d-1", new MemoryPersistence());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setSessionExpiryInterval(0L);
        forget.connect(o);
        forget.disconnect();
        forget.close();
        awaitOnline(1);

        CloudClient.Response r = ops.raw("POST", "/api/v1/experiments", "application/json", """
                {"model": "clf", "candidate": "sharp", "share": 0.5, "splitBy": "key", "selector": "fleet=kp"}""".getBytes());
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        experiment = r.json().get("id").asText();
        assertThat(r.json().get("devices")).hasSize(2);
        await(Duration.ofSeconds(60), "the online device runs the split", () -> command(show(experiment), "kp/d-0", "start")
                .path("phase").asText().equals("activated"));
        JsonNode shown = show(experiment);
        assertThat(command(shown, "kp/d-1", "start").get("state").asText()).isEqualTo("sent");
        assertThat(shown.get("notRunning")).extracting(JsonNode::asText).containsExactly("kp/d-1");

        EdgeAgent back = EdgeAgent.start(configs.get(1));
        agents.set(1, back);
        await(Duration.ofSeconds(90), "the device back online runs the split", () -> back.splits().running("clf")
                .map(e -> e.id().equals(experiment)).orElse(false));
        await(Duration.ofSeconds(30), "its start acknowledged", () -> command(show(experiment), "kp/d-1", "start")
                .path("phase").asText().equals("activated"));
        shown = show(experiment);
        assertThat(command(shown, "kp/d-1", "start").get("attempts").asInt()).as("sent again after the first send").isGreaterThanOrEqualTo(2);
        assertThat(command(shown, "kp/d-0", "start").get("attempts").asInt()).as("an acknowledged command is not sent again").isEqualTo(1);
        assertThat(shown.get("notRunning")).isEmpty();
        assertThat(arms(back)).as("the same keys on the same arms on both devices").isEqualTo(arms(agents.get(0)));
    }

    @Test
    @Order(2)
    void an_agent_restarted_mid_experiment_answers_from_arm_b_again_without_a_new_command() {
        Map<String, String> before = arms(agents.get(0));
        assertThat(before).containsValues("a", "b");
        EdgeAgent a = restart(0);
        // start() returns before the MQTT session could deliver anything: the split comes from the agent's own store
        assertThat(a.splits().running("clf")).map(SplitRouter.Experiment::id).contains(experiment);
        assertThat(a.slots().armBVersion("clf")).contains("sharp");
        assertThat(arms(a)).as("every key on the arm it had before the restart").isEqualTo(before);
        awaitOnline(2);
        assertThat(command(show(experiment), "kp/d-0", "start").get("attempts").asInt()).as("no command was sent again").isEqualTo(1);

        CloudClient.Response stopped = ops.raw("POST", "/api/v1/experiments/" + experiment + "/stop", "application/json", new byte[0]);
        assertThat(stopped.status()).as(stopped.text()).isEqualTo(200);
        await(Duration.ofSeconds(60), "both agents back on arm A", () -> agents.stream()
                .allMatch(x -> x.splits().running("clf").isEmpty() && x.slots().armBVersion("clf").isEmpty()));
        await(Duration.ofSeconds(30), "both stops acknowledged", () -> {
            JsonNode s = show(experiment);
            return command(s, "kp/d-0", "stop").path("phase").asText().equals("activated")
                    && command(s, "kp/d-1", "stop").path("phase").asText().equals("activated");
        });
        assertThat(show(experiment).has("notRunning")).as("only a running experiment has devices yet to run it").isFalse();
        assertThat(restart(1).slots().armBVersion("clf")).as("a stopped experiment's arm B is not loaded again").isEmpty();
        awaitOnline(2);
    }

    @Test
    @Order(3)
    void a_restarted_agent_samples_its_shadow_again_and_an_abort_unloads_the_candidate_everywhere() {
        CloudClient.Response created = ops.raw("POST", "/api/v1/rollouts", "application/json", """
                {"model": "clf", "version": "sharp", "selector": "fleet=kp",
                 "waves": [{"percent": 100, "mode": "shadow"}, {"percent": 100}],
                 "shadowGates": {"minSamples": 100000000},
                 "commandTimeout": "60s", "telemetryWait": "10m"}
                """.getBytes());
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        String id = created.json().get("rollout").get("id").asText();
        await(Duration.ofSeconds(60), "both devices shadowing", () -> agents.stream().allMatch(a -> a.slots().shadowVersion("clf").isPresent()));

        EdgeAgent a = restart(1);
        assertThat(a.slots().shadowVersion("clf")).as("loaded again from the agent's store").contains("sharp");
        assertThat(a.slots().shadowRollout("clf")).contains(id);
        long samplesBefore = samples(id);
        for (int i = 0; i < 400; i++) {
            assertThat(infer(a, "k" + i).modelVersion()).as("a shadow never answers").contains(activeVersion);
        }
        await(Duration.ofSeconds(60), "the restarted agent's shadow samples reach the rollout", () -> samples(id) >= samplesBefore + 20);
        JsonNode rollout = ops.get("/api/v1/rollouts/" + id).json();
        assertThat(rollout.get("rollout").get("state").asText()).isEqualTo("running");
        assertThat(rollout.get("devices")).extracting(d -> d.get("state").asText()).containsOnly("shadowing");

        assertThat(ops.post("/api/v1/rollouts/" + id + "/abort", Map.of("reason", "test over")).status()).isEqualTo(200);
        await(Duration.ofSeconds(60), "the candidate unloaded on every device", () -> agents.stream()
                .allMatch(x -> x.slots().shadowVersions().isEmpty() && x.slots().keptCandidates().isEmpty()));
        assertThat(agents).allSatisfy(x -> assertThat(x.slots().activeVersions()).containsEntry("clf", activeVersion));
        await(Duration.ofSeconds(30), "the unloads acknowledged", () -> {
            List<String> states = new ArrayList<>();
            ops.get("/api/v1/rollouts/" + id).json().get("devices").forEach(d -> states.add(d.get("state").asText()));
            return states.stream().allMatch("rolled-back"::equals);
        });
        assertThat(ops.get("/api/v1/rollouts/" + id).json().get("rollout").get("state").asText()).isEqualTo("aborted");
        assertThat(restart(0).slots().shadowVersions()).as("not loaded again after the abort").isEmpty();
    }

    static long samples(String id) {
        JsonNode s = ops.get("/api/v1/rollouts/" + id).json().path("shadow").path("totals").path("samples");
        return s.isMissingNode() ? 0 : s.asLong();
    }
}
