package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.registry.SignatureDiff;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.DataType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, finding 5: v2 of a model changed its input from FP32 to INT8 and registration said
 * nothing. Through the REST API with real ONNX files loaded by the isolated verifier: the registry
 * refuses a version whose signature differs from the previous version's, with every difference in
 * the problem JSON, and accepts it when the operator says so explicitly.
 */
class SignatureChangeTest {
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;

    @BeforeAll
    static void start() {
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")));
        ops = client(cp, OPERATOR);
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    static Path identity(String name, DataType type) throws Exception {
        return SyntheticModels.identityOnnx(Files.createDirectories(dir.resolve(name)), type);
    }

    @Test
    void an_fp32_to_int8_input_change_is_refused_with_the_difference_and_accepted_when_allowed() throws Exception {
        assertThat(ops.pushModel("sig", "1", List.of(identity("s1", DataType.FP32)), List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
        Path int8 = identity("s2", DataType.INT8);

        CloudClient.Response refused = ops.pushModel("sig", "2", List.of(int8), List.of(), Map.of(), n -> { });
        assertThat(refused.status()).as(refused.text()).isEqualTo(409);
        assertThat(refused.contentType()).isEqualTo("application/problem+json");
        JsonNode p = refused.json();
        assertThat(p.get("title").asText()).isEqualTo("Signature changed");
        assertThat(p.get("previousVersion").asText()).isEqualTo("1");
        List<String> changes = new ArrayList<>();
        p.get("signatureChanges").forEach(c -> changes.add(c.asText()));
        assertThat(changes).containsExactly("input 'x': datatype FP32 -> INT8", "output 'y': datatype FP32 -> INT8");
        assertThat(p.get("detail").asText()).contains("sig/2", "sig/1", "input 'x': datatype FP32 -> INT8", "allowSignatureChange=true");
        assertThat(ops.get("/api/v1/models/sig/versions/2").status()).as("nothing of a refused version is registered").isEqualTo(404);

        CloudClient.Response allowed = ops.pushModel("sig", "2", List.of(int8), List.of(), Map.of(), true, n -> { });
        assertThat(allowed.status()).as(allowed.text()).isEqualTo(201);
        JsonNode registered = ops.get("/api/v1/events?subject=sig/2").json();
        assertThat(registered.toString()).contains("model.refused", "model.registered", "input 'x': datatype FP32 -> INT8");

        // the next version is compared with 2, the one registered last: same INT8 signature, no flag needed
        assertThat(ops.pushModel("sig", "3", List.of(identity("s3", DataType.INT8)), List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
    }

    @Test
    void the_first_version_of_a_model_and_an_unchanged_signature_need_no_flag() throws Exception {
        assertThat(ops.pushModel("same", "1", List.of(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("c1")))), List.of(),
                Map.of(), n -> { }).status()).isEqualTo(201);
        assertThat(ops.pushModel("same", "2", List.of(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("c2")))), List.of(),
                Map.of(), n -> { }).status()).isEqualTo(201);
    }

    @Test
    void differences_name_each_tensor_dtype_shape_and_dynamic_dimension() {
        TensorSpec x = new TensorSpec("x", DataType.FP32, List.of(-1L, 4L), Optional.empty());
        TensorSpec probs = new TensorSpec("probs", DataType.FP32, List.of(-1L, 3L), Optional.empty());
        assertThat(SignatureDiff.of(List.of(x), List.of(probs), List.of(x), List.of(probs))).isEmpty();
        assertThat(SignatureDiff.of(List.of(x), List.of(probs),
                List.of(new TensorSpec("x", DataType.FP32, List.of(1L, 4L), Optional.empty()),
                        new TensorSpec("state", DataType.FP32, List.of(2L, 1L, 128L), Optional.empty())),
                List.of(new TensorSpec("scores", DataType.FP32, List.of(-1L, 3L), Optional.empty()))))
                .containsExactly("input 'x': shape [-1,4] -> [1,4]", "input 'state': added (FP32 [2,1,128])",
                        "output 'probs': removed (was FP32 [-1,3])", "output 'scores': added (FP32 [-1,3])");
    }
}
