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
