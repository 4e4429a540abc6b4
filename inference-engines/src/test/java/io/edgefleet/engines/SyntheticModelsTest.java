package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Smoke: the model writers produce files both runtimes load and run. */
class SyntheticModelsTest {
    @TempDir
    Path dir;

    @Test
    void onnx_classifier_runs() {
        try (LoadedModel m = Engines.onnx().load(SyntheticModels.classifierOnnx(dir), EngineOptions.defaults())) {
            float[] x = {1, 2, 3, 4};
            List<InferTensor> out = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, x))));
            assertThat(out.get(0).data().toFloatArray()).containsExactly(SyntheticModels.classify(x), within(1e-5f));
        }
    }

    /** The convolutional benchmark model: its signature, finite logits, and a 2-row batch answers what its rows answer alone. */
    @Test
    void mobilenet_runs_and_a_batch_answers_what_its_rows_do_alone() {
        try (LoadedModel m = Engines.onnx().load(SyntheticModels.mobileNetOnnx(dir, 32), EngineOptions.defaults())) {
            assertThat(m.signature().inputs().get(0).shape()).containsExactly(-1L, 3L, 32L, 32L);
            assertThat(m.signature().outputs().get(0).shape()).containsExactly(-1L, 10L);
            int n = 3 * 32 * 32;
            float[] a = new float[n];
            float[] b = new float[n];
            float[] both = new float[2 * n];
            for (int i = 0; i < n; i++) {
                a[i] = (i % 7) / 7f;
                b[i] = (i % 11) / 11f;
                both[i] = a[i];
                both[n + i] = b[i];
            }
            float[] ya = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 3, 32, 32}, a)))).get(0).data().toFloatArray();
            float[] yb = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 3, 32, 32}, b)))).get(0).data().toFloatArray();
            InferTensor y = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {2, 3, 32, 32}, both)))).get(0);
            assertThat(y.shape()).containsExactly(2L, 10L);
            assertThat(ya).hasSize(10);
            for (float v : ya) {
                assertThat(Float.isFinite(v)).as("logit %s", v).isTrue();
            }
            assertThat(ya).isNotEqualTo(yb);
            float[] yy = y.data().toFloatArray();
            assertThat(java.util.Arrays.copyOfRange(yy, 0, 10)).containsExactly(ya, within(1e-4f));
            assertThat(java.util.Arrays.copyOfRange(yy, 10, 20)).containsExactly(yb, within(1e-4f));
        }
    }

    @Test
    void tflite_classifier_runs() {
        try (LoadedModel m = Engines.tflite().load(SyntheticModels.classifierTflite(dir), EngineOptions.defaults())) {
            float[] x = {1, 2, 3, 4};
            List<InferTensor> out = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, x))));
            assertThat(out.get(0).data().toFloatArray()).containsExactly(SyntheticModels.classify(x), within(1e-5f));
        }
    }

    @Test
    void identity_runs() {
        try (LoadedModel m = Engines.onnx().load(SyntheticModels.identityOnnx(dir, DataType.INT8), EngineOptions.defaults())) {
            assertThat(m.signature().inputs().get(0).datatype()).isEqualTo(DataType.INT8);
        }
    }
}
