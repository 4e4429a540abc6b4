package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.Encoded;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.ModelMetadata;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.oip.Parameters;
import io.edgefleet.protocols.oip.RequestedOutput;
import io.edgefleet.protocols.oip.TensorData;
import io.helidon.http.HeaderNames;
import io.helidon.webclient.api.HttpClientResponse;
import io.helidon.webclient.api.WebClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's Open Inference Protocol endpoints over real HTTP, with Helidon's client and with curl. */
class AgentHttpTest {
    @TempDir
    static Path dir;
    static EdgeAgent agent;
    static WebClient client;
    static final OipCodec CODEC = OipCodec.create();

    @BeforeAll
    static void start() throws IOException {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls-onnx.onnx"));
        Files.move(SyntheticModels.classifierTflite(dir), models.resolve("cls-tflite.tflite"));
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withMaxPayloadBytes(64 * 1024));
        client = WebClient.builder().baseUri("http://127.0.0.1:" + agent.httpPort()).build();
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    record Reply(int status, byte[] body, Optional<String> headerLength, Optional<String> retryAfter) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    static Reply post(String path, byte[] body, OptionalInt headerLength) {
        var req = client.post(path).header(HeaderNames.CONTENT_TYPE, headerLength.isPresent() ? "application/octet-stream" : "application/json");
        if (headerLength.isPresent()) {
            req.header(HeaderNames.create(OipCodec.HEADER_CONTENT_LENGTH), Integer.toString(headerLength.getAsInt()));
        }
        try (HttpClientResponse r = req.submit(body)) {
            return new Reply(r.status().code(), r.entity().hasEntity() ? r.as(byte[].class) : new byte[0],
                    r.headers().first(HeaderNames.create(OipCodec.HEADER_CONTENT_LENGTH)), r.headers().first(HeaderNames.RETRY_AFTER));
        }
    }

    static Reply get(String path) {
        try (HttpClientResponse r = client.get(path).request()) {
            return new Reply(r.status().code(), r.entity().hasEntity() ? r.as(byte[].class) : new byte[0], Optional.empty(), Optional.empty());
        }
    }

    static InferRequest request(float... x) {
        return InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {x.length / 4, 4}, x))).withId("req-1");
    }

    @Test
    void both_runtimes_answer_json_requests_with_the_version_that_answered() {
        for (String model : List.of("cls-onnx", "cls-tflite")) {
            Encoded e = CODEC.encodeRequest(request(1, 2, 3, 4), false);
            Reply r = post("/v2/models/" + model + "/infer", e.body(), OptionalInt.empty());
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            InferResponse resp = CODEC.decodeResponse(r.body(), OptionalInt.empty());
            assertThat(resp.modelName()).isEqualTo(model);
            assertThat(resp.modelVersion()).contains(agent.slots().activeVersions().get(model));
            assertThat(resp.id()).contains("req-1");
            assertThat(resp.parameters().string("edgefleet.computed_at")).contains("edge");
            assertThat(resp.outputs().get(0).data().toFloatArray()).containsExactly(SyntheticModels.classify(new float[] {1, 2, 3, 4}), within(1e-5f));
        }
    }

    @Test
    void binary_tensor_extension_works_both_ways_and_versioned_urls_match_the_active_version() {
        String version = agent.slots().activeVersions().get("cls-onnx");
        InferRequest req = new InferRequest(Optional.empty(), Parameters.of(Parameters.BINARY_DATA_OUTPUT, true),
                request(1, 2, 3, 4, 0, 0, 0, 0).inputs(), List.of());
        Encoded e = CODEC.encodeRequest(req, true);
        Reply r = post("/v2/models/cls-onnx/versions/" + version + "/infer", e.body(), e.headerLength());
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(r.headerLength()).isPresent();
        InferResponse resp = CODEC.decodeResponse(r.body(), OptionalInt.of(Integer.parseInt(r.headerLength().get())));
        assertThat(resp.outputs().get(0).shape()).containsExactly(2, 3);
        assertThat(resp.modelVersion()).contains(version);
    }

    @Test
    void metadata_health_and_readiness_follow_the_spec() {
        assertThat(get("/v2/health/live").status()).isEqualTo(200);
        assertThat(get("/v2/health/ready").status()).isEqualTo(200);
        assertThat(get("/v2/models/cls-tflite/ready").status()).isEqualTo(200);
        Reply meta = get("/v2/models/cls-tflite");
        assertThat(meta.status()).isEqualTo(200);
        ModelMetadata m = CODEC.decodeModelMetadata(meta.body());
        assertThat(m.platform()).isEqualTo("tensorflow_tflite");
        assertThat(m.inputs().get(0).shape()).containsExactly(-1, 4);
        assertThat(m.versions()).containsExactly(agent.slots().activeVersions().get("cls-tflite"));
        assertThat(CODEC.decodeServerMetadata(get("/v2").body()).extensions()).contains("binary_tensor_data");
    }

    @Test
    void bad_requests_get_the_protocols_error_body_with_the_right_status_and_the_agent_keeps_serving() {
        Reply unknown = post("/v2/models/nope/infer", CODEC.encodeRequest(request(1, 2, 3, 4), false).body(), OptionalInt.empty());
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(CODEC.decodeError(unknown.body())).startsWith("model 'nope' is not served here (models: cls-onnx, cls-tflite)");
        Reply wrongVersion = get("/v2/models/cls-onnx/versions/zzz/ready");
        assertThat(wrongVersion.status()).isEqualTo(404);
        assertThat(CODEC.decodeError(wrongVersion.body())).contains("version 'zzz' is not served here");
        Reply malformed = post("/v2/models/cls-onnx/infer", "{\"inputs\":[".getBytes(StandardCharsets.UTF_8), OptionalInt.empty());
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(CODEC.decodeError(malformed.body())).startsWith("$: malformed input");
        Reply shape = post("/v2/models/cls-onnx/infer", ("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\","
                + "\"data\":[1,2,3]}]}").getBytes(StandardCharsets.UTF_8), OptionalInt.empty());
        assertThat(shape.status()).isEqualTo(400);
        assertThat(CODEC.decodeError(shape.body())).isEqualTo("model 'cls-onnx' input 'x': expected shape [-1,4], got [1,3]");
        Reply badOutput = post("/v2/models/cls-onnx/infer", CODEC.encodeRequest(new InferRequest(Optional.empty(), Parameters.EMPTY,
                request(1, 2, 3, 4).inputs(), List.of(new RequestedOutput("nope"))), false).body(), OptionalInt.empty());
        assertThat(badOutput.status()).isEqualTo(400);
        assertThat(CODEC.decodeError(badOutput.body())).isEqualTo("model 'cls-onnx' has no output 'nope' (its outputs: probs)");
        Reply oversize = post("/v2/models/cls-onnx/infer", new byte[100 * 1024], OptionalInt.empty());
        assertThat(oversize.status()).isEqualTo(413);
        // still serving
        assertThat(post("/v2/models/cls-onnx/infer", CODEC.encodeRequest(request(1, 2, 3, 4), false).body(), OptionalInt.empty()).status())
                .isEqualTo(200);
    }

    @Test
    void the_agent_reports_its_own_health_and_prometheus_metrics() {
        assertThat(post("/v2/models/cls-onnx/infer", CODEC.encodeRequest(request(1, 2, 3, 4), false).body(), OptionalInt.empty()).status())
                .isEqualTo(200);
        Reply health = get("/observe/health");
        assertThat(health.status()).isEqualTo(200);
        assertThat(health.text()).contains("\"status\":\"UP\"", "\"name\":\"models\"", "cls-onnx");
        try (HttpClientResponse r = client.get("/observe/metrics").header(HeaderNames.ACCEPT, "text/plain").request()) {
            assertThat(r.status().code()).isEqualTo(200);
            String text = r.as(String.class);
            assertThat(text).contains("edgefleet_agent_models_active", "edgefleet_agent_requests_total", "model=\"cls-onnx\"",
                    "edgefleet_agent_telemetry_outbox");
        }
    }

    @Test
    void curl_gets_an_answer() throws Exception {
        Path body = Files.write(dir.resolve("req.json"),
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}".getBytes(StandardCharsets.UTF_8));
        Process p = new ProcessBuilder("curl", "-s", "-w", "\n%{http_code}", "-H", "Content-Type: application/json",
                "--data-binary", "@" + body, "http://127.0.0.1:" + agent.httpPort() + "/v2/models/cls-tflite/infer")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(out).endsWith("\n200").contains("\"model_name\":\"cls-tflite\"", "\"name\":\"probs\"");
    }
}
