package io.edgefleet.agent.slots;

import io.edgefleet.engines.EngineException;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.TensorBuffers;
import io.edgefleet.protocols.oip.InferTensor;
import java.util.List;
import java.util.Optional;

/**
 * Checks a candidate before it may become active: it runs on zero inputs of its declared
 * signature, gives the declared outputs, nothing non-finite, and its median latency is within
 * {@code maxLatencyFactor} of the active version's. A model whose dynamic dimensions make zeros an
 * invalid input (its warm-up failed) is judged on loading alone, and the reason says so.
 */
final class SelfTest {
    private static final int RUNS = 5;

    private SelfTest() {
    }

    /** @return empty when the candidate passes, else why it fails */
    static Optional<String> check(LoadedModel candidate, Optional<LoadedModel> active, double maxLatencyFactor) {
        if (candidate.stats().warmUpError().isPresent()) {
            return Optional.empty();
        }
        List<InferTensor> zeros = TensorBuffers.zeroInputs(candidate.signature().inputs());
        List<InferTensor> out;
        try {
            out = candidate.infer(zeros);
        } catch (EngineException e) {
            return Optional.of("self-test run failed: " + e.getMessage());
        }
        if (out.size() != candidate.signature().outputs().size()) {
            return Optional.of("self-test: " + out.size() + " outputs, the signature declares " + candidate.signature().outputs().size());
        }
        for (InferTensor t : out) {
            if (t.datatype().isFloatingPoint()) {
                for (float f : t.data().toFloatArray()) {
                    if (!Float.isFinite(f)) {
                        return Optional.of("self-test: output '" + t.name() + "' holds " + f + " on zero inputs");
                    }
                }
            }
        }
        if (active.isPresent() && active.get().signature().inputs().equals(candidate.signature().inputs())) {
            double c = median(candidate, zeros);
            double a = median(active.get(), zeros);
            if (a > 0 && c > maxLatencyFactor * a && c - a > 1.0) {
                return Optional.of(String.format(java.util.Locale.ROOT,
                        "self-test: median latency %.2f ms is over %.1f times the active version's %.2f ms", c, maxLatencyFactor, a));
            }
        }
        return Optional.empty();
    }

    private static double median(LoadedModel m, List<InferTensor> in) {
        double[] t = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            long t0 = System.nanoTime();
            m.infer(in);
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        java.util.Arrays.sort(t);
        return t[RUNS / 2];
    }
}
