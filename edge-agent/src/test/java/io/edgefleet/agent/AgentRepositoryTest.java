package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.SharedModels;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Triton's model repository and statistics extensions on a real agent over real HTTP: the index
 * with READY and UNAVAILABLE models and why, unload and load, per model statistics in Triton's
 * shape, and the protocol's JSON error for unknown routes (404) and wrong methods (405 + Allow).
 * Models: the synthetic classifier on ONNX Runtime, a file no runtime loads, and (when the shared
 * models folder is there) TFLite Micro's hello_world.
 */
class AgentRepositoryTest {
    @TempDir
    static Path dir;
    static EdgeAgent agent;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path HELLO = SharedModels.dir().resolve("hello_world/hello_world_float.tflite");

    @BeforeAll
    static void start() throws IOException {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.copy(SyntheticModels.classifierOnnx(dir), models.resolve("cls.onnx"));
        Files.writeString(models.resolve("broken.onnx"), "not a model");
        if (Files.isRegularFile(HELLO)) {
            Files.copy(HELLO, models.resolve("hello.tflite"));
        }
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(0));
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    record Reply(int status, String body, HttpResponse<String> raw) {
        JsonNode json() throws IOException {
            return JSON.readTree(body);
        }
    }

    static Reply call(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + path)).timeout(Duration.ofSeconds(30));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r = HTTP.send(b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(r.statusCode(), r.body(), r);
    }

    static String infer(float... x) {
        StringBuilder data = new StringBuilder();
        for (float v : x) {
            data.append(data.isEmpty() ? "" : ",").append(v);
        }
        return "{\"inputs\":[{\"name\":\"x\",\"shape\":[" + x.length / 4 + ",4],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}";
    }

    static JsonNode entry(JsonNode index, String name) {
        for (JsonNode e : index) {
            if (e.get("name").asText().equals(name)) {
                return e;
            }
        }
        throw new AssertionError(name + " is not in the index " + index);
    }

    @Test
    void the_index_lists_ready_models_with_their_versions_and_refused_ones_with_why() throws Exception {
        Reply all = call("POST", "/v2/repository/index", null);
        assertThat(all.status()).as(all.body()).isEqualTo(200);
        JsonNode cls = entry(all.json(), "cls");
        assertThat(cls.get("state").asText()).isEqualTo("READY");
        assertThat(cls.get("version").asText()).isEqualTo(agent.slots().activeVersions().get("cls"));
        assertThat(cls.get("reason").asText()).isEmpty();
        JsonNode broken = entry(all.json(), "broken");
        assertThat(broken.get("state").asText()).isEqualTo("UNAVAILABLE");
        assertThat(broken.get("reason").asText()).startsWith("broken.onnx did not load").doesNotContain(dir.toString());

        Reply ready = call("POST", "/v2/repository/index", "{\"ready\": true}");
        assertThat(ready.json().findValuesAsText("name")).contains("cls").doesNotContain("broken");
        Reply bad = call("POST", "/v2/repository/index", "{\"ready\": \"yes\"}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.json().get("error").asText()).contains("'ready'");
    }

    @Test
    void stats_count_answered_and_failed_requests_in_tritons_shape() throws Exception {
        JsonNode before = call("GET", "/v2/models/cls/stats", null).json().get("model_stats").get(0);
        for (int i = 0; i < 3; i++) {
            Reply ok = call("POST", "/v2/models/cls/infer", infer(1, 2, 3, 4, 5, 6, 7, 8));
            assertThat(ok.status()).as(ok.body()).isEqualTo(200);
        }
        Reply wrong = call("POST", "/v2/models/cls/infer", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}");
        assertThat(wrong.status()).isEqualTo(400);

        Reply r = call("GET", "/v2/models/cls/stats", null);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.raw().headers().firstValue("Content-Type")).hasValue("application/json");
        JsonNode s = r.json().get("model_stats").get(0);
        assertThat(s.get("name").asText()).isEqualTo("cls");
        assertThat(s.get("version").asText()).isEqualTo(agent.slots().activeVersions().get("cls"));
        long batch = call("GET", "/v2/models/cls", null).json().at("/inputs/0/shape/0").asLong() == -1 ? 2 : 1;
        assertThat(s.get("execution_count").asLong() - before.get("execution_count").asLong()).isEqualTo(3);
        assertThat(s.get("inference_count").asLong() - before.get("inference_count").asLong()).isEqualTo(3 * batch);
        assertThat(s.get("last_inference").asLong()).isPositive();
        JsonNode st = s.get("inference_stats");
        JsonNode st0 = before.get("inference_stats");
        for (String d : new String[] {"success", "queue", "compute_input", "compute_infer", "compute_output"}) {
            assertThat(st.at("/" + d + "/count").asLong() - st0.at("/" + d + "/count").asLong()).as(d).isEqualTo(3);
            assertThat(st.at("/" + d + "/ns").asLong()).as(d).isGreaterThanOrEqualTo(st0.at("/" + d + "/ns").asLong());
        }
        assertThat(st.at("/success/ns").asLong() - st0.at("/success/ns").asLong()).isPositive();
        assertThat(st.at("/compute_infer/ns").asLong() - st0.at("/compute_infer/ns").asLong()).isPositive();
        assertThat(st.at("/fail/count").asLong() - st0.at("/fail/count").asLong()).isEqualTo(1);

        JsonNode every = call("GET", "/v2/models/stats", null).json().get("model_stats");
        assertThat(every.findValuesAsText("name")).contains("cls");
        String v = agent.slots().activeVersions().get("cls");
        assertThat(call("GET", "/v2/models/cls/versions/" + v + "/stats", null).json().at("/model_stats/0/version").asText()).isEqualTo(v);
        Reply unknown = call("GET", "/v2/models/nope/stats", null);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("error").asText()).isEqualTo("model 'nope' is not in this agent's repository");
    }

    @Test
    void an_unloaded_model_answers_503_with_why_until_it_is_loaded_again() throws Exception {
        String version = agent.slots().activeVersions().get("cls");
        assertThat(call("POST", "/v2/models/cls/infer", infer(1, 2, 3, 4)).status()).isEqualTo(200);

        Reply unload = call("POST", "/v2/repository/models/cls/unload", null);
        assertThat(unload.status()).as(unload.body()).isEqualTo(200);
        Reply refused = call("POST", "/v2/models/cls/infer", infer(1, 2, 3, 4));
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.json().get("error").asText()).contains("unloaded through the model repository API");
        JsonNode e = entry(call("POST", "/v2/repository/index", null).json(), "cls");
        assertThat(e.get("state").asText()).isEqualTo("UNAVAILABLE");
        assertThat(e.get("version").asText()).isEqualTo(version);
        assertThat(e.get("reason").asText()).contains("/v2/repository/models/cls/load");
        assertThat(call("POST", "/v2/repository/models/cls/unload", null).status()).as("unloading again does nothing").isEqualTo(200);

        Reply load = call("POST", "/v2/repository/models/cls/load", null);
        assertThat(load.status()).as(load.body()).isEqualTo(200);
        Reply back = call("POST", "/v2/models/cls/infer", infer(1, 2, 3, 4));
        assertThat(back.status()).as(back.body()).isEqualTo(200);
        assertThat(back.json().get("model_version").asText()).isEqualTo(version);
        assertThat(entry(call("POST", "/v2/repository/index", null).json(), "cls").get("state").asText()).isEqualTo("READY");

        Reply unknown = call("POST", "/v2/repository/models/nope/load", null);
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("error").asText()).contains("'nope'");
        Reply refusedFile = call("POST", "/v2/repository/models/broken/load", null);
        assertThat(refusedFile.status()).isEqualTo(404);
        assertThat(refusedFile.json().get("error").asText()).contains("broken.onnx did not load");
    }

    @Test
    void unknown_routes_are_404_and_wrong_methods_405_with_allow_both_with_a_json_error() throws Exception {
        Reply none = call("GET", "/v2/nothing/here", null);
        assertThat(none.status()).isEqualTo(404);
        assertThat(none.raw().headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(none.json().get("error").asText()).isEqualTo("no endpoint /v2/nothing/here in this server's v2 API");

        Reply getInfer = call("GET", "/v2/models/cls/infer", null);
        assertThat(getInfer.status()).isEqualTo(405);
        assertThat(getInfer.raw().headers().firstValue("Allow")).hasValue("POST");
        assertThat(getInfer.json().get("error").asText()).contains("GET is not allowed");

        Reply deleteIndex = call("DELETE", "/v2/repository/index", null);
        assertThat(deleteIndex.status()).isEqualTo(405);
        assertThat(deleteIndex.raw().headers().firstValue("Allow")).hasValue("POST");
        Reply postStats = call("POST", "/v2/models/cls/stats", "{}");
        assertThat(postStats.status()).isEqualTo(405);
        assertThat(postStats.raw().headers().firstValue("Allow")).hasValue("GET");
        Reply putRoot = call("PUT", "/v2", "{}");
        assertThat(putRoot.status()).isEqualTo(405);
        assertThat(putRoot.raw().headers().firstValue("Allow")).hasValue("GET");

        assertThat(call("GET", "/v2", null).json().get("extensions").toString()).contains("model_repository", "statistics");
        assertThat(call("POST", "/v2/models/cls/infer", infer(1, 2, 3, 4)).status()).as("the agent keeps serving").isEqualTo(200);
    }

    @Test
    void a_real_tflite_model_is_indexed_unloaded_loaded_and_counted() throws Exception {
        SharedModels.require("hello_world/hello_world_float.tflite"); // skips, or fails in CI, without the shared models
        String in;
        try (var lease = agent.slots().lease("hello", java.util.Optional.empty())) {
            in = lease.model().signature().inputs().get(0).name();
        }
        assertThat(entry(call("POST", "/v2/repository/index", null).json(), "hello").get("state").asText()).isEqualTo("READY");
        String request = "{\"inputs\":[{\"name\":\"" + in + "\",\"shape\":[1,1],\"datatype\":\"FP32\",\"data\":[1.5]}]}";
        Reply first = call("POST", "/v2/models/hello/infer", request);
        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.json().at("/outputs/0/data/0").asDouble()).isCloseTo(Math.sin(1.5), org.assertj.core.data.Offset.offset(0.1));
        assertThat(call("POST", "/v2/repository/models/hello/unload", null).status()).isEqualTo(200);
        assertThat(call("POST", "/v2/models/hello/infer", request).status()).isEqualTo(503);
        assertThat(call("POST", "/v2/repository/models/hello/load", null).status()).isEqualTo(200);
        assertThat(call("POST", "/v2/models/hello/infer", request).status()).isEqualTo(200);
        JsonNode s = call("GET", "/v2/models/hello/stats", null).json().at("/model_stats/0");
        assertThat(s.get("execution_count").asLong()).isEqualTo(2);
        assertThat(s.at("/inference_stats/success/count").asLong()).isEqualTo(2);
        assertThat(s.at("/inference_stats/compute_infer/ns").asLong()).isPositive();
    }
}
