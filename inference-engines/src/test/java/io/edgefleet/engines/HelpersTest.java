package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.edgefleet.protocols.manifest.Quantization;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.TensorData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Confidence measures, quantization and the session pool, against values worked out by hand. */
class HelpersTest {

    @Test
    void confidence_of_a_probability_vector() {
        Confidence c = Confidence.ofScores(new float[] {0.7f, 0.2f, 0.1f});
        assertThat(c.argmax()).isZero();
        assertThat(c.maxProbability()).isCloseTo(0.7, within(1e-6));
        assertThat(c.margin()).isCloseTo(0.5, within(1e-6));
        double h = -(0.7 * Math.log(0.7) + 0.2 * Math.log(0.2) + 0.1 * Math.log(0.1));
        assertThat(c.entropy()).isCloseTo(h, within(1e-6));
        assertThat(c.normalizedEntropy()).isCloseTo(h / Math.log(3), within(1e-6));
    }

    @Test
    void logits_go_through_softmax_and_uniform_scores_have_entropy_one() {
        Confidence c = Confidence.ofScores(new float[] {2f, 0f, 0f});
        double p = Math.exp(2) / (Math.exp(2) + 2);
        assertThat(c.maxProbability()).isCloseTo(p, within(1e-6));
        assertThat(c.margin()).isCloseTo(p - 1 / (Math.exp(2) + 2), within(1e-6));
        Confidence u = Confidence.ofScores(new float[] {0.25f, 0.25f, 0.25f, 0.25f});
        assertThat(u.normalizedEntropy()).isCloseTo(1.0, within(1e-9));
        assertThat(u.margin()).isZero();
    }

    @Test
    void int8_scores_are_dequantized_with_the_models_parameters_first() {
        Quantization q = new Quantization(1 / 256.0, -128);
        // 127 -> 0.99609, -128 -> 0: a quantized softmax, near enough to a distribution
        TensorData scores = TensorData.ofInt8(new long[] {1, 4}, (byte) -128, (byte) -128, (byte) 127, (byte) -128);
        Confidence c = Confidence.of(scores, Optional.of(q));
        assertThat(c.argmax()).isEqualTo(2);
        assertThat(c.maxProbability()).isCloseTo(1.0, within(1e-9));
        Confidence raw = Confidence.of(scores, Optional.empty());
        assertThat(raw.maxProbability()).isGreaterThan(0.99); // logits 127 vs -128: softmax is certain too
    }

    @Test
    void quantize_rounds_and_clamps_and_dequantize_inverts_it() {
        Quantization q = new Quantization(0.1, 10);
        TensorData t = Quantize.quantize(new float[] {0f, 0.04f, 0.06f, -100f, 100f}, new long[] {5}, DataType.INT8, q);
        assertThat(t.toFloatArray()).containsExactly(10, 10, 11, -128, 127);
        assertThat(Quantize.dequantize(t, q)).containsExactly(new float[] {0f, 0f, 0.1f, -13.8f, 11.7f}, within(1e-5f));
        TensorData u = Quantize.quantize(new float[] {-5f, 30f}, new long[] {2}, DataType.UINT8, q);
        assertThat(u.toFloatArray()).containsExactly(0, 255);
        assertThatThrownBy(() -> Quantize.quantize(new float[] {1}, new long[] {1}, DataType.FP32, q))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void the_pool_never_hands_out_more_than_it_holds_and_times_out_instead_of_queueing() {
        List<String> closed = new ArrayList<>();
        BoundedPool<String> pool = new BoundedPool<>(List.of("a", "b"), closed::add, "model 'm'");
        String a = pool.acquire(Duration.ZERO);
        String b = pool.acquire(Duration.ZERO);
        assertThat(List.of(a, b)).containsExactlyInAnyOrder("a", "b");
        assertThatThrownBy(() -> pool.acquire(Duration.ofMillis(20)))
                .isInstanceOf(EngineBusyException.class)
                .hasMessage("model 'm': all 2 sessions busy for 20 ms")
                .satisfies(e -> assertThat(((EngineBusyException) e).retriable()).isTrue());
        pool.release(a);
        assertThat(pool.acquire(Duration.ZERO)).isEqualTo(a);
        pool.release(a);
        pool.release(b);
        pool.close();
        assertThat(closed).containsExactlyInAnyOrder("a", "b");
        assertThatThrownBy(() -> pool.acquire(Duration.ZERO)).isInstanceOf(EngineBusyException.class).hasMessage("model 'm' is closed");
    }

    @Test
    void errors_say_whether_a_retry_can_help() {
        assertThat(new InvalidInputException("x").retriable()).isFalse();
        assertThat(new ModelLoadException("f", "bad").retriable()).isFalse();
        assertThat(new InferenceFailedException("x", null).retriable()).isFalse();
        assertThat(new ModelLoadException("f.onnx", "is empty").getMessage()).isEqualTo("model file f.onnx: is empty");
    }
}
