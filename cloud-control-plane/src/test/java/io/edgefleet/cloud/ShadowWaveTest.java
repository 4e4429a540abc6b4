package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.shadow.ShadowRunner;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.MosquittoExtension;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shadow waves end to end (docs/shadow.md) with real parts: a control plane with every role, a real Mosquitto, two real
 * agents serving a 2-class ONNX classifier from their models folder, and candidates written with the testkit's model
 * writer whose disagreement with the active version is known: at 0.3 pi their boundary disagrees on 30 % of the
 * (standard normal) inputs; at angle 0 with a sharper softmax they agree on every input. Live traffic runs on both agents
 * all along; every answer's version is recorded, and its outputs compared with the active model's own.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShadowWaveTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;
    static final List<EdgeAgent> agents = new ArrayList<>();
    static String activeVersion;
    static LoadedModel reference;
    static Thread traffic;
    static final AtomicBoolean running = new AtomicBoolean(true);
    /** Every version that answered a request, on any agent. */
    static final Set<String> answeredBy = ConcurrentHashMap.newKeySet();
    /** Answers of the active version that differ from the active model's own run on the same input. */
    static final List<String> changedAnswers = new CopyOnWriteArrayList<>();
    static final java.util.concurrent.atomic.AtomicLong answers = new java.util.concurrent.atomic.AtomicLong();

    @BeforeAll
    static void start() throws Exception {
        int port = io.edgefleet.testkit.Ports.freePort();
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withHttp("127.0.0.1", port).withRoles(EnumSet.allOf(Role.class))
                .withMqtt(MQTT.broker().url()).withRolloutTick(Duration.ofMillis(100)).withBucket(Duration.ofSeconds(1)),
                java.time.Clock.systemUTC(), io.edgefleet.cloud.pki.Revocations.none(), io.edgefleet.transport.tracing.Tracing.off());
        ops = client(cp, OPERATOR);
        Path cands = Files.createDirectories(dir.resolve("candidates"));
        push("bad", SyntheticModels.rotatedClassifierOnnx(cands, "bad.onnx", 0.3 * Math.PI, 1));
        push("good", SyntheticModels.rotatedClassifierOnnx(cands, "good.onnx", 0, 3));
        JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
        AgentConfig.Sync sync = new AgentConfig.Sync(URI.create("http://127.0.0.1:" + port),
                Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
        for (int i = 0; i < 2; i++) {
            Path models = Files.createDirectories(dir.resolve("models-" + i));
            Path active = SyntheticModels.rotatedClassifierOnnx(models, "clf.onnx", 0, 1);
            if (reference == null) {
                reference = Engines.forFile(active).load(active, "reference", EngineOptions.defaults());
            }
            EdgeAgent a = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent-" + i)).withModelsDir(models).withHttp("127.0.0.1", 0)
                    .withCoapPort(-1).withIdentity("sh", "d-" + i).withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                    .withMqtt(MQTT.broker().url()).withSync(sync).withTls(CloudTestSupport.agentToken()).withTelemetry(Duration.ofMillis(250), 10_000)
                    .withMaxLatencyFactor(Double.MAX_VALUE));
            // every answered request runs the candidate (the default is 10 %): the test needs its samples in seconds
            a.shadow().configure(ShadowRunner.Settings.defaults().withShare(1.0).withCpuShare(1.0));
            agents.add(a);
        }
        activeVersion = agents.get(0).slots().activeVersions().get("clf");
        await(Duration.ofSeconds(30), "both agents online with their version", () -> cp.fleet().select(
                io.edgefleet.cloud.fleet.Selector.parse("fleet=sh,status=online")).stream().filter(d -> d.activeVersion("clf").isPresent()).count() == 2);
        traffic = Thread.ofPlatform().name("shadow-test-traffic").daemon().start(ShadowWaveTest::traffic);
    }

    static void push(String version, Path file) {
        CloudClient.Response r = ops.pushModel("clf", version, List.of(file), List.of(), Map.of(), n -> { });
        assertThat(r.status()).as(r.text()).isEqualTo(201);
    }

    /** Live requests on both agents until the end, each answer checked against the active model's own run. */
    static void traffic() {
        Random random = new Random(28);
        while (running.get()) {
            for (EdgeAgent a : agents) {
                InferRequest req = InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 2}, (float) random.nextGaussian(),
                        (float) random.nextGaussian())));
                try {
                    InferResponse r = a.inference().infer("clf", Optional.empty(), req);
                    String v = r.modelVersion().orElse("?");
                    answeredBy.add(v);
                    answers.incrementAndGet();
                    if (v.equals(activeVersion) && !r.outputs().equals(reference.infer(req.inputs()))) {
                        changedAnswers.add(a.config().device() + ": " + r.outputs());
                    }
                } catch (RuntimeException e) {
                    // a swap under way ("not ready") is no answer; the test asserts on answers only
                }
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        running.set(false);
        if (traffic != null) {
            traffic.join(5000);
        }
        agents.forEach(EdgeAgent::close);
        if (cp != null) {
            cp.close();
        }
        if (reference != null) {
            reference.close();
        }
    }

    static String create(String version) {
        CloudClient.Response created = ops.raw("POST", "/api/v1/rollouts", "application/json", ("""
                {"model": "clf", "version": "%s", "selector": "fleet=sh",
                 "waves": [{"percent": 50, "mode": "shadow"}, {"percent": 100}],
                 "shadowGates": {"minSamples": 150},
                 "commandTimeout": "60s", "telemetryWait": "60s", "onTelemetryWait": "proceed"}
                """.formatted(version)).getBytes());
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        return created.json().get("rollout").get("id").asText();
    }

    static JsonNode status(String id) {
        return ops.get("/api/v1/rollouts/" + id).json();
    }

    @Test
    @Order(0)
    void a_misplaced_shadow_wave_is_refused_with_a_400_problem_naming_the_field() {
        CloudClient.Response r = ops.raw("POST", "/api/v1/rollouts", "application/json", """
                {"model": "clf", "version": "bad", "selector": "fleet=sh", "waves": [{"percent": 100, "mode": "shadow"}]}
                """.getBytes());
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.text()).contains("waves[0].mode: the last wave must be a normal one");
    }

    @Test
    @Order(1)
    void a_candidate_disagreeing_on_30_percent_is_stopped_before_any_device_answers_with_it() {
        String id = create("bad");
        await(Duration.ofSeconds(90), "the rollout rolled back", () -> status(id).get("rollout").get("state").asText().equals("rolled-back"));
        // the shadow device's rollback ack (candidate unloaded) lands a tick or two later
        await(Duration.ofSeconds(30), "the shadow device rolled back", () -> {
            List<String> states = new ArrayList<>();
            status(id).get("devices").forEach(d -> states.add(d.get("state").asText()));
            return states.contains("rolled-back");
        });
        JsonNode s = status(id);
        JsonNode totals = s.get("shadow").get("totals");
        assertThat(totals.get("samples").asLong()).isGreaterThanOrEqualTo(150);
        assertThat(totals.get("agreement").asDouble()).as(totals.toString()).isBetween(0.55, 0.85);
        assertThat(totals.get("nonFinite").asLong()).isZero();
        assertThat(s.get("rollout").get("reason").asText()).contains("agreed with the active version");
        List<String> states = new ArrayList<>();
        s.get("devices").forEach(d -> states.add(d.get("state").asText()));
        assertThat(states).as("the shadow device rolled back (candidate unloaded), the other never commanded")
                .containsExactlyInAnyOrder("rolled-back", "pending");
        await(Duration.ofSeconds(30), "the candidate unloaded everywhere", () -> agents.stream().allMatch(a -> a.slots().shadowVersions().isEmpty()));
        assertThat(answeredBy).as("no device ever answered with the candidate").containsExactly(activeVersion);
        assertThat(agents).allSatisfy(a -> assertThat(a.slots().activeVersions()).containsEntry("clf", activeVersion));
        assertThat(changedAnswers).as("answers during the shadow are the active model's own").isEmpty();
        assertThat(answers.get()).isGreaterThan(300);
    }

    @Test
    @Order(2)
    void an_agreeing_candidate_passes_its_shadow_wave_to_the_normal_one() {
        long before = answers.get();
        String id = create("good");
        await(Duration.ofSeconds(90), "the rollout past its shadow wave", () -> status(id).get("currentWave").asInt() == 2
                || status(id).get("rollout").get("state").asText().equals("succeeded"));
        JsonNode totals = status(id).get("shadow").get("totals");
        assertThat(totals.get("samples").asLong()).isGreaterThanOrEqualTo(150);
        assertThat(totals.get("agreement").asDouble()).isEqualTo(1.0);
        assertThat(totals.get("confidenceDiff").asDouble()).as("a sharper softmax: more confident").isPositive();
        assertThat(changedAnswers).as("answers during the shadow are the active model's own").isEmpty();
        await(Duration.ofSeconds(90), "the rollout succeeded", () -> status(id).get("rollout").get("state").asText().equals("succeeded"));
        await(Duration.ofSeconds(30), "both agents answer with the candidate", () -> agents.stream()
                .allMatch(a -> "good".equals(a.slots().activeVersions().get("clf"))));
        assertThat(agents).allSatisfy(a -> assertThat(a.slots().shadowVersions()).isEmpty());
        assertThat(answers.get()).isGreaterThan(before);
        assertThat(answeredBy).doesNotContain("bad");
    }

    @Test
    @Order(3)
    void a_shadow_wave_without_enough_evidence_pauses_even_when_the_spec_says_proceed() {
        CloudClient.Response created = ops.raw("POST", "/api/v1/rollouts", "application/json", """
                {"model": "clf", "version": "bad", "selector": "fleet=sh",
                 "waves": [{"percent": 50, "mode": "shadow"}, {"percent": 100}],
                 "shadowGates": {"minSamples": 100000000},
                 "commandTimeout": "60s", "telemetryWait": "1s", "onTelemetryWait": "proceed"}
                """.getBytes());
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        String id = created.json().get("rollout").get("id").asText();
        await(Duration.ofSeconds(60), "the rollout paused", () -> status(id).get("rollout").get("state").asText().equals("paused"));
        JsonNode s = status(id);
        assertThat(s.get("currentWave").asInt()).isEqualTo(1);
        assertThat(s.get("rollout").get("reason").asText()).contains("shadow samples");
        assertThat(agents).allSatisfy(a -> assertThat(a.slots().activeVersions()).containsEntry("clf", "good"));
        assertThat(answeredBy).doesNotContain("bad");
        assertThat(ops.post("/api/v1/rollouts/" + id + "/rollback", Map.of("reason", "test over")).status()).isEqualTo(200);
        await(Duration.ofSeconds(30), "the candidate unloaded by the rollback", () -> agents.stream().allMatch(a -> a.slots().shadowVersions().isEmpty()));
    }
}
