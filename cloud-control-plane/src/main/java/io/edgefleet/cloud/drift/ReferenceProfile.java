package io.edgefleet.cloud.drift;

import io.edgefleet.protocols.drift.DriftStats;
import io.edgefleet.protocols.drift.FeatureSketch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a model version's inputs and confidence looked like when it was known good: per input tensor, per feature (in
 * {@link io.edgefleet.protocols.drift.FeatureRows}' order) the quantile bins; and the confidence's bins.
 *
 * @param source {@code samples} (the operator's sample set) or {@code traffic} (the first windows of live traffic)
 * @param samples values per feature it was built from (the smallest feature's count)
 * @param inputs per tensor name, per feature, the bins
 * @param confidence the confidence's bins, once known
 */
public record ReferenceProfile(String source, long samples, Map<String, List<Bins>> inputs, Optional<Bins> confidence) {
    public ReferenceProfile {
        inputs = Map.copyOf(inputs);
        confidence = confidence == null ? Optional.empty() : confidence;
    }

    /** The profile of merged statistics, {@code bins} bins per feature. */
    public static ReferenceProfile of(String source, DriftStats stats, int bins) {
        Map<String, List<Bins>> in = new TreeMap<>();
        long samples = Long.MAX_VALUE;
        for (Map.Entry<String, List<FeatureSketch>> e : stats.inputs().entrySet()) {
            List<Bins> fs = new ArrayList<>();
            for (FeatureSketch s : e.getValue()) {
                fs.add(bins(s, bins));
                samples = Math.min(samples, s.count());
            }
            in.put(e.getKey(), fs);
        }
        return new ReferenceProfile(source, samples == Long.MAX_VALUE ? 0 : samples, in, stats.confidence().map(c -> bins(c, bins)));
    }

    static Bins bins(FeatureSketch s, int bins) {
        return Bins.of(s.decode(), bins, s.mean(), Math.sqrt(s.variance()));
    }

    public ReferenceProfile withConfidence(Bins c) {
        return new ReferenceProfile(source, samples, inputs, Optional.of(c));
    }
}
