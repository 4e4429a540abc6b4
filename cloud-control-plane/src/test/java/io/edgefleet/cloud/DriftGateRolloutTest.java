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
import io.edgefleet.cloud.drift.DriftSettings;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.MosquittoExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.StringJoiner;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drift gate ({@code noDriftAlarm}, docs/drift.md "The rollout gate on drift") with real parts: two real agents
 * serving a real ONNX classifier (x[N,4]) over a real Mosquitto, the new version's reference given as the operator's
 * sample set (N(0, 1) per feature) through the API, and the drift monitor judging the agents' real telemetry windows.
 * Two rollouts run side by side on the same agents: model {@code dr} whose inputs are shifted by 2 standard deviations on
 * two features, stopped in wave 1 with the drift sentence in its status, log and the engine's INFO line; model
 * {@code st} whose inputs match the reference, which passes both waves. The test waits for states, never for times.
 */
@Tag("slow") // real agents, broker and control plane over real-time telemetry windows: about 30 s
class DriftGateRolloutTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private volatile boolean traffic = true;

    /** One request of 8 rows (the agent sketches at most 8 rows a request), features 0 and 1 shifted by {@code shift}. */
    private static void post(EdgeAgent a, String model, Random rnd, double shift) {
        StringJoiner data = new StringJoiner(",");
        for (int r = 0; r < 8; r++) {
            for (int f = 0; f < 4; f++) {
                data.add(String.format(Locale.ROOT, "%.5f", rnd.nextGaussian() + (f < 2 ? shift : 0)));
            }
        }
        String json = "{\"inputs\":[{\"name\":\"x\",\"shape\":[8,4],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}";
        try {
            HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.httpPort() + "/v2/models/" + model + "/infer"))
                    .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.discarding());
        } catch (Exception e) {
            // the agent is swapping versions: the next request counts
        }
    }

    /** The operator's sample set: {@code n} rows of 4 independent N(0, 1) features. */
    private static byte[] samples(int n) {
        Random rnd = new Random(3);
        StringJoiner data = new StringJoiner(",");
        for (int i = 0; i < n * 4; i++) {
            data.add(String.format(Locale.ROOT, "%.5f", rnd.nextGaussian()));
        }
        return ("{\"inputs\":[{\"name\":\"x\",\"shape\":[" + n + ",4],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}").getBytes();
    }

    @Test
    void a_drifted_input_stream_stops_the_rollout_on_the_drift_alarm_and_an_undrifted_one_passes_both_waves() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        java.util.logging.Logger engineLog = java.util.logging.Logger.getLogger("io.edgefleet.cloud.rollout.RolloutEngine");
        java.util.logging.Handler h = new java.util.logging.Handler() {
            final java.util.logging.Formatter f = new java.util.logging.SimpleFormatter();

            @Override
            public void publish(java.util.logging.LogRecord r) {
                lines.add(f.formatMessage(r));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        engineLog.addHandler(h);
        // 100 values a window are judged (each request brings 8), two breaching windows in a row raise the alarm
        DriftSettings drift = new DriftSettings(10, 0.2, 2, 100, 3, Duration.ZERO, 4096, Duration.ZERO);
        CloudConfig config = CloudTestSupport.config(dir.resolve("cloud")).withMqtt(MQTT.broker().url()).withRolloutTick(Duration.ofMillis(100))
                .withBucket(Duration.ofSeconds(1));
        List<EdgeAgent> agents = new ArrayList<>();
        Thread load = null;
        try (ControlPlane cp = ControlPlane.start(config, Clock.systemUTC(), io.edgefleet.cloud.pki.Revocations.none(),
                io.edgefleet.transport.tracing.Tracing.off(), drift)) {
            CloudClient ops = client(cp, OPERATOR);
            Path v2 = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v2")));
            for (String m : List.of("dr", "st")) {
                CloudClient.Response pushed = ops.pushModel(m, "2", List.of(v2), List.of(), Map.of(), n -> { });
                assertThat(pushed.status()).as(pushed.text()).isEqualTo(201);
                CloudClient.Response ref = ops.raw("POST", "/api/v1/models/" + m + "/versions/2/drift/reference", "application/json", samples(2000));
                assertThat(ref.status()).as(ref.text()).isEqualTo(201);
            }
            Path base = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("base")));
            JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
            AgentConfig.Sync sync = new AgentConfig.Sync(URI.create("http://127.0.0.1:" + cp.port()),
                    Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
            for (int i = 0; i < 2; i++) {
                Path models = Files.createDirectories(dir.resolve("m" + i));
                Files.copy(base, models.resolve("dr.onnx"));
                Files.copy(base, models.resolve("st.onnx"));
                agents.add(EdgeAgent.start(AgentConfig.defaults(dir.resolve("a" + i)).withModelsDir(models).withHttp("127.0.0.1", 0)
                        .withCoapPort(-1).withIdentity("dg", "d" + i).withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                        .withMqtt(MQTT.broker().url()).withSync(sync).withTls(CloudTestSupport.agentToken())
                        .withTelemetry(Duration.ofMillis(500), 10_000)
                        .withWatchdog(new Watchdog.Limits(Duration.ofMinutes(10), 1_000_000, 1.0, 1.0, 1000.0)).withMaxLatencyFactor(Double.MAX_VALUE)));
            }
            await(Duration.ofSeconds(30), "2 agents online", () -> cp.fleet().select(io.edgefleet.cloud.fleet.Selector.parse("fleet=dg,status=online"))
                    .size() == 2);
            load = Thread.ofPlatform().daemon().start(() -> {
                Random rnd = new Random(17);
                long rounds = 0;
                while (traffic) {
                    for (EdgeAgent a : agents) {
                        post(a, "dr", rnd, 2.0);
                        post(a, "st", rnd, 0.0);
                    }
                    if (++rounds % 50 == 0) {
                        cp.drift().runOnce(); // the ingest role also runs it every 5 s; here it keeps up with the 500 ms windows
                    }
                }
            });
            String spec = """
                    {"model": "%s", "version": "2", "selector": "fleet=dg", "waves": [{"count": 1, "bake": "1s"}, {"percent": 100}],
                     "commandTimeout": "60s", "gates": {"noDriftAlarm": true}}
                    """;
            String drifted = create(ops, spec.formatted("dr"));
            String steady = create(ops, spec.formatted("st"));

            JsonNode dr = awaitState(ops, drifted, "rolled-back");
            String reason = dr.get("rollout").get("reason").asText();
            assertThat(reason).as(dr.toString()).startsWith("input drift on dr/2: the drift alarm is raised (newest window: worst feature x[");
            List<String> commanded = new ArrayList<>();
            dr.get("devices").forEach(d -> {
                if (d.path("commandedAt").isTextual() || d.path("commandedAt").isNumber()) {
                    commanded.add(d.get("device").asText() + " in wave " + d.get("wave").asInt());
                }
            });
            assertThat(commanded).as("stopped in wave 1: only its one device was ever commanded; %s", dr.get("devices")).hasSize(1)
                    .allSatisfy(c -> assertThat(c).endsWith("in wave 1"));
            JsonNode failed = null;
            for (JsonNode l : dr.get("log")) {
                if (l.get("kind").asText().equals("gate-failed")) {
                    failed = l;
                }
            }
            assertThat(failed).as(dr.toString()).isNotNull();
            assertThat(failed.toString()).contains("\"driftAlarm\":true", "\"driftReference\":\"samples\"");
            assertThat(lines).anySatisfy(l -> assertThat(l).contains("verdict rollback: input drift on dr/2: the drift alarm is raised",
                    "drift=x[", "in alarm (threshold 0.2000"));

            JsonNode st = awaitState(ops, steady, "succeeded");
            JsonNode passed = null;
            for (JsonNode l : st.get("log")) {
                if (l.get("kind").asText().equals("gate-passed") && passed == null) {
                    passed = l;
                }
            }
            assertThat(passed).as(st.toString()).isNotNull();
            String detail = passed.toString();
            assertThat(detail).as("wave 1 passed on judged windows of a clean stream, not without them").contains("\"driftAlarm\":false")
                    .doesNotContain("proceededWithout");
            assertThat(passed.path("detail").path("driftWindows").asInt()).isGreaterThanOrEqualTo(2);
            assertThat(passed.path("detail").path("driftMaxPsi").asDouble(1)).isLessThan(0.2);
            for (EdgeAgent a : agents) {
                assertThat(a.slots().activeVersions()).containsEntry("st", "2");
                assertThat(a.slots().activeVersions().get("dr")).isNotEqualTo("2");
            }
        } finally {
            traffic = false;
            if (load != null) {
                load.join(5000);
            }
            agents.forEach(EdgeAgent::close);
            engineLog.removeHandler(h);
        }
    }

    private static String create(CloudClient ops, String spec) {
        CloudClient.Response r = ops.raw("POST", "/api/v1/rollouts", "application/json", spec.getBytes());
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return r.json().get("rollout").get("id").asText();
    }

    /** Polls the rollout until {@code target}; fails at once on any other end state, or after two minutes, with the status. */
    private static JsonNode awaitState(CloudClient ops, String id, String target) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            JsonNode st = ops.get("/api/v1/rollouts/" + id).json();
            String state = st.get("rollout").get("state").asText();
            if (state.equals(target)) {
                return st;
            }
            if (!state.equals("running")) {
                throw new AssertionError("waiting for " + target + ", the rollout became " + state + ": " + st);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + target + "; status: " + st);
            }
            Thread.sleep(100);
        }
    }
}
