package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every tensor type the agent passes goes through ONNX Runtime unchanged, and NaN comes back as NaN. */
class OnnxTensorTypesTest {
    @TempDir
    static Path dir;
    private static final long[] S = {2, 3};

    static Stream<TensorData> tensors() {
        return Stream.of(
                TensorData.ofFloats(S, 0f, -1.5f, 3.25f, Float.MAX_VALUE, Float.MIN_VALUE, -0f),
                TensorData.ofHalfFloats(S, 0f, 1f, -2.5f, 65504f, 0.5f, -0.25f),
                TensorData.ofInt8(S, (byte) -128, (byte) -1, (byte) 0, (byte) 1, (byte) 64, (byte) 127),
                TensorData.ofUint8(S, (byte) 0, (byte) 1, (byte) 127, (byte) 128, (byte) 200, (byte) 255),
                TensorData.ofInts(S, Integer.MIN_VALUE, -1, 0, 1, 7, Integer.MAX_VALUE),
                TensorData.ofLongs(S, Long.MIN_VALUE, -1, 0, 1, 7, Long.MAX_VALUE),
                TensorData.ofBooleans(S, true, false, false, true, true, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tensors")
    void identity_returns_every_element_unchanged(TensorData data) {
        Path file = SyntheticModels.identityOnnx(dir, data.type());
        try (LoadedModel m = Engines.onnx().load(file, EngineOptions.defaults())) {
            assertThat(m.signature().inputs().get(0).datatype()).isEqualTo(data.type());
            TensorData out = m.infer(List.of(new InferTensor("x", data))).get(0).data();
            assertThat(out).isEqualTo(data);
        }
    }

    @Test
    void a_model_that_outputs_nan_is_reported_as_nan_not_hidden() {
        try (LoadedModel m = Engines.onnx().load(SyntheticModels.nanOnnx(dir), EngineOptions.defaults())) {
            float[] y = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 2}, 1, 2)))).get(0).data().toFloatArray();
            assertThat(y).hasSize(2);
            assertThat(Float.isNaN(y[0]) && Float.isNaN(y[1])).as("both outputs NaN: %s", java.util.Arrays.toString(y)).isTrue();
        }
    }

    @Test
    void a_cuda_profile_on_a_host_without_cuda_falls_back_to_cpu() {
        EngineOptions jetson = EngineOptions.forProfile(DeviceCatalog.builtIn().get("jetson-orin-nano-8gb"));
        assertThat(jetson.providers()).containsExactly("cuda", "cpu");
        try (LoadedModel m = Engines.onnx().load(SyntheticModels.classifierOnnx(dir), jetson)) {
            assertThat(m.stats().providers()).containsExactly("CPU");
            assertThat(m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, 1, 2, 3, 4))))).hasSize(1);
        }
    }

    @Test
    void options_follow_the_device_profile() {
        DeviceCatalog c = DeviceCatalog.builtIn();
        EngineOptions pi = EngineOptions.forProfile(c.get("raspberry-pi-4-4gb"));
        assertThat(pi.providers()).containsExactly("cpu");
        assertThat(pi.threads()).isEqualTo(1);
        assertThat(pi.useXnnpack()).isTrue();
        assertThat(pi.memoryBudgetBytes()).isEqualTo(512L << 20);
        assertThat(EngineOptions.forProfile(c.get("orange-pi-5-rk3588")).threads()).isEqualTo(2);
        assertThat(pi.effectivePoolSize(1 << 20, 4)).isEqualTo(4);
        assertThat(pi.effectivePoolSize(200L << 20, 4)).isEqualTo(1);
        assertThat(pi.withPoolSize(3).effectivePoolSize(1, 64)).isEqualTo(3);
    }
}
