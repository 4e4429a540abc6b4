package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.Checks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Model and version ids become file and URL path segments: {@code .} and {@code ..} (any id made
 * only of dots) are refused with a 400 that names the rule, and nothing is registered or stored.
 */
class RegistryIdsTest {
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;
    static Path onnx;

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")));
        ops = client(cp, OPERATOR);
        onnx = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("onnx")));
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    private static void assertRefused(CloudClient.Response r, String field) {
        assertThat(r.status()).as(r.text()).isEqualTo(400);
        assertThat(r.contentType()).isEqualTo("application/problem+json");
        assertThat(r.json().get("detail").asText()).contains(field, Checks.ID_RULE);
    }

    @ParameterizedTest
    @ValueSource(strings = {".", "..", "..."})
    void a_version_id_made_of_dots_is_refused_and_nothing_is_registered(String version) {
        assertRefused(ops.pushModel("dots-v", version, List.of(onnx), List.of(), Map.of(), n -> { }), "version");
        assertThat(ops.get("/api/v1/models/dots-v").status()).isEqualTo(404);
        assertThat(ops.get("/api/v1/events?subject=dots-v/" + CloudClient.enc(version)).json().findValuesAsText("kind"))
                .doesNotContain("model.registered");
    }

    @ParameterizedTest
    @ValueSource(strings = {"%2E", "%2E%2E", ".%2E"})
    void a_model_id_made_of_dots_is_refused_even_when_percent_encoded_in_the_path(String encodedModel) throws Exception {
        String boundary = "b0undary";
        byte[] file = Files.readAllBytes(onnx);
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n1\r\n"
                + "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.onnx\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").getBytes());
        body.writeBytes(file);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes());
        CloudClient.Response r = ops.raw("POST", "/api/v1/models/" + encodedModel + "/versions",
                "multipart/form-data; boundary=" + boundary, body.toByteArray());
        assertRefused(r, "model");
        assertThat(ops.get("/api/v1/models").json().findValuesAsText("name")).doesNotContain(".", "..");
    }

    @Test
    void ids_with_dots_inside_stay_valid() {
        CloudClient.Response r = ops.pushModel("dots.ok", "1.0.2", List.of(onnx), List.of(), Map.of(), n -> { });
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        assertThat(ops.get("/api/v1/models/dots.ok/versions/1.0.2").status()).isEqualTo(200);
    }

    @Test
    void a_rollout_of_a_dot_version_is_refused_naming_the_rule() {
        CloudClient.Response r = ops.raw("POST", "/api/v1/rollouts", "application/json",
                "{\"model\": \"cls\", \"version\": \"..\", \"selector\": \"fleet=f\"}".getBytes());
        assertRefused(r, "version");
    }
}
