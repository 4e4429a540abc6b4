package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ONNX engine reuses, per pool slot, the input buffer and the ORT tensor over it while the
 * shape stays: every answer must still be the model's answer to that request's own values, across
 * changing values, changing batch sizes and back, and after a refused request.
 */
class OnnxFeedReuseTest {
    @TempDir
    Path dir;

    @Test
    void answers_follow_each_requests_values_and_shape_on_a_reused_slot() throws Exception {
        int size = 8;
        Path file = SyntheticModels.denseOnnx(dir, size);
        Random rnd = new Random(3);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (LoadedModel m = Engines.forRuntime("onnxruntime").load(file, EngineOptions.defaults().withPoolSize(1));
                OrtSession reference = env.createSession(file.toString(), new OrtSession.SessionOptions())) {
            for (int rows : new int[] {1, 1, 3, 3, 1, 2, 1}) {
                float[] x = new float[rows * size];
                for (int i = 0; i < x.length; i++) {
                    x[i] = rnd.nextFloat() * 2 - 1;
                }
                long[] shape = {rows, size};
                List<InferTensor> out = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(shape, x))));
                float[] expected;
                try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                        OrtSession.Result r = reference.run(Map.of("x", t))) {
                    FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                    expected = new float[fb.remaining()];
                    fb.get(expected);
                }
                assertThat(out.get(0).shape()).containsExactly(rows, size);
                assertThat(out.get(0).data().toFloatArray()).as("%d row(s)", rows).containsExactly(expected);
                if (rows == 3) {
                    // a refused request between two good ones leaves the slot's tensors intact
                    assertThatThrownBy(() -> m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, size + 1},
                            new float[size + 1]))))).isInstanceOf(InvalidInputException.class);
                }
            }
        }
    }

    @Test
    void infer_checked_runs_what_check_returned() {
        Path file = SyntheticModels.denseOnnx(dir, 4);
        try (LoadedModel m = Engines.forRuntime("onnxruntime").load(file, EngineOptions.defaults().withPoolSize(1))) {
            List<InferTensor> in = List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, 1, -2, 3, -4)));
            List<InferTensor> checked = m.check(in);
            assertThat(m.inferChecked(checked)).isEqualTo(m.infer(in));
        }
    }
}
