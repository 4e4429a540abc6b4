package io.edgefleet.protocols.drift;

import com.tdunning.math.stats.MergingDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Builds a {@link DriftStats}: from rows of feature values (the agent, per request; the cloud, from an operator's
 * reference samples) or by merging other windows' statistics (the cloud, across devices and windows). Merging is exact
 * for count, mean and m2 (Chan et al.) and the t-digest merge for quantiles, so the order of merges does not matter
 * beyond the digest's own approximation.
 *
 * <p>Memory is bounded: at most {@link DriftStats#MAX_TENSORS} tensors of {@link FeatureRows#MAX_FEATURES} features,
 * each a digest of compression {@link FeatureSketch#COMPRESSION} (a few kilobytes). Non-finite values are skipped. Rows
 * whose width differs from the tensor's first row (a model whose input shape changed within a window) are skipped and
 * counted in {@link #skippedRows()}.
 *
 * <p>Not thread-safe: the owner locks.
 */
public final class DriftAccumulator {
    private final Map<String, List<Feature>> inputs = new TreeMap<>();
    private Feature confidence;
    private long skippedRows;

    /** One feature's running moments and digest. */
    static final class Feature {
        long n;
        double mean;
        double m2;
        final MergingDigest digest = new MergingDigest(FeatureSketch.COMPRESSION);

        void add(double x) {
            n++;
            double d = x - mean;
            mean += d / n;
            m2 += d * (x - mean);
            digest.add(x);
        }

        void merge(FeatureSketch s, MergingDigest other) {
            if (s.count() == 0) {
                return;
            }
            long total = n + s.count();
            double delta = s.mean() - mean;
            m2 += s.m2() + delta * delta * ((double) n * s.count() / total);
            mean += delta * s.count() / total;
            n = total;
            digest.add(other);
        }

        FeatureSketch sketch() {
            return FeatureSketch.of(n, mean, m2, digest);
        }
    }

    /** Adds one request's rows of {@code tensor} ({@link FeatureRows#of}). */
    public void addRows(String tensor, double[][] rows) {
        for (double[] row : rows) {
            List<Feature> fs = features(tensor, row.length);
            if (fs == null) {
                skippedRows++;
                continue;
            }
            for (int i = 0; i < row.length; i++) {
                if (Double.isFinite(row[i])) {
                    fs.get(i).add(row[i]);
                }
            }
        }
    }

    /** Adds one answer's confidence; non-finite values are skipped. */
    public void addConfidence(double c) {
        if (Double.isFinite(c)) {
            if (confidence == null) {
                confidence = new Feature();
            }
            confidence.add(c);
        }
    }

    /**
     * Merges another window's statistics into this one.
     *
     * @throws io.edgefleet.protocols.ProtocolException when a digest is malformed (nothing of that feature is merged)
     */
    public void merge(DriftStats other) {
        // every digest decoded and checked before anything is merged: a record is merged whole or not at all
        java.util.Map<String, List<MergingDigest>> decoded = new java.util.LinkedHashMap<>();
        other.inputs().forEach((tensor, sketches) -> decoded.put(tensor, sketches.stream().map(FeatureSketch::decode).toList()));
        MergingDigest conf = other.confidence().map(FeatureSketch::decode).orElse(null);
        other.inputs().forEach((tensor, sketches) -> {
            List<Feature> fs = features(tensor, sketches.size());
            if (fs == null) {
                skippedRows++;
                return;
            }
            List<MergingDigest> ds = decoded.get(tensor);
            for (int i = 0; i < sketches.size(); i++) {
                fs.get(i).merge(sketches.get(i), ds.get(i));
            }
        });
        other.confidence().ifPresent(s -> {
            if (confidence == null) {
                confidence = new Feature();
            }
            confidence.merge(s, conf);
        });
    }

    private List<Feature> features(String tensor, int width) {
        List<Feature> fs = inputs.get(tensor);
        if (fs == null) {
            if (inputs.size() >= DriftStats.MAX_TENSORS || width == 0 || width > FeatureRows.MAX_FEATURES) {
                return null;
            }
            fs = new ArrayList<>(width);
            for (int i = 0; i < width; i++) {
                fs.add(new Feature());
            }
            inputs.put(tensor, fs);
        }
        return fs.size() == width ? fs : null;
    }

    /** Whether nothing was added. */
    public boolean isEmpty() {
        return inputs.isEmpty() && confidence == null;
    }

    /** Rows and sketches left out because their width did not match their tensor's. */
    public long skippedRows() {
        return skippedRows;
    }

    /** The statistics so far, or empty when nothing was added. */
    public Optional<DriftStats> stats() {
        if (isEmpty()) {
            return Optional.empty();
        }
        Map<String, List<FeatureSketch>> in = new TreeMap<>();
        inputs.forEach((tensor, fs) -> in.put(tensor, fs.stream().map(Feature::sketch).toList()));
        return Optional.of(new DriftStats(in, Optional.ofNullable(confidence).map(Feature::sketch)));
    }
}
