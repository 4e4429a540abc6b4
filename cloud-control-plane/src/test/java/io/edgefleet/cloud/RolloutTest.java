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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Staged rollouts with real agents (real MQTT, HTTP sync, model files). The scenarios are
 * independent and run in any order: each owns its model name (so its rollout, versions and the
 * agents' slots for it are its own), and the scenarios that take agents offline or need a quiet
 * fleet own their agents. Waits fail at once when the rollout reaches a state other than the one
 * awaited, with the whole status.
 *
 * <ul>
 * <li>fleet {@code ro}: {@value #AGENTS_DEFAULT} agents (property {@code edgefleet.rollout.agents})
 * serving {@code happy}, {@code nan}, {@code restart}, {@code slow}, {@code selftest}; a load thread
 * sends inference requests for the first four;
 * <li>fleet {@code rq}: 3 agents serving {@code q1}..{@code q4}, never sent a request;
 * <li>fleet {@code rx}: 2 agents serving {@code off}, one of them stopped by its scenario.
 * </ul>
 */
class RolloutTest {
    static final int AGENTS_DEFAULT = 20;
    static final int AGENTS = Integer.getInteger("edgefleet.rollout.agents", AGENTS_DEFAULT);
    static final List<String> LOADED = List.of("happy", "nan", "restart", "slow");
    static final Set<String> ENDED = Set.of("succeeded", "rolled-back", "aborted");

    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;
    static final List<EdgeAgent> agents = new ArrayList<>();
    static final List<EdgeAgent> quiet = new ArrayList<>();
    static final List<EdgeAgent> offline = new ArrayList<>();
    static MqttClient spy;
    /** Per model, per device: every command seen on the broker as TYPE:version. */
    static final Map<String, Map<String, List<String>>> commandsSeen = new ConcurrentHashMap<>();
    static volatile boolean traffic = true;
    static Thread load;
    static CloudConfig config;
    /** The version every agent starts with (the same file for every model: the first 12 hex digits of its SHA-256). */
    static String base;
    static Path baseFile;
    /** Issue 17: the INFO lines of the rollout engine's decisions and the agents' deploy steps, formatted. */
    static final List<String> decisions = new CopyOnWriteArrayList<>();
    static final List<java.util.logging.Logger> recorded = List.of(
            java.util.logging.Logger.getLogger("io.edgefleet.cloud.rollout.RolloutEngine"),
            java.util.logging.Logger.getLogger("io.edgefleet.agent.commands.CommandHandler"));

    static List<String> lines(String containing) {
        return decisions.stream().filter(l -> l.contains(containing)).toList();
    }

    @BeforeAll
    static void start() throws Exception {
        java.util.logging.Formatter f = new java.util.logging.SimpleFormatter();
        for (java.util.logging.Logger l : recorded) {
            l.addHandler(new java.util.logging.Handler() {
                @Override
                public void publish(java.util.logging.LogRecord r) {
                    decisions.add(r.getLevel() + " " + f.formatMessage(r));
                }

                @Override
                public void flush() {
                }

                @Override
                public void close() {
                }
            });
        }
        // A fixed port: the control plane restarts in one test and the agents' sync URL must stay valid.
        config = CloudTestSupport.config(dir.resolve("cloud")).withHttp("127.0.0.1", io.edgefleet.testkit.Ports.freePort())
                .withMqtt(MQTT.broker().url()).withRolloutTick(Duration.ofMillis(100)).withBucket(Duration.ofSeconds(1));
        cp = ControlPlane.start(config);
        ops = client(cp, OPERATOR);
        push("happy", "2", SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("happy2"))));
        push("nan", "3", SyntheticModels.sqrtOnnx(Files.createDirectories(dir.resolve("nan3"))));
        push("restart", "4", SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("restart4"))));
        push("slow", "6", slowClassifier(Files.createDirectories(dir.resolve("slow6"))));
        push("selftest", "7", SyntheticModels.nanOnnx(Files.createDirectories(dir.resolve("selftest7"))));
        Path tfl = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("q2")));
        for (String q : List.of("q1", "q2", "q3", "q4", "off")) {
            push(q, "2", tfl);
        }
        baseFile = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("base")));
        JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
        AgentConfig.Sync sync = new AgentConfig.Sync(URI.create("http://127.0.0.1:" + cp.port()),
                Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
        for (int i = 0; i < AGENTS; i++) {
            agents.add(agent(sync, "ro", "dev-" + i, List.of("happy", "nan", "restart", "slow", "selftest")));
        }
        for (int i = 0; i < 3; i++) {
            quiet.add(agent(sync, "rq", "q-" + i, List.of("q1", "q2", "q3", "q4")));
        }
        for (int i = 0; i < 2; i++) {
            offline.add(agent(sync, "rx", "x-" + i, List.of("off")));
        }
        base = agents.get(0).slots().activeVersions().get("happy");
        spy = new MqttClient(MQTT.broker().url(), "rollout-spy", new MemoryPersistence());
        spy.setCallback(MqttCallbacks.onMessage((t, m) -> {
            Command c = MessageCodec.json().decode(m.getPayload(), Command.class);
            Topic topic = Topic.parse(t);
            commandsSeen.computeIfAbsent(c.model(), k -> new ConcurrentHashMap<>())
                    .computeIfAbsent(topic.fleet() + "/" + topic.device(), k -> new CopyOnWriteArrayList<>())
                    .add(c.type().name() + ":" + c.version().orElse("-"));
        }));
        spy.connect();
        spy.subscribe("ef/v1/+/+/cmd", 1);
        int all = AGENTS + quiet.size() + offline.size();
        await(Duration.ofSeconds(60), all + " agents online", () -> cp.fleet().select(io.edgefleet.cloud.fleet.Selector.parse(
                "status=online")).size() == all);
        HttpClient http = HttpClient.newHttpClient();
        byte[] body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,-2,3,4]}]}".getBytes();
        load = Thread.ofPlatform().daemon().start(() -> {
            while (traffic) {
                for (EdgeAgent a : agents) {
                    for (String model : LOADED) {
                        try {
                            http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.httpPort() + "/v2/models/" + model + "/infer"))
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
                        } catch (Exception e) {
                            // the agent is swapping models: the next round counts
                        }
                    }
                }
            }
        });
    }

    private static void push(String model, String version, Path file) {
        CloudClient.Response r = ops.pushModel(model, version, List.of(file), List.of(), Map.of(), n -> { });
        assertThat(r.status()).as(r.text()).isEqualTo(201);
    }

    private static EdgeAgent agent(AgentConfig.Sync sync, String fleet, String device, List<String> models) throws Exception {
        Path dirOf = Files.createDirectories(dir.resolve("m-" + fleet + "-" + device));
        for (String m : models) {
            Files.copy(baseFile, dirOf.resolve(m + ".onnx"));
        }
        return EdgeAgent.start(AgentConfig.defaults(dir.resolve("a-" + fleet + "-" + device)).withModelsDir(dirOf).withHttp("127.0.0.1", 0)
                .withCoapPort(-1).withIdentity(fleet, device).withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                .withMqtt(MQTT.broker().url()).withSync(sync).withTls(CloudTestSupport.agentToken()).withTelemetry(Duration.ofMillis(200), 10_000)
                // One isolated verification per distinct file in this JVM, not one per agent and model (25 agents share one base file).
                .withIsolation(io.edgefleet.engines.isolation.IsolationOptions.defaults().withSharedVerdicts(true))
                // The agent's own watchdog would roll the bad canary back by itself; here the cloud's gates are under test.
                .withWatchdog(new Watchdog.Limits(Duration.ofMinutes(10), 1_000_000, 1.0, 1.0, 1000.0))
                // Likewise its self-test's latency check (a 0.01 ms base makes any real model "1000x slower").
                .withMaxLatencyFactor(Double.MAX_VALUE));
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
        quiet.forEach(EdgeAgent::close);
        offline.forEach(EdgeAgent::close);
        if (cp != null) {
            cp.close();
        }
    }

    private static String create(String spec) {
        CloudClient.Response r = ops.raw("POST", "/api/v1/rollouts", "application/json", spec.getBytes());
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return r.json().get("rollout").get("id").asText();
    }

    private static JsonNode status(String id) {
        CloudClient.Response r = ops.get("/api/v1/rollouts/" + id);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    private static String state(JsonNode status) {
        return status.get("rollout").get("state").asText();
    }

    /** Waits for the rollout to reach {@code target}; fails at once if it reaches any other state but running. */
    private static JsonNode awaitState(String id, String target, Duration timeout) {
        return awaitRollout(id, timeout, "state " + target, Set.of("running", target), st -> state(st).equals(target));
    }

    /**
     * Polls the status until {@code condition}; fails at once when the state leaves {@code allowed}
     * (a rollout that ended or paused unexpectedly), or after {@code timeout}, with the whole status.
     */
    private static JsonNode awaitRollout(String id, Duration timeout, String what, Set<String> allowed, Predicate<JsonNode> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode st = status(id);
            if (condition.test(st)) {
                return st;
            }
            if (!allowed.contains(state(st))) {
                throw new AssertionError("waiting for " + what + ", the rollout became " + state(st) + ": " + st);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what + "; status: " + st);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static Set<String> waveOne(JsonNode status) {
        Set<String> out = new HashSet<>();
        status.get("devices").forEach(d -> {
            if (d.get("wave").asInt() == 1) {
                out.add(d.get("fleet").asText() + "/" + d.get("device").asText());
            }
        });
        return out;
    }

    private static Map<String, List<String>> commands(String model) {
        return commandsSeen.getOrDefault(model, Map.of());
    }

    private static List<String> logKinds(JsonNode status) {
        List<String> out = new ArrayList<>();
        status.get("log").forEach(l -> out.add(l.get("kind").asText()));
        return out;
    }

    private static String version(EdgeAgent a, String model) {
        return a.slots().activeVersions().get(model);
    }

    /**
     * The classifier's signature (x[N,4] → probs[N,3]) with the work of a real network: each row is
     * spread over 64 internal rows ({@code [N,4] × [64,4,H]} broadcasts to {@code [64,N,H]}), runs
     * through four {@code H×H} layers and is averaged back. About 270 million multiply-adds per row:
     * some 10 ms on a fast core, tens of times the base classifier's answer (about 0.2 ms with HTTP)
     * and far above the gate's 1 ms floor on any machine. (A single 2048-wide layer was not enough: a
     * fast CI machine ran it in 1.1 ms against a 0.2 ms baseline, under the floor.)
     */
    static Path slowClassifier(Path dir) throws java.io.IOException {
        int h = 1024;
        int spread = 64;
        int layers = 4;
        java.util.Random rnd = new java.util.Random(7);
        io.edgefleet.engines.synth.OnnxGraph g = io.edgefleet.engines.synth.OnnxGraph.create("slow")
                .input("x", io.edgefleet.protocols.oip.DataType.FP32, -1, 4)
                .initializer("W1", io.edgefleet.protocols.oip.DataType.FP32, new long[] {spread, 4, h}, floats(rnd, spread * 4 * h))
                .initializer("W2", io.edgefleet.protocols.oip.DataType.FP32, new long[] {h, h}, floats(rnd, h * h))
                .initializer("W3", io.edgefleet.protocols.oip.DataType.FP32, new long[] {h, 3}, floats(rnd, h * 3))
                .node("MatMul", List.of("x", "W1"), List.of("h0"));
        String last = "h0";
        for (int l = 1; l <= layers; l++) {
            g.node("MatMul", List.of(last, "W2"), List.of("m" + l)).node("Tanh", List.of("m" + l), List.of("h" + l));
            last = "h" + l;
        }
        byte[] model = g.node("ReduceMean", List.of(last), List.of("mean"), Map.of("axes", new long[] {0}, "keepdims", 0L))
                .node("MatMul", List.of("mean", "W3"), List.of("logits"))
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

    @Test
    void three_waves_bring_every_agent_to_the_new_version_with_the_gates_recorded() {
        String id = create("""
                {"model": "happy", "version": "2", "selector": "fleet=ro",
                 "waves": [{"percent": 10, "bake": "1s"}, {"percent": 50, "bake": "1s"}, {"percent": 100}],
                 "maxConcurrent": 8, "commandTimeout": "60s",
                 "gates": {"minDevices": 1, "maxInstallFailures": 0, "maxErrorRate": 0.05, "maxNonFiniteRate": 0}}
                """);
        JsonNode st = awaitState(id, "succeeded", Duration.ofSeconds(120));
        assertThat(st.get("waitingFor")).isEmpty();
        assertThat(agents).allSatisfy(a -> assertThat(version(a, "happy")).isEqualTo("2"));
        assertThat(st.get("devices").findValuesAsText("state")).containsOnly("activated").hasSize(AGENTS);
        List<JsonNode> passed = new ArrayList<>();
        st.get("log").forEach(l -> {
            if (l.get("kind").asText().equals("gate-passed")) {
                passed.add(l);
            }
        });
        assertThat(passed).extracting(l -> l.get("wave").asInt()).containsExactly(1, 2, 3);
        assertThat(passed.get(0).get("detail").get("reportingDevices").asInt()).isGreaterThanOrEqualTo(1);
        assertThat(passed.get(0).get("detail").get("requests").asInt()).isPositive();
        assertThat(passed.get(0).get("detail").get("nonFiniteRate").asDouble()).isZero();
        assertThat(passed.get(0).get("detail").get("verdict").asText()).isEqualTo("pass");
        // Wave sizes by rank: 10 % then 50 % then all.
        JsonNode waves = st.get("waves");
        assertThat(waves.get("1").get("activated").asInt()).isEqualTo((int) Math.ceil(AGENTS * 0.10));
        assertThat(waves.get("1").get("activated").asInt() + waves.get("2").get("activated").asInt()).isEqualTo((int) Math.ceil(AGENTS * 0.5));
        // the decisions as INFO lines: each wave started with its devices, the verdict with the gate values next to their thresholds
        assertThat(lines("rollout " + id + " (happy 2): wave 1 of 3 started: " + (int) Math.ceil(AGENTS * 0.10) + " devices")).hasSize(1);
        assertThat(lines("rollout " + id + " (happy 2): wave 3 of 3 started: " + AGENTS + " devices")).hasSize(1);
        assertThat(lines("rollout " + id + " wave 1: verdict promote (to wave 2): gates passed")).singleElement().asString()
                .startsWith("INFO ").contains("errorRate=0.0000 (max 0.0500)").contains("nonFiniteRate=0.0000 (max 0.0000)")
                .contains("installFailures=0 (max 0)");
        assertThat(lines("rollout " + id + " wave 3: verdict promote (last wave: rollout succeeded)")).hasSize(1);
        // and each agent's deploy steps, with the command id, model and version
        String cmd = lines(": deploy happy 2 received, rollout " + id).get(0).replaceAll("^INFO command (\\S+):.*", "$1");
        assertThat(lines("command " + cmd + ": ")).extracting(l -> l.replaceAll("^INFO command \\S+: ", "")).containsSubsequence(
                "deploy happy 2 received, rollout " + id, "deploy happy 2: downloading", "deploy happy 2: downloaded",
                "deploy happy 2: verified against the signed manifest",
                "happy 2: loading as candidate and self-testing against the active version", "deploy happy 2: activated");
    }

    @Test
    void a_canary_answering_nan_stops_in_wave_one_rolls_back_and_no_device_outside_wave_one_is_commanded() {
        String id = create("""
                {"model": "nan", "version": "3", "selector": "fleet=ro",
                 "waves": [{"percent": 10, "bake": "30s"}, {"percent": 100}],
                 "commandTimeout": "60s", "onFailure": "rollback",
                 "gates": {"minDevices": 1, "maxNonFiniteRate": 0}}
                """);
        JsonNode st = awaitState(id, "rolled-back", Duration.ofSeconds(90));
        assertThat(st.get("rollout").get("reason").asText()).contains("non-finite");
        assertThat(lines("rollout " + id + " wave 1: verdict rollback: ")).singleElement().asString().contains("non-finite")
                .contains("nonFiniteRate=").contains("(max 0.0000)");
        Set<String> wave1 = waveOne(st);
        assertThat(wave1).hasSize((int) Math.ceil(AGENTS * 0.10));
        await(Duration.ofSeconds(60), "wave-1 devices rolled back", () -> {
            List<String> states = new ArrayList<>();
            status(id).get("devices").forEach(d -> {
                if (d.get("wave").asInt() == 1) {
                    states.add(d.get("state").asText());
                }
            });
            return states.stream().allMatch("rolled-back"::equals);
        });
        assertThat(agents).allSatisfy(a -> assertThat(version(a, "nan")).isEqualTo(base));
        assertThat(lines(": rollback nan " + base + ": rolled back; nan now serves " + base)).hasSize(wave1.size());
        assertThat(commands("nan").keySet()).as("only wave-1 devices ever got a command").isEqualTo(wave1);
        assertThat(commands("nan").values().stream().flatMap(List::stream).collect(Collectors.toSet()))
                .containsOnly("DEPLOY:3", "ROLLBACK:" + base);
        status(id).get("devices").forEach(d -> {
            if (d.get("wave").asInt() > 1) {
                assertThat(d.get("state").asText()).isEqualTo("pending");
                assertThat(d.get("attempts").asInt()).isZero();
            }
        });
    }

    @Test
    void a_control_plane_stopped_during_wave_two_resumes_and_completes_without_conflicting_commands() throws Exception {
        String id = create("""
                {"model": "restart", "version": "4", "selector": "fleet=ro",
                 "waves": [{"percent": 10, "bake": "1s"}, {"percent": 50, "bake": "2s"}, {"percent": 100}],
                 "maxConcurrent": 2, "commandTimeout": "30s",
                 "gates": {"minDevices": 1, "maxInstallFailures": 0, "maxNonFiniteRate": 0}}
                """);
        awaitRollout(id, Duration.ofSeconds(60), "wave 2 started", Set.of("running"), st -> st.get("currentWave").asInt() == 2);
        cp.close(); // mid-wave: commands in flight, acknowledgements arriving while it is down
        try {
            // The broker's session expiry and in-flight acks need a moment with nobody listening.
            Thread.sleep(1500);
        } finally {
            cp = ControlPlane.start(config);
            ops = client(cp, OPERATOR);
        }
        awaitState(id, "succeeded", Duration.ofSeconds(120));
        assertThat(agents).allSatisfy(a -> assertThat(version(a, "restart")).isEqualTo("4"));
        assertThat(status(id).get("devices").findValuesAsText("state")).containsOnly("activated").hasSize(AGENTS);
        // Every command any device saw in this rollout names the same version: never two conflicting targets.
        assertThat(commands("restart").values().stream().flatMap(List::stream).collect(Collectors.toSet())).containsOnly("DEPLOY:4");
        assertThat(commands("restart").keySet()).hasSize(AGENTS);
    }

    @Test
    void a_canary_ten_times_slower_stops_in_wave_one_on_the_p95_gate_and_rolls_back() {
        String id = create("""
                {"model": "slow", "version": "6", "selector": "fleet=ro",
                 "waves": [{"percent": 10, "bake": "3s"}, {"percent": 100}],
                 "commandTimeout": "60s", "onFailure": "rollback",
                 "gates": {"minDevices": 1, "maxP95Ratio": 3.0, "minP95IncreaseMs": 1, "maxConfidenceDrop": 1.0}}
                """);
        JsonNode st = awaitState(id, "rolled-back", Duration.ofSeconds(90));
        assertThat(st.get("rollout").get("reason").asText()).contains("p95 latency").contains("the baseline")
                .contains("on 3 consecutive evaluations");
        assertThat(commands("slow").keySet()).isEqualTo(waveOne(st));
        await(Duration.ofSeconds(60), "wave 1 back on the base version", () -> agents.stream().allMatch(a -> base.equals(version(a, "slow"))));
    }

    @Test
    void a_version_that_fails_on_the_device_pauses_the_rollout_in_wave_one_with_the_device_reason_then_abort_is_recorded() {
        String id = create("""
                {"model": "selftest", "version": "7", "selector": "fleet=ro",
                 "waves": [{"percent": 10}, {"percent": 100}],
                 "commandTimeout": "60s", "onFailure": "pause",
                 "gates": {"maxInstallFailures": 0}}
                """);
        JsonNode st = awaitState(id, "paused", Duration.ofSeconds(60));
        assertThat(st.get("rollout").get("reason").asText()).contains("install failures").contains("self-test");
        assertThat(st.get("waitingFor").get(0).get("condition").asText()).isEqualTo("operator");
        assertThat(commands("selftest").keySet()).isEqualTo(waveOne(st));
        assertThat(agents).allSatisfy(a -> assertThat(version(a, "selftest")).isEqualTo(base));
        CloudClient.Response abort = ops.post("/api/v1/rollouts/" + id + "/abort", Map.of("reason", "bad build, see ticket 42"));
        assertThat(abort.status()).as(abort.text()).isEqualTo(200);
        assertThat(state(abort.json())).isEqualTo("aborted");
        JsonNode last = abort.json().get("log").get(abort.json().get("log").size() - 1);
        assertThat(last.get("kind").asText()).isEqualTo("aborted");
        assertThat(last.get("actor").asText()).isEqualTo("ops");
        assertThat(last.get("detail").get("reason").asText()).isEqualTo("bad build, see ticket 42");
        assertThat(ops.post("/api/v1/rollouts/" + id + "/resume", Map.of()).status()).isEqualTo(409);
        assertThat(ops.post("/api/v1/rollouts/" + id + "/promote", Map.of()).status()).isEqualTo(409);
        assertThat(client(cp, CloudTestSupport.VIEWER).post("/api/v1/rollouts/" + id + "/pause", Map.of()).status()).isEqualTo(403);
    }

    @Test
    void install_only_gates_with_an_agent_offline_and_no_traffic_finish_within_the_failure_budget() {
        EdgeAgent gone = offline.get(1);
        gone.close();
        await(Duration.ofSeconds(10), "rx/x-1 offline", () -> cp.fleet().get("rx", "x-1").map(d -> !d.online()).orElse(false));
        // Only maxInstallFailures: no gate needs telemetry, so nothing waits for the telemetry this quiet fleet never sends.
        String id = create("""
                {"model": "off", "version": "2", "selector": "fleet=rx",
                 "waves": [{"percent": 100}],
                 "commandTimeout": "3s", "retries": 1,
                 "gates": {"maxInstallFailures": 1}}
                """);
        assertThat(status(id).get("gates").get("minDevices").asInt()).isZero();
        JsonNode st = awaitState(id, "succeeded", Duration.ofSeconds(60));
        assertThat(st.get("waitingFor")).isEmpty();
        st.get("devices").forEach(d -> {
            if (d.get("device").asText().equals("x-1")) {
                assertThat(d.get("state").asText()).isEqualTo("timed-out");
                assertThat(d.get("attempts").asInt()).isEqualTo(2);
                assertThat(d.get("error").asText()).contains("no activation within");
            } else {
                assertThat(d.get("state").asText()).isEqualTo("activated");
            }
        });
        assertThat(version(offline.get(0), "off")).isEqualTo("2");
    }

    @Test
    void a_quiet_wave_proceeds_after_its_telemetry_wait_when_told_to_and_a_manual_rollback_restores_every_device() {
        String id = create("""
                {"model": "q1", "version": "2", "selector": "fleet=rq",
                 "waves": [{"count": 1}, {"percent": 100}],
                 "commandTimeout": "60s", "telemetryWait": "2s", "onTelemetryWait": "proceed"}
                """);
        JsonNode st = awaitState(id, "succeeded", Duration.ofSeconds(60));
        assertThat(logKinds(st).stream().filter("telemetry-wait-expired"::equals).count()).as(logKinds(st).toString()).isEqualTo(2);
        st.get("log").forEach(l -> {
            if (l.get("kind").asText().equals("telemetry-wait-expired")) {
                assertThat(l.get("detail").get("reason").asText()).contains("waited PT2S for telemetry")
                        .contains("0 of 1 updated device(s) have reported telemetry").contains("onTelemetryWait: proceed");
            }
        });
        assertThat(quiet).allSatisfy(a -> assertThat(version(a, "q1")).isEqualTo("2"));
        CloudClient.Response rb = ops.post("/api/v1/rollouts/" + id + "/rollback", Map.of("reason", "customer report 7"));
        assertThat(rb.status()).as(rb.text()).isEqualTo(200);
        assertThat(state(rb.json())).isEqualTo("rolled-back");
        assertThat(rb.json().get("rollout").get("reason").asText()).isEqualTo("customer report 7");
        JsonNode last = rb.json().get("log").get(rb.json().get("log").size() - 1);
        assertThat(last.get("kind").asText()).isEqualTo("rolled-back");
        assertThat(last.get("actor").asText()).isEqualTo("ops");
        await(Duration.ofSeconds(60), "every rq agent back on the base version of q1", () -> quiet.stream().allMatch(a -> base.equals(version(a, "q1"))));
        await(Duration.ofSeconds(30), "every device acknowledged the rollback", () -> status(id).get("devices").findValuesAsText("state")
                .stream().allMatch("rolled-back"::equals));
        assertThat(commands("q1").values().stream().flatMap(List::stream).collect(Collectors.toSet())).containsOnly("DEPLOY:2", "ROLLBACK:" + base);
        assertThat(ops.post("/api/v1/rollouts/" + id + "/rollback", Map.of()).status()).isEqualTo(409);
    }

    @Test
    void a_quiet_wave_pauses_after_its_telemetry_wait_resume_waits_again_and_promote_passes_it() {
        String id = create("""
                {"model": "q2", "version": "2", "selector": "fleet=rq",
                 "waves": [{"count": 1}, {"percent": 100}],
                 "commandTimeout": "60s", "telemetryWait": "1s", "onTelemetryWait": "pause",
                 "gates": {"minDevices": 1}}
                """);
        JsonNode st = awaitState(id, "paused", Duration.ofSeconds(60));
        assertThat(st.get("rollout").get("reason").asText()).contains("waited PT1S for telemetry in wave 1")
                .contains("0 of 1 updated device(s) have reported telemetry");
        assertThat(st.get("waitingFor").get(0).get("condition").asText()).isEqualTo("operator");
        assertThat(st.get("currentWave").asInt()).isEqualTo(1);

        CloudClient.Response resumed = ops.post("/api/v1/rollouts/" + id + "/resume", Map.of("reason", "traffic starts soon"));
        assertThat(resumed.status()).as(resumed.text()).isEqualTo(200);
        assertThat(state(resumed.json())).isEqualTo("running");
        // The wait counts again from the resume; still no telemetry, so it pauses again, in the same wave.
        st = awaitRollout(id, Duration.ofSeconds(30), "paused again", Set.of("running", "paused"),
                s -> state(s).equals("paused") && logKinds(s).lastIndexOf("paused") > logKinds(s).indexOf("resumed"));
        assertThat(st.get("currentWave").asInt()).isEqualTo(1);
        assertThat(logKinds(st)).containsSubsequence("paused", "resumed", "paused");

        CloudClient.Response promoted = ops.post("/api/v1/rollouts/" + id + "/promote", Map.of("reason", "quiet line, checked by hand"));
        assertThat(promoted.status()).as(promoted.text()).isEqualTo(200);
        assertThat(state(promoted.json())).isEqualTo("running");
        st = awaitRollout(id, Duration.ofSeconds(60), "wave 2 paused for telemetry", Set.of("running", "paused"),
                s -> s.get("currentWave").asInt() == 2 && state(s).equals("paused"));
        assertThat(st.get("rollout").get("reason").asText()).contains("in wave 2");
        assertThat(ops.post("/api/v1/rollouts/" + id + "/promote", Map.of("reason", "same")).status()).isEqualTo(200);
        st = awaitState(id, "succeeded", Duration.ofSeconds(30));
        List<JsonNode> passed = new ArrayList<>();
        st.get("log").forEach(l -> {
            if (l.get("kind").asText().equals("gate-passed")) {
                passed.add(l);
            }
        });
        assertThat(passed).hasSize(2).allSatisfy(l -> assertThat(l.get("detail").get("promoted").asBoolean()).isTrue());
        assertThat(quiet).allSatisfy(a -> assertThat(version(a, "q2")).isEqualTo("2"));
    }

    @Test
    void status_says_what_a_wave_waits_for_and_promote_passes_a_waiting_wave() {
        String id = create("""
                {"model": "q3", "version": "2", "selector": "fleet=rq",
                 "waves": [{"count": 1, "bake": "1h"}, {"percent": 100}],
                 "commandTimeout": "60s", "telemetryWait": "10m"}
                """);
        JsonNode st = awaitRollout(id, Duration.ofSeconds(60), "wave 1 installed and baking", Set.of("running"),
                s -> s.get("waitingFor").findValuesAsText("condition").contains("bake"));
        Map<String, JsonNode> byGate = new java.util.HashMap<>();
        List<String> conditions = new ArrayList<>();
        st.get("waitingFor").forEach(w -> {
            conditions.add(w.get("condition").asText());
            byGate.put(w.path("gate").asText(w.get("condition").asText()), w);
        });
        assertThat(conditions).containsExactlyInAnyOrder("bake", "telemetry", "telemetry");
        JsonNode bake = byGate.get("bake");
        assertThat(bake.get("need").asLong()).isEqualTo(3_600_000L);
        assertThat(bake.get("leftMillis").asLong()).isPositive().isLessThanOrEqualTo(3_600_000L);
        assertThat(bake.get("have").asLong() + bake.get("leftMillis").asLong()).isEqualTo(3_600_000L);
        JsonNode devices = byGate.get("minDevices");
        assertThat(devices.get("condition").asText()).isEqualTo("telemetry");
        assertThat(devices.get("have").asInt()).isZero();
        assertThat(devices.get("need").asInt()).isEqualTo(1);
        assertThat(devices.get("missing").asInt()).isEqualTo(1);
        assertThat(devices.get("detail").asText()).contains("0 of 1 updated device(s) have reported telemetry")
                .contains("at most PT10M after the bake, then pause");
        assertThat(devices.has("leftMillis")).as("the telemetry wait starts after the bake").isFalse();
        JsonNode samples = byGate.get("minSamples");
        assertThat(samples.get("have").asInt()).isZero();
        assertThat(samples.get("need").asInt()).isEqualTo(30);
        assertThat(samples.get("missing").asInt()).isEqualTo(30);

        assertThat(ops.post("/api/v1/rollouts/" + id + "/promote", Map.of("reason", "skip the bake")).status()).isEqualTo(200);
        st = awaitRollout(id, Duration.ofSeconds(60), "wave 2 installed and waiting for telemetry", Set.of("running"),
                s -> s.get("currentWave").asInt() == 2 && !s.get("waitingFor").isEmpty()
                        && s.get("waitingFor").findValuesAsText("condition").stream().allMatch("telemetry"::equals));
        JsonNode waiting = st.get("waitingFor").get(0);
        assertThat(waiting.get("gate").asText()).isEqualTo("minDevices");
        assertThat(waiting.get("need").asInt()).as("minDevices 1 of the 3 updated devices").isEqualTo(1);
        assertThat(waiting.get("leftMillis").asLong()).isPositive().isLessThanOrEqualTo(600_000L);
        assertThat(ops.post("/api/v1/rollouts/" + id + "/promote", Map.of("reason", "quiet line")).status()).isEqualTo(200);
        awaitState(id, "succeeded", Duration.ofSeconds(30));
        assertThat(quiet).allSatisfy(a -> assertThat(version(a, "q3")).isEqualTo("2"));
    }

    @Test
    void max_per_minute_holds_back_the_devices_past_the_rate_and_status_counts_them() throws Exception {
        String id = create("""
                {"model": "q4", "version": "2", "selector": "fleet=rq",
                 "waves": [{"percent": 100}], "maxPerMinute": 1, "commandTimeout": "60s"}
                """);
        JsonNode st = awaitRollout(id, Duration.ofSeconds(60), "one device activated", Set.of("running"),
                s -> s.get("waves").path("1").path("activated").asInt() == 1);
        JsonNode install = st.get("waitingFor").get(0);
        assertThat(install.get("condition").asText()).isEqualTo("install");
        assertThat(install.get("missing").asInt()).isEqualTo(2);
        assertThat(install.get("detail").asText()).contains("pending=2");
        // Ten more ticks of the engine (run here): still one command in the minute.
        for (int i = 0; i < 10; i++) {
            cp.rollouts().tick();
        }
        st = status(id);
        assertThat(st.get("waves").get("1").get("pending").asInt()).isEqualTo(2);
        assertThat(commands("q4")).hasSize(1);
        assertThat(commands("q4").values()).singleElement().isEqualTo(List.of("DEPLOY:2"));
        assertThat(ops.post("/api/v1/rollouts/" + id + "/abort", Map.of("reason", "test over")).status()).isEqualTo(200);
    }
}
