package io.edgefleet.protocols.drift;

import io.edgefleet.protocols.ProtocolException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A window's drift statistics for one model version (the {@code drift} field of a telemetry record; absent in older
 * agents' records, ignored by older clouds).
 *
 * @param inputs per input tensor name, one sketch per feature in the order {@link FeatureRows} picks them (at most
 *     {@link FeatureRows#MAX_FEATURES} per tensor, at most {@link #MAX_TENSORS} tensors)
 * @param confidence the distribution of the answers' confidence (max probability of a classifier's output), when the
 *     model reports one
 */
public record DriftStats(Map<String, List<FeatureSketch>> inputs, Optional<FeatureSketch> confidence) {
    /** The most input tensors described per record. */
    public static final int MAX_TENSORS = 8;

    public DriftStats {
        inputs = inputs == null ? Map.of() : inputs;
        confidence = confidence == null ? Optional.empty() : confidence;
        if (inputs.size() > MAX_TENSORS) {
            throw new ProtocolException("drift.inputs", inputs.size() + " tensors, over the limit of " + MAX_TENSORS);
        }
        for (Map.Entry<String, List<FeatureSketch>> e : inputs.entrySet()) {
            if (e.getKey() == null || e.getKey().length() > 256) {
                throw new ProtocolException("drift.inputs", "tensor names are 1 to 256 characters");
            }
            if (e.getValue() == null || e.getValue().isEmpty() || e.getValue().size() > FeatureRows.MAX_FEATURES) {
                throw new ProtocolException("drift.inputs." + e.getKey(), "1 to " + FeatureRows.MAX_FEATURES + " feature sketches");
            }
            for (FeatureSketch s : e.getValue()) {
                if (s == null) {
                    throw new ProtocolException("drift.inputs." + e.getKey(), "null feature sketch");
                }
            }
        }
        inputs = Map.copyOf(inputs);
    }
}
