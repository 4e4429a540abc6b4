package io.edgefleet.agent.serving;

import io.edgefleet.agent.slots.Lease;
import io.edgefleet.agent.telemetry.Observation;
import io.edgefleet.engines.Confidence;
import io.edgefleet.protocols.drift.FeatureRows;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;

/**
 * Turns a request and its answer into an {@link Observation}. Confidence is the max probability
 * of the first output when it looks like classifier scores (float or quantized, last dimension
 * 2 to 1,000); non-finite values are looked for in every float output; input statistics use the
 * first 4,096 elements of each numeric input; drift rows are {@link FeatureRows#of} of each numeric input (bounded, see there).
 */
final class Observations {
    private static final int SAMPLE = 4096;
    /** Below this max probability an answer counts as low-confidence (the escalation policy will make it per model). */
    static final double LOW_CONFIDENCE = 0.5;

    private Observations() {
    }

    /** The full confidence of a classifier-shaped first output, or null when it is not one (or holds NaN). */
    static io.edgefleet.engines.Confidence confidence(Lease lease, List<InferTensor> outputs) {
        if (outputs.isEmpty()) {
            return null;
        }
        InferTensor first = outputs.get(0);
        long[] shape = first.shape();
        long classes = shape.length == 0 ? 1 : shape[shape.length - 1];
        TensorSpec spec = lease.model().signature().outputs().get(0);
        if (classes < 2 || classes > 1000 || !(first.datatype().isFloatingPoint() || spec.quantization().isPresent())) {
            return null;
        }
        for (int i = 0; i < first.data().elementCount(); i++) {
            if (!Double.isFinite(first.data().getDouble(i))) {
                return null;
            }
        }
        return Confidence.of(first.data(), spec.quantization());
    }

    /**
     * The observation of a served request. {@code confidence} is what {@link #confidence} gave for
     * these outputs (computed once per request, shared with the escalation policy): a softmax over a
     * classifier's scores is the costliest part of an observation.
     */
    static Observation ok(String model, Lease lease, List<InferTensor> inputs, List<InferTensor> outputs, double millis,
            io.edgefleet.engines.Confidence classifier) {
        boolean nonFinite = false;
        for (InferTensor t : outputs) {
            if (t.datatype().isFloatingPoint()) {
                TensorData d = t.data();
                for (int i = 0; i < d.elementCount() && !nonFinite; i++) {
                    nonFinite = !Double.isFinite(d.getDouble(i));
                }
            }
        }
        OptionalDouble confidence = nonFinite || classifier == null ? OptionalDouble.empty()
                : OptionalDouble.of(classifier.maxProbability());
        Map<String, double[]> in = new LinkedHashMap<>();
        Map<String, double[][]> rows = new LinkedHashMap<>();
        for (InferTensor t : inputs) {
            if (t.datatype() != DataType.BYTES) {
                rows.put(t.name(), FeatureRows.of(t.data()));
                int n = Math.min(SAMPLE, t.data().elementCount());
                double[] v = new double[n];
                for (int i = 0; i < n; i++) {
                    v[i] = t.data().getDouble(i);
                }
                in.put(t.name(), v);
            }
        }
        boolean low = confidence.isPresent() && confidence.getAsDouble() < LOW_CONFIDENCE;
        return new Observation(model, lease.version(), millis, false, confidence, low, nonFinite, false, in, false, 0,
                java.util.Optional.empty(), rows);
    }

    static Observation failed(String model, String version, double millis) {
        return new Observation(model, version, millis, true, OptionalDouble.empty(), false, false, false, Map.of());
    }
}
