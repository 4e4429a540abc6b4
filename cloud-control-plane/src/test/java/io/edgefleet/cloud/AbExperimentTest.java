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
 * A/B experiments end to end (docs/ab.md) with real parts: a control plane with every role, a real Mosquitto, two real
 * agents serving a 2-class ONNX classifier from their models folder, and a candidate written with the testkit's model
 * writer whose logits are scaled up fourfold (same classes, surer answers). The operator starts an experiment through
 * the API; the split command reaches both agents; both arms answer; per-arm telemetry reaches the comparison; the stop
 * returns every device to arm A.
 */
@Tag("slow")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AbExperimentTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;
    static final List<EdgeAgent> agents = new ArrayList<>();
    static String activeVersion;
    static String experiment;
    static final Random random = new Random(20);
    static long sent;

    @BeforeAll
    static void start() throws Exception {
        int port = io.edgefleet.testkit.Ports.freePort();
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withHttp("127.0.0.1", port).withRoles(EnumSet.allOf(Role.class))
                .withMqtt(MQTT.broker().url()).withRolloutTick(Duration.ofMillis(100)).withBucket(Duration.ofSeconds(1)),
                java.time.Clock.systemUTC(), io.edgefleet.cloud.pki.Revocations.none(), io.edgefleet.transport.tracing.Tracing.off());
        ops = client(cp, OPERATOR);
        Path cands = Files.createDirectories(dir.resolve("candidates"));
        push("sharp", SyntheticModels.rotatedClassifierOnnx(cands, "sharp.onnx", 0, 4));
        JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
        AgentConfig.Sync sync = new AgentConfig.Sync(URI.create("http://127.0.0.1:" + port),
                Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
        for (int i = 0; i < 2; i++) {
            Path models = Files.createDirectories(dir.resolve("models-" + i));
            SyntheticModels.rotatedClassifierOnnx(models, "clf.onnx", 0, 1);
            agents.add(EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent-" + i)).withModelsDir(models).withHttp("127.0.0.1", 0)
                    .withCoapPort(-1).withIdentity("ab", "d-" + i).withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                    .withMqtt(MQTT.broker().url()).withSync(sync).withTls(CloudTestSupport.agentToken()).withTelemetry(Duration.ofMillis(250), 10_000)
                    .withMaxLatencyFactor(Double.MAX_VALUE)));
        }
        activeVersion = agents.get(0).slots().activeVersions().get("clf");
        await(Duration.ofSeconds(30), "both agents online with their version", () -> cp.fleet().select(
                io.edgefleet.cloud.fleet.Selector.parse("fleet=ab,status=online")).stream().filter(d -> d.activeVersion("clf").isPresent()).count() == 2);
    }

    static void push(String version, Path file) {
        CloudClient.Response r = ops.pushModel("clf", version, List.of(file), List.of(), Map.of(), n -> { });
        assertThat(r.status()).as(r.text()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        agents.forEach(EdgeAgent::close);
        if (cp != null) {
            cp.close();
        }
    }

    static CloudClient.Response startExperiment(String body) {
        return ops.raw("POST", "/api/v1/experiments", "application/json", body.getBytes());
    }

    static InferResponse infer(EdgeAgent a, Optional<String> key) {
        InferTensor x = new InferTensor("x", TensorData.ofFloats(new long[] {1, 2}, (float) random.nextGaussian(), (float) random.nextGaussian()));
        return a.inference().infer("clf", Optional.empty(), new InferRequest(Optional.empty(),
                key.map(k -> Parameters.of(SplitRouter.KEY_PARAMETER, k)).orElse(Parameters.EMPTY), List.of(x), List.of()));
    }

    @Test
    @Order(0)
    void bad_experiments_are_refused_with_a_400_problem() {
        CloudClient.Response unknown = startExperiment("""
                {"model": "clf", "candidate": "nope", "share": 0.2, "selector": "fleet=ab"}""");
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.contentType()).contains("problem+json");
        assertThat(unknown.text()).contains("no registered version 'nope'");
        for (String share : List.of("1.5", "-0.1", "0", "1", "\"half\"")) {
            CloudClient.Response r = startExperiment("""
                    {"model": "clf", "candidate": "sharp", "share": %s, "selector": "fleet=ab"}""".formatted(share));
            assertThat(r.status()).as(share).isEqualTo(400);
            assertThat(r.text()).contains("share");
        }
        CloudClient.Response by = startExperiment("""
                {"model": "clf", "candidate": "sharp", "share": 0.2, "splitBy": "mood", "selector": "fleet=ab"}""");
        assertThat(by.status()).isEqualTo(400);
        // read as every API body is: the parser's place, not an exception's class name
        CloudClient.Response malformed = startExperiment("{\"model\": \"clf\", \"share\": ");
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.text()).contains("Malformed JSON").contains("line").doesNotContain("Exception");
        CloudClient.Response notObject = startExperiment("[1, 2]");
        assertThat(notObject.status()).isEqualTo(400);
        assertThat(notObject.text()).contains("must be a JSON object");
        // both arms the same: the version the devices have active, registered under its own name
        push(activeVersion, SyntheticModels.rotatedClassifierOnnx(dir, "same.onnx", 0, 1));
        CloudClient.Response same = startExperiment("""
                {"model": "clf", "candidate": "%s", "share": 0.2, "selector": "fleet=ab"}""".formatted(activeVersion));
        assertThat(same.status()).isEqualTo(400);
        assertThat(same.text()).contains("arm B must differ from arm A");
        assertThat(ops.get("/api/v1/experiments").json().get("experiments")).isEmpty();
        assertThat(ops.get("/api/v1/experiments/ab-nope").status()).isEqualTo(404);
    }

    @Test
    @Order(0)
    void no_experiment_while_a_rollout_of_the_model_runs() {
        // a rollout waiting for devices that never come stays running: its gates and deploys own the model meanwhile
        CloudClient.Response ro = ops.raw("POST", "/api/v1/rollouts", "application/json", """
                {"model": "clf", "version": "sharp", "selector": "fleet=nobody", "waitForDevices": true, "waves": [{"percent": 100}]}""".getBytes());
        assertThat(ro.status()).as(ro.text()).isEqualTo(201);
        String rollout = ro.json().get("rollout").get("id").asText();
        CloudClient.Response refused = startExperiment("""
                {"model": "clf", "candidate": "sharp", "share": 0.2, "selector": "fleet=ab"}""");
        assertThat(refused.status()).as(refused.text()).isEqualTo(409);
        assertThat(refused.contentType()).contains("problem+json");
        assertThat(refused.text()).contains("rollout " + rollout).contains("finish, abort or roll it back first");
        assertThat(ops.get("/api/v1/experiments").json().get("experiments")).isEmpty();
        CloudClient.Response abort = ops.raw("POST", "/api/v1/rollouts/" + rollout + "/abort", "application/json",
                "{\"reason\": \"test over\"}".getBytes());
        assertThat(abort.status()).as(abort.text()).isEqualTo(200);
    }

    @Test
    @Order(1)
    void a_share_split_answers_from_both_arms_within_binomial_tolerance_and_the_comparison_sees_the_surer_arm() {
        CloudClient.Response r = startExperiment("""
                {"model": "clf", "candidate": "sharp", "share": 0.3, "splitBy": "share", "selector": "fleet=ab"}""");
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        experiment = r.json().get("id").asText();
        assertThat(r.json().get("versionA").asText()).isEqualTo(activeVersion);
        assertThat(r.json().get("devices")).hasSize(2);
        await(Duration.ofSeconds(60), "both agents split", () -> agents.stream().allMatch(a -> a.splits().running("clf").isPresent()));
        // the mirror: no rollout of a model an experiment splits (its deploys would replace arm A under the experiment)
        long rolloutsBefore = ops.get("/api/v1/rollouts").json().size();
        CloudClient.Response ro = ops.raw("POST", "/api/v1/rollouts", "application/json", """
                {"model": "clf", "version": "sharp", "selector": "fleet=ab", "waves": [{"percent": 100}]}""".getBytes());
        assertThat(ro.status()).as(ro.text()).isEqualTo(409);
        assertThat(ro.contentType()).contains("problem+json");
        assertThat(ro.text()).contains("A/B experiment " + experiment).contains("stop it first");
        assertThat(ops.get("/api/v1/rollouts").json().size()).as("nothing created").isEqualTo(rolloutsBefore);
        // a second experiment on the same devices names the one running and how to stop it
        CloudClient.Response second = startExperiment("""
                {"model": "clf", "candidate": "sharp", "share": 0.5, "selector": "fleet=ab"}""");
        assertThat(second.status()).as(second.text()).isEqualTo(409);
        assertThat(second.text()).contains("already run experiment " + experiment).contains("edgefleet experiment stop " + experiment);

        int perAgent = 600;
        int inB = 0;
        for (EdgeAgent a : agents) {
            for (int i = 0; i < perAgent; i++) {
                InferResponse ans = infer(a, Optional.empty());
                String arm = ans.parameters().get("edgefleet.arm").orElseThrow().toString();
                assertThat(ans.modelVersion()).contains(arm.equals("b") ? "sharp" : activeVersion);
                inB += arm.equals("b") ? 1 : 0;
                sent++;
            }
        }
        int n = 2 * perAgent;
        double sd = Math.sqrt(n * 0.3 * 0.7); // 15.9; 5 sd either side
        assertThat((double) inB).isBetween(n * 0.3 - 5 * sd, n * 0.3 + 5 * sd);

        int bSeen = inB;
        await(Duration.ofSeconds(60), "every request's arm counted in the comparison", () -> {
            JsonNode c = ops.get("/api/v1/experiments/" + experiment).json().get("comparison");
            return c.get("a").get("requests").asLong() + c.get("b").get("requests").asLong() == n;
        });
        JsonNode c = ops.get("/api/v1/experiments/" + experiment).json().get("comparison");
        assertThat(c.get("b").get("requests").asLong()).isEqualTo(bSeen);
        assertThat(c.get("a").get("devices").asInt()).isEqualTo(2);
        assertThat(c.get("judged").asBoolean()).isTrue();
        assertThat(c.get("a").get("errors").asLong() + c.get("b").get("errors").asLong()).isZero();
        JsonNode conf = c.get("difference").get("confidence");
        assertThat(conf.get("significant").asBoolean()).as(c.toString()).isTrue();
        assertThat(conf.get("low").asDouble()).as("arm B is surer: the interval of B - A lies above 0").isPositive();
        assertThat(c.get("difference").get("errorRate").get("significant").asBoolean()).as("no errors on either arm").isFalse();
        assertThat(c.get("a").get("latencyMs").get("value").asDouble()).isPositive();
    }

    /**
     * Labels go back over real HTTP to the agent that answered each request (the answer's id names it); each agent scores
     * them against the arm that answered; the counts travel with telemetry (in windows after the requests') and the
     * comparison shows accuracy per arm and B − A. Every fifth label is the wrong class, so the counts are not trivial.
     */
    @Test
    @Order(2)
    void feedback_sent_to_the_agents_shows_as_accuracy_per_arm() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        long[] labelled = new long[2];
        long[] correct = new long[2];
        int k = 0;
        for (EdgeAgent a : agents) {
            for (int i = 0; i < 150; i++, k++) {
                float x0 = (float) random.nextGaussian();
                float x1 = (float) random.nextGaussian();
                InferResponse ans = a.inference().infer("clf", Optional.empty(), new InferRequest(Optional.empty(), Parameters.EMPTY,
                        List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 2}, x0, x1))), List.of()));
                int arm = ans.parameters().get("edgefleet.arm").orElseThrow().toString().equals("a") ? 0 : 1;
                var probs = ans.outputs().get(0).data();
                int top = probs.getDouble(0) >= probs.getDouble(1) ? 0 : 1;
                int truth = x0 > 0 ? 0 : 1;
                int label = k % 5 == 0 ? 1 - truth : truth;
                labelled[arm]++;
                correct[arm] += label == top ? 1 : 0;
                String body = "{\"id\": \"" + ans.id().orElseThrow() + "\", \"label\": " + label + "}";
                var req = java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.httpPort() + "/v2/models/clf/feedback"))
                        .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build();
                var res = http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(res.statusCode()).as(res.body()).isEqualTo(202);
                if (i == 0) {
                    assertThat(http.send(req, java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode()).as("counted once").isEqualTo(409);
                }
            }
        }
        long total = labelled[0] + labelled[1];
        await(Duration.ofSeconds(60), "every label counted in the comparison", () -> {
            JsonNode c = ops.get("/api/v1/experiments/" + experiment).json().get("comparison");
            return c.get("a").get("labelled").asLong() + c.get("b").get("labelled").asLong() == total;
        });
        JsonNode c = ops.get("/api/v1/experiments/" + experiment).json().get("comparison");
        assertThat(c.get("a").get("labelled").asLong()).isEqualTo(labelled[0]);
        assertThat(c.get("b").get("labelled").asLong()).isEqualTo(labelled[1]);
        assertThat(c.get("a").get("correct").asLong()).isEqualTo(correct[0]);
        assertThat(c.get("b").get("correct").asLong()).isEqualTo(correct[1]);
        JsonNode accA = c.get("a").get("accuracy");
        assertThat(accA.get("value").asDouble()).isCloseTo((double) correct[0] / labelled[0], org.assertj.core.api.Assertions.within(1e-12));
        assertThat(accA.get("low").asDouble()).isLessThan(accA.get("value").asDouble());
        assertThat(accA.get("high").asDouble()).isGreaterThan(accA.get("value").asDouble());
        JsonNode diff = c.get("difference").get("accuracy");
        assertThat(diff.get("value").asDouble()).isCloseTo((double) correct[1] / labelled[1] - (double) correct[0] / labelled[0],
                org.assertj.core.api.Assertions.within(1e-12));
        assertThat(diff.has("significant")).isTrue();
        assertThat(c.get("accuracyJudged").asBoolean()).isEqualTo(labelled[0] >= 100 && labelled[1] >= 100);
        assertThat(c.get("a").get("errors").asLong() + c.get("b").get("errors").asLong()).as("feedback is never an error").isZero();
    }

    @Test
    @Order(3)
    void stopping_returns_every_device_to_arm_a_and_unloads_arm_b() {
        // the console hides the Stop button from a viewer; the server refuses one all the same, and the experiment runs on
        CloudClient.Response refused = client(cp, CloudTestSupport.VIEWER).raw("POST", "/api/v1/experiments/" + experiment + "/stop",
                "application/json", new byte[0]);
        assertThat(refused.status()).as(refused.text()).isEqualTo(403);
        assertThat(ops.get("/api/v1/experiments/" + experiment).json().get("state").asText()).isEqualTo("running");
        CloudClient.Response r = ops.raw("POST", "/api/v1/experiments/" + experiment + "/stop", "application/json", new byte[0]);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.json().get("state").asText()).isEqualTo("stopped");
        await(Duration.ofSeconds(60), "both agents back on arm A", () -> agents.stream()
                .allMatch(a -> a.splits().running("clf").isEmpty() && a.slots().armBVersion("clf").isEmpty()));
        for (EdgeAgent a : agents) {
            for (int i = 0; i < 100; i++) {
                InferResponse ans = infer(a, Optional.empty());
                assertThat(ans.modelVersion()).contains(activeVersion);
                assertThat(ans.parameters().get("edgefleet.arm")).isEmpty();
            }
        }
    }

    @Test
    @Order(4)
    void a_keyed_split_gives_each_client_key_the_same_arm_on_every_device() {
        CloudClient.Response r = startExperiment("""
                {"model": "clf", "candidate": "sharp", "share": 0.5, "splitBy": "key", "selector": "fleet=ab"}""");
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        String id = r.json().get("id").asText();
        await(Duration.ofSeconds(60), "both agents split by key", () -> agents.stream()
                .allMatch(a -> a.splits().running("clf").map(e -> e.id().equals(id)).orElse(false)));
        Map<String, String> armOf = new HashMap<>();
        for (int round = 0; round < 2; round++) {
            for (EdgeAgent a : agents) {
                for (int k = 0; k < 100; k++) {
                    String key = "client-" + k;
                    String arm = infer(a, Optional.of(key)).parameters().get("edgefleet.arm").orElseThrow().toString();
                    assertThat(armOf.computeIfAbsent(key, x -> arm)).as("the arm of %s on %s", key, a.config().device()).isEqualTo(arm);
                }
            }
        }
        assertThat(armOf.values()).contains("a", "b");
        assertThat(ops.raw("POST", "/api/v1/experiments/" + id + "/stop", "application/json", new byte[0]).status()).isEqualTo(200);
    }
}
