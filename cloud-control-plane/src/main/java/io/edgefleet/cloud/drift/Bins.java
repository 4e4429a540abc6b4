package io.edgefleet.cloud.drift;

import com.tdunning.math.stats.TDigest;
import java.util.Arrays;

/**
 * One reference feature's quantile bins: bin {@code i} holds the values in {@code (edges[i-1], edges[i]]}, with
 * {@code edges[-1] = -inf} and {@code edges[n] = +inf}, so there are {@code edges.length + 1} bins.
 *
 * @param edges the reference's quantiles {@code 1/B .. (B-1)/B}, ascending, ties removed (a feature with few distinct
 *     values gets fewer bins)
 * @param expected the reference's share of values in each bin (sums to 1)
 * @param mean the reference's mean
 * @param std the reference's standard deviation
 */
public record Bins(double[] edges, double[] expected, double mean, double std) {
    /** Shares below this are taken as this in the PSI's logarithm: an empty bin costs at most {@code |q - p| × ln(p / EPSILON)}. */
    public static final double EPSILON = 1e-4;

    public Bins {
        if (expected.length != edges.length + 1) {
            throw new IllegalArgumentException("expected " + (edges.length + 1) + " shares, got " + expected.length);
        }
    }

    /** The bins of a reference digest's {@code bins}-quantiles. */
    public static Bins of(TDigest reference, int bins, double mean, double std) {
        double[] edges = new double[bins - 1];
        int n = 0;
        for (int i = 1; i < bins; i++) {
            double q = reference.quantile((double) i / bins);
            if (n == 0 || q > edges[n - 1]) {
                edges[n++] = q;
            }
        }
        edges = Arrays.copyOf(edges, n);
        return new Bins(edges, shares(reference, edges), mean, std);
    }

    /** The share of {@code d}'s values in each bin of {@code edges}. */
    static double[] shares(TDigest d, double[] edges) {
        double[] out = new double[edges.length + 1];
        double below = 0;
        for (int i = 0; i < edges.length; i++) {
            double c = Math.min(1, Math.max(below, d.cdf(edges[i])));
            out[i] = c - below;
            below = c;
        }
        out[edges.length] = 1 - below;
        return out;
    }

    /**
     * The population stability index of {@code window} against these bins: {@code sum (q_i - p_i) ln(q_i / p_i)} over the
     * bins, with {@code p} the reference's shares, {@code q} the window's, both floored at {@link #EPSILON}. 0 for identical
     * distributions; by convention below 0.1 is stable, 0.1–0.25 a moderate shift, above 0.25 a major one.
     */
    public double psi(TDigest window) {
        double[] q = shares(window, edges);
        double psi = 0;
        for (int i = 0; i < q.length; i++) {
            double p = Math.max(EPSILON, expected[i]);
            double w = Math.max(EPSILON, q[i]);
            psi += (w - p) * Math.log(w / p);
        }
        return psi;
    }
}
