package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.Encoded;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.oip.TensorData;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The drift API on a real control plane (SQLite, HTTP on a free port) with a registered ONNX classifier x[N,4]. */
class DriftApiTest {
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;
    static CloudClient viewer;
    static final String REF = "/api/v1/models/clf/versions/1/drift/reference";

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlane.start(CloudTestSupport.config(dir));
        ops = CloudTestSupport.client(cp, OPERATOR);
        viewer = CloudTestSupport.client(cp, VIEWER);
        assertThat(ops.pushModel("clf", "1", List.of(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("m")))), List.of(),
                Map.of(), n -> { }).status()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    static byte[] samples(String name, int n, int width, long seed) {
        Random rnd = new Random(seed);
        float[] v = new float[n * width];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return OipCodec.create().encodeRequest(InferRequest.of(new InferTensor(name, TensorData.ofFloats(new long[] {n, width}, v))), false).body();
    }

    static HttpResponse<String> post(String path, byte[] body, Optional<Integer> headerLength) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.port() + path))
                .header("Authorization", "Bearer " + OPERATOR).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        headerLength.ifPresent(h -> b.header(OipCodec.HEADER_CONTENT_LENGTH, Integer.toString(h)));
        b.header("Content-Type", headerLength.isPresent() ? "application/octet-stream" : "application/json");
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Test
    void a_sample_set_becomes_the_reference_and_the_state_shows_it() throws Exception {
        HttpResponse<String> r = post(REF, samples("x", 1000, 4, 1), Optional.empty());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        assertThat(r.body()).contains("\"source\":\"samples\"", "\"samples\":1000", "\"features\":{\"x\":4}");
        JsonNode ref = ops.get(REF).json();
        assertThat(ref.path("inputs").path("x")).hasSize(4);
        assertThat(ref.path("inputs").path("x").path(0).path("edges")).hasSize(9);
        JsonNode state = viewer.get("/api/v1/models/clf/versions/1/drift?windows=5").json();
        assertThat(state.path("alarm").asBoolean()).isFalse();
        assertThat(state.path("reference").path("source").asText()).isEqualTo("samples");
        assertThat(state.path("threshold").asDouble()).isEqualTo(0.2);
        assertThat(viewer.get("/api/v1/drift").json().path("versions").toString()).contains("\"version\":\"1\"");
        assertThat(ops.get("/api/v1/events?subject=clf/1").json().toString()).contains("model.drift.reference");
        assertThat(viewer.raw("POST", REF, "application/json", samples("x", 1000, 4, 1)).status()).as("viewers cannot set it").isEqualTo(403);
    }

    @Test
    void bad_sample_sets_get_a_problem_naming_the_rule_and_the_reference_is_left_alone() throws Exception {
        assertThat(post(REF, samples("x", 500, 4, 2), Optional.empty()).statusCode()).isEqualTo(201);
        record Case(String what, byte[] body, Optional<Integer> header, int status, String detail) {
        }
        float[] nan = new float[400 * 4];
        nan[17] = Float.NaN;
        nan[300] = Float.POSITIVE_INFINITY;
        Encoded binary = OipCodec.create().encodeRequest(InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {400, 4}, nan))), true);
        List<Case> cases = List.of(
                new Case("wrong shape", samples("x", 500, 5, 3), Optional.empty(), 400, "expected samples stacked on axis 0 of shape [N, 4], got [500, 5]"),
                new Case("unknown input", samples("y", 500, 4, 3), Optional.empty(), 400, "has no input 'y'"),
                new Case("empty body", new byte[0], Optional.empty(), 400, "inference request"),
                new Case("empty sample set", samples("x", 0, 4, 3), Optional.empty(), 400, "0 samples, at least 200"),
                new Case("too few samples", samples("x", 50, 4, 3), Optional.empty(), 400, "50 samples, at least 200"),
                new Case("no inputs", "{\"inputs\":[]}".getBytes(StandardCharsets.UTF_8), Optional.empty(), 400, ""),
                new Case("not JSON", "samples please".getBytes(StandardCharsets.UTF_8), Optional.empty(), 400, ""),
                new Case("non-finite values", binary.body(), Optional.of(binary.headerLength().getAsInt()), 400, "2 non-finite values"));
        for (Case c : cases) {
            HttpResponse<String> r = post(REF, c.body(), c.header());
            assertThat(r.statusCode()).as(c.what() + ": " + r.body()).isEqualTo(c.status());
            assertThat(r.headers().firstValue("Content-Type")).as(c.what()).hasValue("application/problem+json");
            assertThat(r.body()).as(c.what()).contains(c.detail());
        }
        assertThat(post("/api/v1/models/clf/versions/9/drift/reference", samples("x", 500, 4, 3), Optional.empty()).statusCode()).isEqualTo(404);
        assertThat(ops.get("/api/v1/models/clf/versions/1/drift?windows=0").status()).isEqualTo(400);
        assertThat(ops.get("/api/v1/models/clf/versions/1/drift?windows=lots").status()).isEqualTo(400);
        assertThat(ops.get(REF).json().path("samples").asLong()).as("the good reference stands").isEqualTo(500);
        assertThat(ops.get("/api/v1").status()).as("still serving").isEqualTo(200);
    }

    @Test
    void deleting_the_reference_forgets_it() throws Exception {
        assertThat(post(REF, samples("x", 300, 4, 4), Optional.empty()).statusCode()).isEqualTo(201);
        assertThat(ops.delete(REF).status()).isEqualTo(204);
        assertThat(ops.get(REF).status()).isEqualTo(404);
        assertThat(ops.delete(REF).status()).isEqualTo(404);
    }
}
