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

    private static float lstm(Interpreter it, float x) {
        float[][][] out = new float[1][1][1];
        it.run(new float[][][] {{{x}}}, out);
        return out[0][0][0];
    }

    /** A real LSTM cell (UNIDIRECTIONAL_SEQUENCE_LSTM): on the bare runtime its state carries over, step by step as computed in Java. */
    @Test
    void a_real_lstm_carries_output_and_cell_state_across_invocations_on_the_bare_runtime() {
        Path f = SyntheticModels.lstmTflite(dir);
        TfliteNative.load();
        try (Interpreter it = new Interpreter(f.toFile())) {
            double h = 0;
            double c = 0;
            for (int step = 0; step < 3; step++) {
                double[] next = SyntheticModels.lstmStep(1, h, c);
                h = next[0];
                c = next[1];
                assertThat((double) lstm(it, 1)).as("step %d", step).isCloseTo(h, org.assertj.core.data.Offset.offset(1e-5));
            }
            assertThat(h).as("the third step differs from the first").isGreaterThan(SyntheticModels.lstmStep(1, 0, 0)[0] + 0.3);
        }
    }

    @Test
    void a_real_lstm_answers_every_request_from_a_clean_state_through_the_engine() {
        Path f = SyntheticModels.lstmTflite(dir);
        double fresh = SyntheticModels.lstmStep(1, 0, 0)[0];
        try (LoadedModel m = Engines.tflite().load(f, "lstm", EngineOptions.defaults().withPoolSize(2))) {
            for (int i = 0; i < 6; i++) {
                float y = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 1, 1}, 1f)))).get(0).data()
                        .toFloatArray()[0];
                assertThat((double) y).as("request %d", i).isCloseTo(fresh, org.assertj.core.data.Offset.offset(1e-5));
                m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 1, 1}, -3f)))); // another client's request
            }
        }
    }

    private static List<InferTensor> x(float v) {
        return List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 1}, v)));
    }
}
