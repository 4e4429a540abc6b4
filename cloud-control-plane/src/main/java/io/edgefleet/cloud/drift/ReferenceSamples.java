package io.edgefleet.cloud.drift;

import io.edgefleet.protocols.drift.DriftAccumulator;
import io.edgefleet.protocols.drift.DriftStats;
import io.edgefleet.protocols.drift.FeatureRows;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * An operator's reference sample set, checked against the model version's input signature and turned into drift
 * statistics with the agent's own extraction ({@link FeatureRows}), so the reference describes the same features the
 * agents measure.
 *
 * <p>The set is an Open Inference Protocol request body whose inputs hold the samples stacked on axis 0: for an input of
 * shape {@code [1, 8]} (or {@code [-1, 8]}), {@code [N, 8]} holds N samples; for {@code [8]}, {@code [N, 8]}; for
 * {@code [1, 3, 32, 32]}, {@code [N, 3, 32, 32]}. Every numeric input of the signature must be there; BYTES inputs are
 * left out. Pure; thread-safe.
 */
public final class ReferenceSamples {
    private ReferenceSamples() {
    }

    /**
     * @throws IllegalArgumentException naming the input and the rule: an unknown or missing input, a shape that does not
     *     fit, non-finite values, fewer than {@code minSamples} samples (an empty set included)
     */
    public static DriftStats read(String model, InferRequest request, List<TensorSpec> signature, long minSamples) {
        DriftAccumulator acc = new DriftAccumulator();
        Set<String> given = new HashSet<>();
        for (InferTensor t : request.inputs()) {
            TensorSpec spec = signature.stream().filter(s -> s.name().equals(t.name())).findFirst().orElseThrow(() -> new IllegalArgumentException(
                    "model '" + model + "' has no input '" + t.name() + "' (inputs: " + signature.stream().map(TensorSpec::name).toList() + ")"));
            if (spec.datatype() == DataType.BYTES) {
                continue;
            }
            if (t.datatype() == DataType.BYTES) {
                throw new IllegalArgumentException("model '" + model + "' input '" + t.name() + "': numeric samples expected, got BYTES");
            }
            long[] shape = t.data().shape();
            int specRank = spec.shape().size();
            if (specRank == 0) {
                throw new IllegalArgumentException("model '" + model + "' input '" + t.name() + "' is a scalar: reference samples need a tensor input");
            }
            int expectedRank = specRank == 1 ? 2 : specRank;
            boolean fits = shape.length == expectedRank;
            for (int i = 1; fits && i < shape.length; i++) {
                long want = spec.shape().get(specRank == 1 ? i - 1 : i);
                fits = want < 0 || want == shape[i];
            }
            if (!fits) {
                throw new IllegalArgumentException("model '" + model + "' input '" + t.name() + "': expected samples stacked on axis 0 of shape "
                        + (specRank == 1 ? "[N, " + spec.shape().get(0) + "]" : "[N" + spec.shape().subList(1, specRank).stream().map(d -> ", " + d)
                                .reduce("", String::concat) + "]") + ", got " + Arrays.toString(shape));
            }
            long n = shape[0];
            if (n < minSamples) {
                throw new IllegalArgumentException("model '" + model + "' input '" + t.name() + "': " + n + " samples, at least " + minSamples
                        + " are needed (drift.min-samples) so that the reference's own noise stays small");
            }
            int bad = 0;
            for (int i = 0; i < t.data().elementCount(); i++) {
                if (!Double.isFinite(t.data().getDouble(i))) {
                    bad++;
                }
            }
            if (bad > 0) {
                throw new IllegalArgumentException("model '" + model + "' input '" + t.name() + "': " + bad + " non-finite values (NaN or infinity)");
            }
            if (!given.add(t.name())) {
                throw new IllegalArgumentException("model '" + model + "' input '" + t.name() + "' given twice");
            }
            acc.addRows(t.name(), FeatureRows.of(t.data(), (int) Math.min(Integer.MAX_VALUE, n)));
        }
        for (TensorSpec s : signature) {
            if (s.datatype() != DataType.BYTES && !given.contains(s.name())) {
                throw new IllegalArgumentException("model '" + model + "': samples for input '" + s.name() + "' are missing");
            }
        }
        return acc.stats().orElseThrow(() -> new IllegalArgumentException("model '" + model + "': the sample set is empty"));
    }
}
