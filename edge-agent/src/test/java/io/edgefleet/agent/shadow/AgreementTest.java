package io.edgefleet.agent.shadow;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link Agreement}: top-1 for classifier-shaped outputs, numpy's isclose for the rest, non-finite never agreeing. */
class AgreementTest {
    @Test
    void regressors_agree_within_the_tolerance_and_never_with_a_non_finite_answer() {
        InferTensor a = new InferTensor("y", TensorData.ofFloats(new long[] {1, 1}, 100f));
        InferTensor near = new InferTensor("y", TensorData.ofFloats(new long[] {1, 1}, 100.9f)); // within 1e-3 + 1e-2 * 100
        InferTensor far = new InferTensor("y", TensorData.ofFloats(new long[] {1, 1}, 101.2f));
        InferTensor nan = new InferTensor("y", TensorData.ofFloats(new long[] {1, 1}, Float.NaN));
        assertThat(Agreement.of(List.of(a), List.of(near), Optional.empty(), 1e-3, 1e-2).agrees()).isTrue();
        assertThat(Agreement.of(List.of(a), List.of(far), Optional.empty(), 1e-3, 1e-2).agrees()).isFalse();
        Agreement n = Agreement.of(List.of(a), List.of(nan), Optional.empty(), 1e-3, 1e-2);
        assertThat(n.agrees()).isFalse();
        assertThat(n.nonFinite()).isTrue();
        // near zero the absolute tolerance rules
        InferTensor zero = new InferTensor("y", TensorData.ofFloats(new long[] {1, 1}, 0f));
        InferTensor tiny = new InferTensor("y", TensorData.ofFloats(new long[] {1, 1}, 0.0005f));
        assertThat(Agreement.of(List.of(zero), List.of(tiny), Optional.empty(), 1e-3, 1e-2).agrees()).isTrue();
        assertThat(Double.isNaN(Agreement.of(List.of(a), List.of(near), Optional.empty(), 1e-3, 1e-2).confidenceDiff())).isTrue();
    }

    @Test
    void classifiers_agree_on_the_top_class_of_every_row() {
        InferTensor a = new InferTensor("p", TensorData.ofFloats(new long[] {2, 3}, 0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f));
        InferTensor same = new InferTensor("p", TensorData.ofFloats(new long[] {2, 3}, 0.5f, 0.3f, 0.2f, 0.2f, 0.2f, 0.6f));
        InferTensor secondRowDiffers = new InferTensor("p", TensorData.ofFloats(new long[] {2, 3}, 0.7f, 0.2f, 0.1f, 0.6f, 0.1f, 0.3f));
        Agreement s = Agreement.of(List.of(a), List.of(same), Optional.empty(), 1e-3, 1e-2);
        assertThat(s.agrees()).isTrue();
        assertThat(s.confidenceDiff()).isCloseTo(-0.2, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(Agreement.of(List.of(a), List.of(secondRowDiffers), Optional.empty(), 1e-3, 1e-2).agrees()).isFalse();
    }
}
