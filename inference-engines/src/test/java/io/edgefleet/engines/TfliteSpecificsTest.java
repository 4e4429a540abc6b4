package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.manifest.Quantization;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TfliteSpecificsTest {
    @TempDir
    Path dir;

    @Test
    void int8_tensors_report_their_quantization_and_dequantize_like_the_runtime() {
        Path file = SyntheticModels.dequantizeTflite(dir);
        ModelSignature sig = Engines.tflite().inspect(file);
        assertThat(sig.inputs().get(0).datatype()).isEqualTo(DataType.INT8);
        assertThat(sig.inputs().get(0).quantization()).contains(new Quantization(0.5, -1));
        assertThat(sig.outputs().get(0).quantization()).isEmpty();
        try (LoadedModel m = Engines.tflite().load(file, EngineOptions.defaults())) {
            TensorData x = Quantize.quantize(new float[] {-1f, 0f, 1.5f, 60f}, new long[] {1, 4}, DataType.INT8,
                    sig.inputs().get(0).quantization().get());
            assertThat(x.toFloatArray()).containsExactly(-3, -1, 2, 119);
            float[] y = m.infer(List.of(new InferTensor("x", x))).get(0).data().toFloatArray();
            assertThat(y).containsExactly(-1f, 0f, 1.5f, 60f);
            assertThat(Quantize.dequantize(x, new Quantization(0.5, -1))).containsExactly(y);
        }
    }

    @Test
    void int32_arithmetic_runs_with_and_without_xnnpack() {
        Path file = SyntheticModels.addInt32Tflite(dir);
        for (boolean xnnpack : new boolean[] {true, false}) {
            try (LoadedModel m = Engines.tflite().load(file, EngineOptions.defaults().withXnnpack(xnnpack).withThreads(2))) {
                TensorData y = m.infer(List.of(new InferTensor("x", TensorData.ofInts(new long[] {1, 4}, 10, 20, 30, 40)))).get(0).data();
                assertThat(y).isEqualTo(TensorData.ofInts(new long[] {1, 4}, 11, 22, 33, 44));
                assertThat(m.stats().providers()).containsExactly(xnnpack ? "XNNPACK" : "CPU");
            }
        }
    }

    @Test
    void quantization_is_absent_for_float_tensors() {
        ModelSignature sig = Engines.tflite().inspect(SyntheticModels.classifierTflite(dir));
        assertThat(sig.inputs().get(0).quantization()).isEqualTo(Optional.empty());
    }
}
