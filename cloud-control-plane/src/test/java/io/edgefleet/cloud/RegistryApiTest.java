package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.VIEWER;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.sync.signing.ManifestSigning;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model registry through the REST API: validation in the isolated verifier, signing, immutability, auth, problem JSON. */
@org.junit.jupiter.api.extension.ExtendWith(DatabaseParameter.class)
class RegistryApiTest {
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;
    static Path onnx;
    static Path tflite;

    /** SQLite, or PostgreSQL in the {@link OnPostgres} subclass. */
    @BeforeAll
    static void start(io.edgefleet.cloud.store.DatabaseSettings database) throws Exception {
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMaxUploadBytes(2 * 1024 * 1024).withDatabase(database));
        ops = client(cp, OPERATOR);
        onnx = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("onnx")));
        tflite = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("tflite")));
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    private static void assertProblem(CloudClient.Response r, int status, String detailContains) {
        assertThat(r.status()).as(r.text()).isEqualTo(status);
        assertThat(r.contentType()).isEqualTo("application/problem+json");
        JsonNode p = r.json();
        assertThat(p.get("status").asInt()).isEqualTo(status);
        assertThat(p.get("title").asText()).isNotBlank();
        assertThat(p.get("type").asText()).startsWith("https://edgefleet.io/problems/");
        assertThat(p.get("instance").asText()).startsWith("/api/v1");
        assertThat(p.get("detail").asText()).contains(detailContains);
    }

    @Test
    void a_version_with_two_good_variants_is_registered_signed_and_served_to_the_sync_endpoints() {
        CloudClient.Response r = ops.pushModel("cls", "1", List.of(onnx, tflite), List.of("raspberry-pi-4-4gb", "intel-nuc-13-pro-i5"),
                Map.of("task", "classification", "labels", List.of("a", "b", "c"), "owner", "ml-team"), n -> { });
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        JsonNode v = r.json();
        assertThat(v.get("status").asText()).isEqualTo("active");
        assertThat(v.get("createdBy").asText()).isEqualTo("ops");
        assertThat(v.get("variants")).hasSize(2);
        assertThat(v.get("variants").findValuesAsText("runtime")).containsExactlyInAnyOrder("onnxruntime", "tflite");
        assertThat(v.get("variants").get(0).get("inputs").get(0).get("shape").toString()).isEqualTo("[-1,4]");
        assertThat(v.get("metadata").get("labels").toString()).isEqualTo("[\"a\",\"b\",\"c\"]");

        // The manifest, from the sync endpoint agents use, verifies with the key the API publishes.
        JsonNode keys = client(cp, VIEWER).get("/api/v1/keys").json().get("keys").get(0);
        CloudClient.Response m = ops.get("/sync/v1/manifests/cls/1");
        assertThat(m.status()).as(m.text()).isEqualTo(200);
        Manifest manifest = MessageCodec.json().decode(m.body(), Manifest.class);
        Manifest verified = ManifestSigning.verify(manifest, Map.of(keys.get("keyId").asText(), Keys.publicKey(keys.get("publicKey").asText())),
                Instant.now());
        assertThat(verified.variants()).hasSize(2);
        assertThat(verified.variants()).allSatisfy(x -> assertThat(x.targetProfiles()).contains("raspberry-pi-4-4gb"));
        // sync 1.1: a variant's whole file as one resource (devices ask it for byte ranges), the same bytes that were pushed
        var onnxVariant = verified.variants().stream().filter(x -> x.runtime().equals("onnxruntime")).findFirst().orElseThrow();
        CloudClient.Response file = ops.get("/sync/v1/variants/cls/1/" + onnxVariant.id());
        assertThat(file.status()).as(file.text()).isEqualTo(200);
        try {
            assertThat(file.body()).isEqualTo(Files.readAllBytes(onnx));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }

        // Versions are immutable.
        assertProblem(ops.pushModel("cls", "1", List.of(onnx), List.of(), Map.of(), n -> { }), 409, "immutable");
        assertThat(ops.get("/api/v1/models").json().findValuesAsText("name")).contains("cls");
    }

    @Test
    void a_file_the_runtime_cannot_load_is_refused_with_the_runtime_message_and_nothing_is_registered() throws Exception {
        Path junk = Files.write(dir.resolve("broken.onnx"), "this is not a protobuf".getBytes(StandardCharsets.UTF_8));
        CloudClient.Response r = ops.pushModel("broken", "1", List.of(onnx, junk), List.of(), Map.of(), n -> { });
        assertProblem(r, 422, "broken.onnx");
        JsonNode refusals = r.json().get("refusals");
        assertThat(refusals).hasSize(1);
        assertThat(refusals.get(0).get("file").asText()).isEqualTo("broken.onnx");
        assertThat(refusals.get(0).get("reason").asText()).containsIgnoringCase("protobuf");
        assertProblem(ops.get("/api/v1/models/broken/versions/1"), 404, "broken/1");
        assertThat(ops.get("/api/v1/events?subject=broken/1").json().findValuesAsText("kind")).contains("model.refused");
        // a subject ending in "/" is a prefix (the console's model page asks "broken/"), case-sensitive as ids are;
        // without it, exact
        assertThat(ops.get("/api/v1/events?subject=broken/").json().findValuesAsText("subject")).contains("broken/1");
        assertThat(ops.get("/api/v1/events?subject=Broken/").json()).isEmpty();
        assertThat(ops.get("/api/v1/events?subject=broken").json()).isEmpty();
    }

    @Test
    void the_real_person_detector_is_refused_for_a_tflite_2_6_profile_with_the_runtime_message() {
        Path person = io.edgefleet.testkit.SharedModels.require("person_detection/person_detect_int8.tflite");
        CloudClient.Response r = ops.pushModel("person", "1", List.of(person), List.of("raspberry-pi-4-4gb"), Map.of(), n -> { });
        assertProblem(r, 422, "quantized_dimension must be in range [0, 1). Was 3.");
        Path kws = io.edgefleet.testkit.SharedModels.require("micro_speech/micro_speech_int8.tflite");
        CloudClient.Response ok = ops.pushModel("kws", "1", List.of(kws), List.of("raspberry-pi-4-4gb"), Map.of(), n -> { });
        assertThat(ok.status()).as(ok.text()).isEqualTo(201);
        assertThat(ok.json().get("variants").get(0).get("precision").asText()).isEqualTo("int8");
    }

    @Test
    void a_variant_whose_runtime_the_profile_lacks_is_refused_for_that_profile() {
        // The Coral board runs TFLite only (see its catalog entry).
        CloudClient.Response r = ops.pushModel("cls-coral", "1", List.of(onnx), List.of("coral-dev-board"), Map.of(), n -> { });
        assertProblem(r, 422, "has no onnxruntime runtime");
        assertThat(r.json().get("refusals").get(0).get("profile").asText()).isEqualTo("coral-dev-board");
        assertProblem(ops.pushModel("cls-x", "1", List.of(onnx), List.of("no-such-board"), Map.of(), n -> { }), 422, "no-such-board");
    }

    @Test
    void a_variant_that_crashes_the_native_runtime_is_refused_and_the_control_plane_keeps_serving() throws Exception {
        try (ControlPlane crashing = ControlPlane.start(CloudTestSupport.config(dir.resolve("crash"))
                .withValidation(IsolationOptions.defaults().withFault(IsolationOptions.Fault.CRASH)))) {
            CloudClient c = client(crashing, OPERATOR);
            CloudClient.Response r = c.pushModel("cls", "1", List.of(onnx), List.of(), Map.of(), n -> { });
            assertProblem(r, 422, "classifier.onnx");
            assertThat(r.json().get("refusals").get(0).get("reason").asText()).containsIgnoringCase("crash");
            assertThat(c.get("/api/v1").status()).isEqualTo(200);
        }
    }

    @Test
    void tokens_are_required_and_viewers_cannot_write() {
        CloudClient anonymous = client(cp, null);
        CloudClient.Response r = anonymous.get("/api/v1/models");
        assertProblem(r, 401, "Bearer");
        assertProblem(client(cp, "not-a-valid-token-at-all").get("/api/v1/models"), 401, "not valid");
        CloudClient viewer = client(cp, VIEWER);
        assertThat(viewer.get("/api/v1/models").status()).isEqualTo(200);
        assertProblem(viewer.pushModel("cls-v", "1", List.of(onnx), List.of(), Map.of(), n -> { }), 403, "operator");
        assertProblem(viewer.put("/api/v1/fleets/f/devices/d", Map.of("tags", List.of("x"))), 403, "viewer");
        assertThat(ops.get("/api/v1/models/cls-v/versions/1").status()).isEqualTo(404);
    }

    @Test
    void bad_requests_get_precise_problems_and_the_server_keeps_serving() throws Exception {
        assertProblem(ops.get("/api/v1/models/nope"), 404, "nope");
        assertProblem(ops.get("/api/v1/nothing-here"), 404, "not an endpoint");
        assertProblem(ops.raw("POST", "/api/v1/models/cls/versions", "application/json", "{}".getBytes()), 400, "multipart/form-data");
        assertProblem(ops.raw("POST", "/api/v1/models/cls/versions", "multipart/form-data; boundary=xyz",
                "--xyz\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n9".getBytes()), 400, "closing boundary");
        assertProblem(ops.pushModel("cls", "9", List.of(), List.of(), Map.of(), n -> { }), 400, "at least one variant file");
        assertProblem(ops.pushModel("bad name!", "1", List.of(onnx), List.of(), Map.of(), n -> { }), 400, "model");
        Path big = Files.write(dir.resolve("big.onnx"), new byte[3 * 1024 * 1024]);
        for (int i = 0; i < 5; i++) {
            // every time, not most times: the refusal must reach the client however the upload and the close interleave
            long[] sent = {0};
            CloudClient.Response tooBig = ops.pushModel("big", "1", List.of(big), List.of(), Map.of(), n -> sent[0] = n);
            assertThat(tooBig.status()).as(tooBig.text()).isEqualTo(413);
            assertThat(sent[0]).as("body bytes sent before the refusal").isLessThan(big.toFile().length());
        }
        assertProblem(ops.raw("PUT", "/api/v1/fleets/f/devices/d", "application/json", "{\"tags\": [".getBytes()), 400, "");
        assertProblem(ops.get("/api/v1/telemetry/models/cls/versions/1?from=yesterday"), 400, "ISO-8601");
        assertProblem(ops.get("/api/v1/devices?selector=colour%3Dred"), 400, "colour");
        assertThat(ops.get("/api/v1").status()).isEqualTo(200);
    }

    @Test
    void a_deprecated_version_stays_downloadable_and_says_who_deprecated_it_and_why() {
        assertThat(ops.pushModel("dep", "1", List.of(tflite), List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
        CloudClient.Response d = ops.post("/api/v1/models/dep/versions/1/deprecate", Map.of("reason", "superseded by 2"));
        assertThat(d.status()).as(d.text()).isEqualTo(200);
        assertThat(d.json().get("status").asText()).isEqualTo("deprecated");
        assertThat(d.json().get("deprecation").get("by").asText()).isEqualTo("ops");
        assertThat(d.json().get("deprecation").get("reason").asText()).isEqualTo("superseded by 2");
        assertThat(ops.get("/sync/v1/manifests/dep/1").status()).isEqualTo(200);
        assertProblem(ops.post("/api/v1/models/dep/versions/7/deprecate", Map.of()), 404, "dep/7");
    }

    @Test
    void the_push_reports_upload_progress_up_to_the_whole_body() {
        long[] last = {0};
        CloudClient.Response r = ops.pushModel("prog", "1", List.of(tflite), List.of(), Map.of(), n -> last[0] = n);
        assertThat(r.status()).isEqualTo(201);
        assertThat(last[0]).isGreaterThan(tflite.toFile().length());
    }

    @Test
    void a_bad_rollout_spec_is_refused_with_the_field_and_nothing_is_created() {
        assertProblem(ops.raw("POST", "/api/v1/rollouts", "application/json", "{\"model\": ".getBytes()), 400, "");
        assertProblem(ops.raw("POST", "/api/v1/rollouts", "application/json",
                "{\"model\": \"cls\", \"version\": \"1\", \"waves\": []}".getBytes()), 400, "waves");
        assertProblem(ops.raw("POST", "/api/v1/rollouts", "application/json",
                "{\"model\": \"cls\", \"version\": \"1\", \"waves\": [{\"percent\": 150}]}".getBytes()), 400, "percent");
        assertProblem(ops.raw("POST", "/api/v1/rollouts", "application/json",
                "{\"model\": \"cls\", \"version\": \"1\", \"selector\": \"colour=red\", \"waves\": [{\"percent\": 100}]}".getBytes()),
                400, "colour");
        assertProblem(ops.raw("POST", "/api/v1/rollouts", "application/json",
                "{\"model\": \"nope\", \"version\": \"9\", \"waves\": [{\"percent\": 100}]}".getBytes()), 404, "nope/9");
        assertProblem(ops.raw("POST", "/api/v1/rollouts", "application/json",
                "{\"model\": \"cls\", \"version\": \"1\", \"waves\": [{\"percent\": 100, \"bake\": \"soon\"}]}".getBytes()), 400, "bake");
        assertProblem(ops.raw("POST", "/api/v1/rollouts", "application/json",
                "{\"model\": \"cls\", \"version\": \"1\", \"waves\": [{\"percent\": 100}], \"gates\": {\"minRequests\": -5}}".getBytes()),
                400, "minRequests");
        assertProblem(ops.get("/api/v1/rollouts/ro-missing"), 404, "ro-missing");
        assertProblem(ops.post("/api/v1/rollouts/ro-missing/dance", Map.of()), 404, "ro-missing");
        assertThat(ops.get("/api/v1/rollouts").json()).isEmpty();
    }
}
