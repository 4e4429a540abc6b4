package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.profiles.probe.TfliteNative;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.lite.Interpreter;

/**
 * Per-request state isolation on TFLite: a model whose RNN keeps its hidden state in a variable
 * tensor answers the same request the same way every time, on every pooled interpreter.
 */
class VariableTensorTest {
    @TempDir
    Path dir;

    private static float run(Interpreter it, float x) {
        float[][] out = new float[1][1];
        it.run(new float[][] {{x}}, out);
        return out[0][0];
    }

    /** Proof that the model is stateful on the bare runtime, so the engine test below cannot pass vacuously. */
    @Test
    void the_bare_runtime_carries_the_variable_tensor_from_one_invocation_into_the_next() {
        Path f = SyntheticModels.accumulatorTflite(dir);
        TfliteNative.load();
        try (Interpreter it = new Interpreter(f.toFile())) {
            assertThat(List.of(run(it, 1), run(it, 1), run(it, 1))).containsExactly(1f, 2f, 3f);
            it.resetVariableTensors();
            assertThat(run(it, 5)).isEqualTo(5f);
        }
    }

    @Test
    void the_same_request_gets_the_same_answer_whatever_came_before_on_the_same_interpreter() {
        Path f = SyntheticModels.accumulatorTflite(dir);
        try (LoadedModel m = Engines.tflite().load(f, "acc", EngineOptions.defaults().withPoolSize(1))) {
            List<Float> answers = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                answers.add(m.infer(x(1)).get(0).data().toFloatArray()[0]);
                m.infer(x(100)); // another client's request in between
            }
            assertThat(answers).containsOnly(1f).hasSize(5);
            assertThat(m.infer(x(100)).get(0).data().toFloatArray()).containsExactly(100f);
        }
    }

    private static List<InferTensor> x(float v) {
        return List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 1}, v)));
    }
}
