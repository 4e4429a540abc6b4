package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.slots.Watchdog;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.testkit.MqttCallbacks;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Staged rollouts with real agents (real MQTT, HTTP sync, model files): the happy path, then a bad canary stopped in wave 1. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RolloutTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    static Path dir;
    static final int AGENTS = Integer.getInteger("edgefleet.rollout.agents", 20);
    static ControlPlane cp;
    static CloudClient ops;
    static final List<EdgeAgent> agents = new ArrayList<>();
    static MqttClient spy;
    static final Map<String, List<String>> commandsSeen = new ConcurrentHashMap<>();
    static volatile boolean traffic = true;
    static Thread load;
    static CloudConfig config;

    @BeforeAll
    static void start() throws Exception {
        // A fixed port: the control plane restarts in one test and the agents' sync URL must stay valid.
        config = CloudTestSupport.config(dir.resolve("cloud")).withHttp("127.0.0.1", io.edgefleet.testkit.Ports.freePort())
                .withMqtt(MQTT.broker().url()).withRolloutTick(Duration.ofMillis(100)).withBucket(Duration.ofSeconds(1));
        cp = ControlPlane.start(config);
        ops = client(cp, OPERATOR);
        assertThat(ops.pushModel("cls", "2", List.of(SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")))),
                List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
        assertThat(ops.pushModel("cls", "4", List.of(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v4")))),
                List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
        assertThat(ops.pushModel("cls", "6", List.of(slowClassifier(Files.createDirectories(dir.resolve("v6")))),
                List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
        // v7 and v3 are other models standing in for broken versions: their inputs or outputs differ on purpose
        assertThat(ops.pushModel("cls", "7", List.of(SyntheticModels.nanOnnx(Files.createDirectories(dir.resolve("v7")))),
                List.of(), Map.of(), true, n -> { }).status()).isEqualTo(201);
        assertThat(ops.pushModel("cls", "3", List.of(SyntheticModels.sqrtOnnx(Files.createDirectories(dir.resolve("v3")))),
                List.of(), Map.of(), true, n -> { }).status()).isEqualTo(201);
        JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
        AgentConfig.Sync sync = new AgentConfig.Sync(URI.create("http://127.0.0.1:" + cp.port()),
                Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
        for (int i = 0; i < AGENTS; i++) {
            Path models = Files.createDirectories(dir.resolve("m" + i));
            Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("s" + i))), models.resolve("cls.onnx"));
            agents.add(EdgeAgent.start(AgentConfig.defaults(dir.resolve("a" + i)).withModelsDir(models).withHttp("127.0.0.1", 0)
                    .withCoapPort(-1).withIdentity("ro", "dev-" + i).withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                    .withMqtt(MQTT.broker().url()).withSync(sync).withTelemetry(Duration.ofMillis(200), 10_000)
                    // The agent's own watchdog would roll the bad canary back by itself; here the cloud's gates are under test.
                    .withWatchdog(new Watchdog.Limits(Duration.ofMinutes(10), 1_000_000, 1.0, 1.0, 1000.0))
                    .withMaxLatencyFactor(1000.0)));
        }
        spy = new MqttClient(MQTT.broker().url(), "rollout-spy", new MemoryPersistence());
        spy.setCallback(MqttCallbacks.onMessage((t, m) -> {
            Command c = MessageCodec.json().decode(m.getPayload(), Command.class);
            commandsSeen.computeIfAbsent(Topic.parse(t).device(), k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                    .add(c.type().name() + ":" + c.version().orElse("-"));
        }));
        spy.connect();
        spy.subscribe("ef/v1/ro/+/cmd", 1);
        await(Duration.ofSeconds(30), AGENTS + " agents online", () -> cp.fleet().select(io.edgefleet.cloud.fleet.Selector.parse(
                "fleet=ro,status=online")).size() == AGENTS);
        HttpClient http = HttpClient.newHttpClient();
        byte[] body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,-2,3,4]}]}".getBytes();
        load = Thread.ofPlatform().daemon().start(() -> {
            while (traffic) {
                for (EdgeAgent a : agents) {
                    try {
                        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.httpPort() + "/v2/models/cls/infer"))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
                    } catch (Exception e) {
                        // the agent is swapping models: the next round counts
                    }
                }
            }
        });
    }

    @AfterAll
    static void stop() throws Exception {
        traffic = false;
        if (load != null) {
            load.join(5000);
        }
        if (spy != null) {
            spy.disconnect();
            spy.close();
        }
        agents.forEach(EdgeAgent::close);
        if (cp != null) {
            cp.close();
        }
    }

    private static JsonNode create(String spec) {
        CloudClient.Response r = ops.raw("POST", "/api/v1/rollouts", "application/json", spec.getBytes());
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return r.json();
    }

    /** Waits for a rollout condition; on time-out the failure shows the whole status. */
    private static void awaitState(String id, Duration timeout, String what, java.util.function.Predicate<JsonNode> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode st = status(id);
        while (!condition.test(st)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; status: " + st);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            st = status(id);
        }
    }

    private static JsonNode status(String id) {
        return ops.get("/api/v1/rollouts/" + id).json();
    }

    @Test
    @Order(1)
    void three_waves_bring_every_agent_to_the_new_version_with_the_gates_recorded() {
        String id = create("""
                {"model": "cls", "version": "2", "selector": "fleet=ro",
                 "waves": [{"percent": 10, "bake": "1s"}, {"percent": 50, "bake": "1s"}, {"percent": 100}],
                 "maxConcurrent": 8, "commandTimeout": "60s",
                 "gates": {"minDevices": 1, "maxInstallFailures": 0, "maxErrorRate": 0.05, "maxNonFiniteRate": 0}}
                """).get("rollout").get("id").asText();
        await(Duration.ofSeconds(120), "rollout succeeded", () -> {
            String s = status(id).get("rollout").get("state").asText();
            assertThat(s).isIn("running", "succeeded");
            return s.equals("succeeded");
        });
        JsonNode st = status(id);
        assertThat(agents).allSatisfy(a -> assertThat(a.slots().activeVersions()).containsEntry("cls", "2"));
        assertThat(st.get("devices").findValuesAsText("state")).containsOnly("activated").hasSize(AGENTS);
        List<JsonNode> passed = new ArrayList<>();
        st.get("log").forEach(l -> {
            if (l.get("kind").asText().equals("gate-passed")) {
                passed.add(l);
            }
        });
        assertThat(passed).extracting(l -> l.get("wave").asInt()).containsExactly(0, 1, 2);
        assertThat(passed.get(0).get("detail").get("reportingDevices").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(passed.get(0).get("detail").get("nonFiniteRate").asDouble()).isZero();
        // Wave sizes by rank: 10 % then 50 % then all.
        JsonNode waves = st.get("waves");
        assertThat(waves.get("1").get("activated").asInt()).isEqualTo((int) Math.ceil(AGENTS * 0.10));
        assertThat(waves.get("1").get("activated").asInt() + waves.get("2").get("activated").asInt()).isEqualTo((int) Math.ceil(AGENTS * 0.5));
    }

    @Test
    @Order(2)
    void a_canary_answering_nan_stops_in_wave_one_rolls_back_and_no_device_outside_wave_one_is_commanded() {
        commandsSeen.clear();
        String id = create("""
                {"model": "cls", "version": "3", "selector": "fleet=ro",
                 "waves": [{"percent": 10, "bake": "30s"}, {"percent": 100}],
                 "commandTimeout": "60s", "onFailure": "rollback",
                 "gates": {"minDevices": 1, "maxNonFiniteRate": 0}}
                """).get("rollout").get("id").asText();
        awaitState(id, Duration.ofSeconds(90), "rolled back", st -> st.get("rollout").get("state").asText().equals("rolled-back"));
        JsonNode st = status(id);
        assertThat(st.get("rollout").get("reason").asText()).contains("non-finite");
        Set<String> wave1 = new java.util.HashSet<>();
        st.get("devices").forEach(d -> {
            if (d.get("wave").asInt() == 0) {
                wave1.add(d.get("device").asText());
            }
        });
        assertThat(wave1).hasSize((int) Math.ceil(AGENTS * 0.10));
        await(Duration.ofSeconds(60), "wave-1 devices rolled back", () -> {
            List<String> states = new ArrayList<>();
            status(id).get("devices").forEach(d -> {
                if (d.get("wave").asInt() == 0) {
                    states.add(d.get("state").asText());
                }
            });
            return states.stream().allMatch("rolled-back"::equals);
        });
        assertThat(agents).allSatisfy(a -> assertThat(a.slots().activeVersions()).containsEntry("cls", "2"));
        assertThat(commandsSeen.keySet()).as("only wave-1 devices ever got a command").isEqualTo(wave1);
        assertThat(commandsSeen.values().stream().flatMap(List::stream).collect(Collectors.toSet())).containsOnly("DEPLOY:3", "ROLLBACK:2");
        st.get("devices").forEach(d -> {
            if (d.get("wave").asInt() > 0) {
                assertThat(d.get("state").asText()).isEqualTo("pending");
                assertThat(d.get("attempts").asInt()).isZero();
            }
        });
    }

    @Test
    @Order(3)
    void a_control_plane_stopped_during_wave_two_resumes_and_completes_without_conflicting_commands() throws Exception {
        commandsSeen.clear();
        String id = create("""
                {"model": "cls", "version": "4", "selector": "fleet=ro",
                 "waves": [{"percent": 10, "bake": "1s"}, {"percent": 50, "bake": "2s"}, {"percent": 100}],
                 "maxConcurrent": 2, "commandTimeout": "30s",
                 "gates": {"minDevices": 1, "maxInstallFailures": 0, "maxNonFiniteRate": 0}}
                """).get("rollout").get("id").asText();
        awaitState(id, Duration.ofSeconds(60), "wave 2 started", st -> st.get("currentWave").asInt() == 2);
        cp.close(); // mid-wave: commands in flight, acknowledgements arriving while it is down
        Thread.sleep(1500);
        cp = ControlPlane.start(config);
        ops = client(cp, OPERATOR);
        await(Duration.ofSeconds(120), "rollout completed after the restart", () -> status(id).get("rollout").get("state").asText()
                .equals("succeeded"));
        assertThat(agents).allSatisfy(a -> assertThat(a.slots().activeVersions()).containsEntry("cls", "4"));
        assertThat(status(id).get("devices").findValuesAsText("state")).containsOnly("activated").hasSize(AGENTS);
        // Every command any device saw in this rollout names the same version: never two conflicting targets.
        assertThat(commandsSeen.values().stream().flatMap(List::stream).collect(Collectors.toSet())).containsOnly("DEPLOY:4");
        assertThat(commandsSeen.keySet()).hasSize(AGENTS);
    }

    /** The classifier's signature (x[N,4] → probs[N,3]) through two 1024-wide layers: the same answers' shape, about 50× the work. */
    static Path slowClassifier(Path dir) throws java.io.IOException {
        int h = 2048;
        java.util.Random rnd = new java.util.Random(7);
        byte[] model = io.edgefleet.engines.synth.OnnxGraph.create("slow")
                .input("x", io.edgefleet.protocols.oip.DataType.FP32, -1, 4)
                .initializer("W1", io.edgefleet.protocols.oip.DataType.FP32, new long[] {4, h}, floats(rnd, 4 * h))
                .initializer("W2", io.edgefleet.protocols.oip.DataType.FP32, new long[] {h, h}, floats(rnd, h * h))
                .initializer("W3", io.edgefleet.protocols.oip.DataType.FP32, new long[] {h, 3}, floats(rnd, h * 3))
                .node("MatMul", List.of("x", "W1"), List.of("h1"))
                .node("Tanh", List.of("h1"), List.of("a1"))
                .node("MatMul", List.of("a1", "W2"), List.of("h2"))
                .node("Tanh", List.of("h2"), List.of("a2"))
                .node("MatMul", List.of("a2", "W3"), List.of("logits"))
                .node("Softmax", List.of("logits"), List.of("probs"), Map.of("axis", 1L))
                .output("probs", io.edgefleet.protocols.oip.DataType.FP32, -1, 3)
                .toBytes();
        return Files.write(dir.resolve("slow.onnx"), model);
    }

    private static byte[] floats(java.util.Random rnd, int n) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(n * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat((float) (rnd.nextGaussian() * 0.05));
        }
        return b.array();
    }

    private static Set<String> waveOne(JsonNode status) {
        Set<String> out = new java.util.HashSet<>();
        status.get("devices").forEach(d -> {
            if (d.get("wave").asInt() == 0) {
                out.add(d.get("device").asText());
            }
        });
        return out;
    }

    @Test
    @Order(4)
    void a_canary_ten_times_slower_stops_in_wave_one_on_the_p95_gate_and_rolls_back() {
        commandsSeen.clear();
        String id = create("""
                {"model": "cls", "version": "6", "selector": "fleet=ro",
                 "waves": [{"percent": 10, "bake": "3s"}, {"percent": 100}],
                 "commandTimeout": "60s", "onFailure": "rollback",
                 "gates": {"minDevices": 1, "maxP95Ratio": 3.0}}
                """).get("rollout").get("id").asText();
        awaitState(id, Duration.ofSeconds(90), "rolled back", st -> st.get("rollout").get("state").asText().equals("rolled-back"));
        JsonNode st = status(id);
        assertThat(st.get("rollout").get("reason").asText()).contains("p95 latency").contains("the baseline");
        Set<String> wave1 = waveOne(st);
        assertThat(commandsSeen.keySet()).isEqualTo(wave1);
        await(Duration.ofSeconds(60), "wave 1 back on 4", () -> agents.stream().allMatch(a -> a.slots().activeVersions().get("cls").equals("4")));
    }

    @Test
    @Order(5)
    void a_version_that_fails_on_the_device_pauses_the_rollout_in_wave_one_with_the_device_reason_then_abort_is_recorded() {
        commandsSeen.clear();
        String id = create("""
                {"model": "cls", "version": "7", "selector": "fleet=ro",
                 "waves": [{"percent": 10}, {"percent": 100}],
                 "commandTimeout": "60s", "onFailure": "pause",
                 "gates": {"maxInstallFailures": 0}}
                """).get("rollout").get("id").asText();
        awaitState(id, Duration.ofSeconds(60), "paused", st -> st.get("rollout").get("state").asText().equals("paused"));
        JsonNode st = status(id);
        assertThat(st.get("rollout").get("reason").asText()).contains("install failures").contains("self-test");
        assertThat(commandsSeen.keySet()).isEqualTo(waveOne(st));
        assertThat(agents).allSatisfy(a -> assertThat(a.slots().activeVersions()).containsEntry("cls", "4"));
        CloudClient.Response abort = ops.post("/api/v1/rollouts/" + id + "/abort", Map.of("reason", "bad build, see ticket 42"));
        assertThat(abort.status()).as(abort.text()).isEqualTo(200);
        assertThat(abort.json().get("rollout").get("state").asText()).isEqualTo("aborted");
        JsonNode last = abort.json().get("log").get(abort.json().get("log").size() - 1);
        assertThat(last.get("kind").asText()).isEqualTo("aborted");
        assertThat(last.get("actor").asText()).isEqualTo("ops");
        assertThat(last.get("detail").get("reason").asText()).isEqualTo("bad build, see ticket 42");
        assertThat(ops.post("/api/v1/rollouts/" + id + "/resume", Map.of()).status()).isEqualTo(409);
        assertThat(client(cp, CloudTestSupport.VIEWER).post("/api/v1/rollouts/" + id + "/pause", Map.of()).status()).isEqualTo(403);
    }

    @Test
    @Order(6)
    void an_agent_offline_during_its_wave_times_out_and_the_rollout_proceeds_within_its_failure_budget() {
        EdgeAgent gone = agents.remove(agents.size() - 1);
        String goneId = "dev-" + agents.size();
        gone.close();
        await(Duration.ofSeconds(10), goneId + " offline", () -> cp.fleet().get("ro", goneId).map(d -> !d.online()).orElse(false));
        String id = create("""
                {"model": "cls", "version": "2", "selector": "fleet=ro",
                 "waves": [{"percent": 100}],
                 "commandTimeout": "10s", "retries": 1,
                 "gates": {"minDevices": 0, "maxInstallFailures": 1}}
                """).get("rollout").get("id").asText();
        awaitState(id, Duration.ofSeconds(90), "succeeded", st -> st.get("rollout").get("state").asText().equals("succeeded"));
        JsonNode st = status(id);
        st.get("devices").forEach(d -> {
            if (d.get("device").asText().equals(goneId)) {
                assertThat(d.get("state").asText()).isEqualTo("timed-out");
                assertThat(d.get("attempts").asInt()).isEqualTo(2);
                assertThat(d.get("error").asText()).contains("no activation within");
            } else {
                assertThat(d.get("state").asText()).isEqualTo("activated");
            }
        });
        assertThat(agents).allSatisfy(a -> assertThat(a.slots().activeVersions()).containsEntry("cls", "2"));
    }
}
