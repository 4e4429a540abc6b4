package io.edgefleet.agent.shadow;

import io.edgefleet.engines.Confidence;
import io.edgefleet.protocols.manifest.Quantization;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Whether a shadow candidate's answer agrees with the active version's on the same input: a pure function, tested with
 * synthetic tensors.
 *
 * <p>Rule, decided from the output shape as the agent's confidence code decides it: when the active version's first
 * output looks like class scores (last dimension 2 to 1,000, floating point or quantized), the model is a
 * <b>classifier</b> and the two agree when every row ({@code elementCount / classes} of them) has the same top-1 class
 * (ties go to the lower index); the confidence difference is the candidate's top-class probability minus the active
 * version's, on the first row. Otherwise it is a <b>regressor</b>: the answers agree when they have the same outputs
 * and shapes and every floating-point element is within {@code |c - a| <= absTolerance + relTolerance * |a|} (numpy's
 * {@code isclose}), every integer element equal. A candidate answer holding NaN or infinity never agrees and is counted
 * as non-finite.
 *
 * @param agrees the answers agree
 * @param nonFinite the candidate's answer held NaN or infinity
 * @param confidenceDiff candidate minus active top-class probability, for classifiers; NaN otherwise
 */
record Agreement(boolean agrees, boolean nonFinite, double confidenceDiff) {
    static final int MAX_CLASSES = 1000;

    /**
     * @param active the active version's outputs (the answer the client got)
     * @param candidate the candidate's outputs on the same inputs
     * @param quantization the active version's first output's quantization, if quantized
     */
    static Agreement of(List<InferTensor> active, List<InferTensor> candidate, Optional<Quantization> quantization, double absTolerance,
            double relTolerance) {
        if (hasNonFinite(candidate)) {
            return new Agreement(false, true, Double.NaN);
        }
        if (active.isEmpty() || candidate.size() != active.size()) {
            return new Agreement(false, false, Double.NaN);
        }
        InferTensor a = active.get(0);
        InferTensor c = candidate.get(0);
        long[] shape = a.shape();
        long classes = shape.length == 0 ? 1 : shape[shape.length - 1];
        boolean classifier = classes >= 2 && classes <= MAX_CLASSES && (a.datatype().isFloatingPoint() || quantization.isPresent());
        if (classifier) {
            if (!Arrays.equals(shape, c.shape()) || hasNonFinite(List.of(a))) {
                return new Agreement(false, false, Double.NaN);
            }
            int k = (int) classes;
            int rows = a.data().elementCount() / k;
            boolean same = true;
            for (int r = 0; r < rows && same; r++) {
                same = argmax(a.data(), r * k, k) == argmax(c.data(), r * k, k);
            }
            double diff = Confidence.of(c.data(), quantization).maxProbability() - Confidence.of(a.data(), quantization).maxProbability();
            return new Agreement(same, false, Math.max(-1, Math.min(1, diff)));
        }
        for (int i = 0; i < active.size(); i++) {
            if (!close(active.get(i), candidate.get(i), absTolerance, relTolerance)) {
                return new Agreement(false, false, Double.NaN);
            }
        }
        return new Agreement(true, false, Double.NaN);
    }

    private static boolean close(InferTensor a, InferTensor c, double abs, double rel) {
        if (!Arrays.equals(a.shape(), c.shape()) || a.datatype() != c.datatype()) {
            return false;
        }
        TensorData x = a.data();
        TensorData y = c.data();
        if (a.datatype() == io.edgefleet.protocols.oip.DataType.BYTES) {
            return x.equals(y);
        }
        for (int i = 0; i < x.elementCount(); i++) {
            double u = x.getDouble(i);
            double v = y.getDouble(i);
            boolean ok = a.datatype().isFloatingPoint() ? Math.abs(v - u) <= abs + rel * Math.abs(u) : u == v;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static int argmax(TensorData d, int from, int n) {
        int best = 0;
        double max = d.getDouble(from);
        for (int i = 1; i < n; i++) {
            double v = d.getDouble(from + i);
            if (v > max) {
                max = v;
                best = i;
            }
        }
        return best;
    }

    static boolean hasNonFinite(List<InferTensor> outputs) {
        for (InferTensor t : outputs) {
            if (t.datatype().isFloatingPoint()) {
                TensorData d = t.data();
                for (int i = 0; i < d.elementCount(); i++) {
                    if (!Double.isFinite(d.getDouble(i))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
