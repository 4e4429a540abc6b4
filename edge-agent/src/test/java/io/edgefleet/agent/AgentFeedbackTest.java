package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.agent.split.SplitAnswers;
import io.edgefleet.agent.split.SplitRouter;
import io.edgefleet.engines.synth.OnnxGraph;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.SplitStats;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import io.helidon.http.HeaderNames;
import io.helidon.webclient.api.HttpClientResponse;
import io.helidon.webclient.api.WebClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The A/B feedback call (docs/ab.md "Feedback and accuracy") on a real agent: real ONNX Runtime models, real HTTP sockets.
 * Arm A of {@code clf} is a 2-class classifier that is always right about the test's truth (class 0 when x0 > 0); arm B
 * is rotated by 90° (class 0 when x1 > 0), so it is right for about half the inputs. {@code reg} is a regressor (one
 * output value), which only takes {@code correct}. The telemetry window is a day long (the longest there is; windows are
 * aligned to UTC midnight), so the test drains the counts itself and the agent's own loop never does in between: started
 * within two minutes of midnight, the test first waits for it to pass.
 */
class AgentFeedbackTest {
    @TempDir
    static Path dir;
    static EdgeAgent agent;
    static WebClient client;
    static String clfA;
    static String regA;
    static final ObjectMapper JSON = new ObjectMapper();
    final Random random = new Random(29);

    @BeforeAll
    static void start() throws IOException, InterruptedException {
        long toMidnight = Duration.ofDays(1).toMillis() - Math.floorMod(System.currentTimeMillis(), Duration.ofDays(1).toMillis());
        if (toMidnight < 120_000) {
            Thread.sleep(toMidnight + 1000);
        }
        Path models = Files.createDirectories(dir.resolve("models"));
        SyntheticModels.rotatedClassifierOnnx(models, "clf.onnx", 0, 1);
        Files.write(models.resolve("reg.onnx"), regressor());
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withTelemetry(Duration.ofDays(1), 100_000).withIsolation(io.edgefleet.engines.isolation.IsolationOptions.defaults().withSharedVerdicts(true)));
        clfA = agent.slots().activeVersions().get("clf");
        regA = agent.slots().activeVersions().get("reg");
        agent.slots().loadArmB("clf", "v2", SyntheticModels.rotatedClassifierOnnx(dir, "clf-v2.onnx", Math.PI / 2, 1));
        Path regB = dir.resolve("reg-v2.onnx");
        Files.write(regB, regressor());
        agent.slots().loadArmB("reg", "v2", regB);
        agent.splits().start(new SplitRouter.Experiment("exp-clf", "clf", "v2", 0.5, SplitRouter.SplitBy.SHARE));
        agent.splits().start(new SplitRouter.Experiment("exp-reg", "reg", "v2", 0.5, SplitRouter.SplitBy.SHARE));
        client = WebClient.builder().baseUri("http://127.0.0.1:" + agent.httpPort()).build();
    }

    /** ONNX: {@code y[N,1] = x[N,1]}: one value per row, no classes. */
    static byte[] regressor() {
        return OnnxGraph.create("reg").input("x", DataType.FP32, -1, 1).node("Identity", List.of("x"), List.of("y"))
                .output("y", DataType.FP32, -1, 1).toBytes();
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    record Reply(int status, String contentType, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError(body, e);
            }
        }
    }

    static Reply post(String path, String body, Map<String, String> headers) {
        var req = client.post(path).header(HeaderNames.CONTENT_TYPE, "application/json");
        headers.forEach((k, v) -> req.header(HeaderNames.create(k), v));
        try (HttpClientResponse r = req.submit(body.getBytes(StandardCharsets.UTF_8))) {
            return new Reply(r.status().code(), r.headers().first(HeaderNames.CONTENT_TYPE).orElse(""),
                    r.entity().hasEntity() ? new String(r.as(byte[].class), StandardCharsets.UTF_8) : "");
        }
    }

    static Reply post(String path, String body) {
        return post(path, body, Map.of());
    }

    static Reply feedback(String model, String body) {
        return post("/v2/models/" + model + "/feedback", body);
    }

    /** An answer of clf over HTTP to x = (x0, x1), with request id {@code id} (none when null). */
    static JsonNode inferClf(String id, float x0, float x1) {
        String idPart = id == null ? "" : "\"id\": \"" + id + "\", ";
        Reply r = post("/v2/models/clf/infer", "{" + idPart + "\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": ["
                + x0 + ", " + x1 + "]}]}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    static int top(JsonNode answer) {
        JsonNode p = answer.path("outputs").get(0).path("data");
        return p.get(0).asDouble() >= p.get(1).asDouble() ? 0 : 1;
    }

    static String arm(JsonNode answer) {
        return answer.path("parameters").path("edgefleet.arm").asText();
    }

    /**
     * Forgets every pending count of {@code clf}: a drain gives one experiment's counts at a time (the oldest first), and
     * another test may have run a second experiment on the model (exp-key), whose counts would otherwise come first.
     */
    static void drainAll() {
        for (String v : List.of(clfA, "v2")) {
            while (agent.splits().drain("clf", v).isPresent()) {
                // drop
            }
        }
    }

    static void assertProblem(Reply r, int status, String detailPart) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.json().path("status").asInt()).isEqualTo(status);
        assertThat(r.json().path("detail").asText()).contains(detailPart);
    }

    @Test
    void labels_are_scored_against_the_arm_that_answered_and_counted_once() {
        drainAll();
        long[] labelled = new long[2];
        long[] correct = new long[2];
        for (int i = 0; i < 200; i++) {
            float x0 = (float) random.nextGaussian();
            float x1 = (float) random.nextGaussian();
            JsonNode answer = inferClf("score-" + i, x0, x1);
            assertThat(answer.path("id").asText()).isEqualTo("score-" + i);
            int arm = arm(answer).equals("a") ? 0 : 1;
            assertThat(answer.path("model_version").asText()).isEqualTo(arm == 0 ? clfA : "v2");
            int truth = x0 > 0 ? 0 : 1;
            labelled[arm]++;
            correct[arm] += top(answer) == truth ? 1 : 0;
            Reply r = feedback("clf", "{\"id\": \"score-" + i + "\", \"label\": " + truth + "}");
            assertThat(r.status()).as(r.body()).isEqualTo(202);
            assertProblem(feedback("clf", "{\"id\": \"score-" + i + "\", \"correct\": true}"), 409, "counted once");
        }
        SplitStats a = agent.splits().drain("clf", clfA).orElseThrow();
        SplitStats b = agent.splits().drain("clf", "v2").orElseThrow();
        assertThat(a.labelled()).isEqualTo(labelled[0]);
        assertThat(b.labelled()).isEqualTo(labelled[1]);
        assertThat(a.labelled() + b.labelled()).isEqualTo(200);
        assertThat(a.correct()).as("arm A is the truth's own rule").isEqualTo(a.labelled()).isEqualTo(correct[0]);
        assertThat(b.correct()).isEqualTo(correct[1]);
        // arm B is right when x0 and x1 have the same sign: half the time; 5 sd either side
        double sd = Math.sqrt(b.labelled() * 0.25);
        assertThat((double) b.correct()).isBetween(b.labelled() / 2.0 - 5 * sd, b.labelled() / 2.0 + 5 * sd);
        assertThat(a.requests() + b.requests()).as("feedback is no request").isEqualTo(200);
        assertThat(a.errors() + b.errors()).as("refused feedback is no model error").isZero();
    }

    /** Many clients race to label one answer: exactly one is counted (202), every other gets 409; none is a request. */
    @Test
    void concurrent_feedback_for_one_answer_is_counted_exactly_once() throws Exception {
        drainAll();
        int answers = 20;
        int racers = 16;
        for (int i = 0; i < answers; i++) {
            inferClf("race-" + i, 1f, 1f);
        }
        int[] accepted = new int[answers];
        int[] conflicts = new int[answers];
        try (var pool = java.util.concurrent.Executors.newFixedThreadPool(racers)) {
            for (int i = 0; i < answers; i++) {
                String body = "{\"id\": \"race-" + i + "\", \"correct\": true}";
                java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(racers);
                List<java.util.concurrent.Future<Integer>> replies = new java.util.ArrayList<>();
                for (int t = 0; t < racers; t++) {
                    replies.add(pool.submit(() -> {
                        start.await();
                        return feedback("clf", body).status();
                    }));
                }
                for (var f : replies) {
                    int status = f.get();
                    assertThat(status).isIn(202, 409);
                    accepted[i] += status == 202 ? 1 : 0;
                    conflicts[i] += status == 409 ? 1 : 0;
                }
            }
        }
        for (int i = 0; i < answers; i++) {
            assertThat(accepted[i]).as("answer %d counted", i).isEqualTo(1);
            assertThat(conflicts[i]).isEqualTo(racers - 1);
        }
        long labelled = 0;
        long correct = 0;
        long requests = 0;
        for (String v : List.of(clfA, "v2")) {
            var s = agent.splits().drain("clf", v);
            labelled += s.map(SplitStats::labelled).orElse(0L);
            correct += s.map(SplitStats::correct).orElse(0L);
            requests += s.map(SplitStats::requests).orElse(0L);
        }
        assertThat(labelled).isEqualTo(answers);
        assertThat(correct).isEqualTo(answers);
        assertThat(requests).as("feedback is no request").isEqualTo(answers);
    }

    @Test
    void an_answer_without_a_request_id_gets_one_and_takes_correct_feedback() {
        drainAll();
        JsonNode answer = inferClf(null, 1, 1);
        String id = answer.path("id").asText();
        assertThat(id).isNotEmpty();
        assertThat(feedback("clf", "{\"id\": \"" + id + "\", \"correct\": false}").status()).isEqualTo(202);
        SplitStats s = agent.splits().drain("clf", arm(answer).equals("a") ? clfA : "v2").orElseThrow();
        assertThat(s.labelled()).isEqualTo(1);
        assertThat(s.correct()).isZero();
    }

    @Test
    void malformed_feedback_is_400_never_counted_and_leaves_the_answer_open() {
        drainAll();
        inferClf("bad-1", 1, 1);
        assertProblem(feedback("clf", "not json"), 400, "not JSON");
        assertProblem(feedback("clf", "[1]"), 400, "JSON object");
        assertProblem(feedback("clf", "{\"label\": 0}"), 400, "'id'");
        assertProblem(feedback("clf", "{\"id\": 7, \"label\": 0}"), 400, "'id'");
        assertProblem(feedback("clf", "{\"id\": \"bad-1\", \"label\": \"0\"}"), 400, "'label' must be an integer");
        assertProblem(feedback("clf", "{\"id\": \"bad-1\", \"label\": 0.5}"), 400, "'label' must be an integer");
        assertProblem(feedback("clf", "{\"id\": \"bad-1\", \"correct\": \"yes\"}"), 400, "'correct' must be true or false");
        assertProblem(feedback("clf", "{\"id\": \"bad-1\"}"), 400, "exactly one");
        assertProblem(feedback("clf", "{\"id\": \"bad-1\", \"label\": 0, \"correct\": true}"), 400, "exactly one");
        assertProblem(feedback("clf", "{\"id\": \"bad-1\", \"label\": 2}"), 400, "within 0..1");
        assertProblem(feedback("clf", "{\"id\": \"bad-1\", \"label\": -1}"), 400, "within 0..1");
        assertThat(agent.splits().drain("clf", clfA).map(SplitStats::labelled).orElse(0L)
                + agent.splits().drain("clf", "v2").map(SplitStats::labelled).orElse(0L)).as("nothing counted").isZero();
        assertThat(feedback("clf", "{\"id\": \"bad-1\", \"label\": 0}").status()).as("still open").isEqualTo(202);
    }

    @Test
    void a_regressor_takes_correct_but_not_a_label() {
        Reply r = post("/v2/models/reg/infer", "{\"id\": \"reg-1\", \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 1], "
                + "\"data\": [0.5]}]}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        String version = r.json().path("model_version").asText();
        agent.splits().drain("reg", version);
        assertProblem(feedback("reg", "{\"id\": \"reg-1\", \"label\": 0}"), 400, "give 'correct'");
        assertThat(feedback("reg", "{\"id\": \"reg-1\", \"correct\": true}").status()).isEqualTo(202);
        SplitStats s = agent.splits().drain("reg", version).orElseThrow();
        assertThat(s.labelled()).isEqualTo(1);
        assertThat(s.correct()).isEqualTo(1);
    }

    @Test
    void unknown_models_and_requests_are_404() {
        assertProblem(feedback("nope", "{\"id\": \"x\", \"correct\": true}"), 404, "not served here");
        assertProblem(feedback("clf", "{\"id\": \"never-sent\", \"correct\": true}"), 404, "no recent A/B answer");
        // a request that names a version is never split, so never recorded
        Reply named = post("/v2/models/clf/versions/" + clfA + "/infer", "{\"id\": \"named-1\", \"inputs\": [{\"name\": \"x\", \"datatype\": "
                + "\"FP32\", \"shape\": [1, 2], \"data\": [1, 1]}]}");
        assertThat(named.status()).isEqualTo(200);
        assertProblem(feedback("clf", "{\"id\": \"named-1\", \"correct\": true}"), 404, "no recent A/B answer");
        // the same id under another model is another answer
        inferClf("cross-1", 1, 1);
        assertProblem(feedback("reg", "{\"id\": \"cross-1\", \"correct\": true}"), 404, "no recent A/B answer");
    }

    @Test
    void feedback_for_an_experiment_that_ended_is_404() {
        Reply r = post("/v2/models/reg/infer", "{\"id\": \"ended-1\", \"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 1], "
                + "\"data\": [0.5]}]}");
        assertThat(r.json().path("parameters").path("edgefleet.experiment").asText()).isEqualTo("exp-reg");
        assertThat(agent.splits().stop("reg", "exp-reg")).isTrue();
        try {
            assertProblem(feedback("reg", "{\"id\": \"ended-1\", \"correct\": true}"), 404, "its experiment ended");
        } finally {
            agent.splits().start(new SplitRouter.Experiment("exp-reg", "reg", "v2", 0.5, SplitRouter.SplitBy.SHARE));
        }
    }

    @Test
    void the_split_key_header_keys_the_split_and_the_parameter_wins() {
        String body = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 2], \"data\": [1, 1]}]}";
        String withParam = "{\"parameters\": {\"" + SplitRouter.KEY_PARAMETER + "\": \"%s\"}, \"inputs\": [{\"name\": \"x\", \"datatype\": "
                + "\"FP32\", \"shape\": [1, 2], \"data\": [1, 1]}]}";
        agent.splits().start(new SplitRouter.Experiment("exp-key", "clf", "v2", 0.5, SplitRouter.SplitBy.KEY));
        try {
            String keyA = null;
            String keyB = null;
            for (int k = 0; keyA == null || keyB == null; k++) {
                if (SplitRouter.bucket("exp-key", "k" + k) < 0.5) {
                    keyB = keyB == null ? "k" + k : keyB;
                } else {
                    keyA = keyA == null ? "k" + k : keyA;
                }
            }
            for (int i = 0; i < 20; i++) {
                assertThat(arm(post("/v2/models/clf/infer", body, Map.of(SplitRouter.KEY_HEADER, keyB)).json())).isEqualTo("b");
                assertThat(arm(post("/v2/models/clf/infer", body, Map.of(SplitRouter.KEY_HEADER, keyA)).json())).isEqualTo("a");
                assertThat(arm(post("/v2/models/clf/infer", withParam.formatted(keyA), Map.of(SplitRouter.KEY_HEADER, keyB)).json()))
                        .as("the parameter wins").isEqualTo("a");
            }
        } finally {
            agent.splits().start(new SplitRouter.Experiment("exp-clf", "clf", "v2", 0.5, SplitRouter.SplitBy.SHARE));
        }
    }

    /**
     * The record is bounded: at the default {@value SplitAnswers#DEFAULT_MAX_ANSWERS} answers the oldest goes first. The
     * answers are made in process (the same inference path as HTTP; 10,000 HTTP round trips would make a slow test); the
     * feedback goes over HTTP.
     */
    @Test
    void the_oldest_answer_is_dropped_beyond_the_bound() {
        InferTensor x = new InferTensor("x", TensorData.ofFloats(new long[] {1, 2}, 1f, 1f));
        int n = SplitAnswers.DEFAULT_MAX_ANSWERS + 1;
        long evictedBefore = agent.splits().answers().evicted();
        for (int i = 0; i < n; i++) {
            agent.inference().infer("clf", Optional.empty(), InferRequest.of(x).withId("bound-" + i));
        }
        assertThat(agent.splits().answers().size()).isEqualTo(SplitAnswers.DEFAULT_MAX_ANSWERS);
        assertThat(agent.splits().answers().evicted() - evictedBefore).isPositive();
        assertProblem(feedback("clf", "{\"id\": \"bound-0\", \"correct\": true}"), 404, "beyond the last " + SplitAnswers.DEFAULT_MAX_ANSWERS);
        assertThat(feedback("clf", "{\"id\": \"bound-" + (n - 1) + "\", \"correct\": true}").status()).isEqualTo(202);
    }

    /** The same call over CoAP, {@code POST /feedback/{model}}, mapped as {@code /infer/{model}} is. */
    @Test
    void coap_takes_the_same_feedback() {
        inferClf("coap-1", 1, 1);
        drainAll();
        org.eclipse.californium.core.CoapClient c = new org.eclipse.californium.core.CoapClient(
                "coap://127.0.0.1:" + agent.coapPort().getAsInt() + "/feedback/clf");
        try {
            int json = io.edgefleet.protocols.coap.CoapResources.FORMAT_JSON;
            var ok = c.post("{\"id\": \"coap-1\", \"label\": 0}", json);
            assertThat(ok.getCode()).as(ok.getResponseText()).isEqualTo(org.eclipse.californium.core.coap.CoAP.ResponseCode.CHANGED);
            var again = c.post("{\"id\": \"coap-1\", \"label\": 0}", json);
            assertThat(again.getCode()).isEqualTo(org.eclipse.californium.core.coap.CoAP.ResponseCode.CONFLICT);
            assertThat(again.getResponseText()).contains("counted once");
            var bad = c.post("{\"id\": \"coap-1\"}", json);
            assertThat(bad.getCode()).isEqualTo(org.eclipse.californium.core.coap.CoAP.ResponseCode.BAD_REQUEST);
            var unknown = c.post("{\"id\": \"never\", \"correct\": true}", json);
            assertThat(unknown.getCode()).isEqualTo(org.eclipse.californium.core.coap.CoAP.ResponseCode.NOT_FOUND);
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            c.shutdown();
        }
        long labelled = agent.splits().drain("clf", clfA).map(SplitStats::labelled).orElse(0L)
                + agent.splits().drain("clf", "v2").map(SplitStats::labelled).orElse(0L);
        assertThat(labelled).as("counted once").isEqualTo(1);
    }
}
