package io.edgefleet.cloud.ab;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.distribution.TDistribution;

/**
 * The comparison of an experiment's two arms (docs/ab.md), from their {@link ArmTotals}; pure, no I/O. Every interval is
 * two-sided at {@code level} (0.95 by default):
 *
 * <ul>
 *   <li>error rate per arm: the Wilson score interval (Wilson 1927), sound near 0 and for small counts where the normal
 *       approximation is not; the difference B − A: Newcombe's hybrid score interval (Newcombe 1998, method 10) built
 *       from the two Wilson intervals;</li>
 *   <li>mean latency (ms) and mean confidence (top-class probability) per arm: mean ± t(n−1)·s/√n; the difference
 *       B − A: Welch's interval, t with the Welch–Satterthwaite degrees of freedom (no equal variances assumed);</li>
 *   <li>accuracy per arm (correct of the labelled answers that came back through the feedback call): Wilson; the
 *       difference B − A: Newcombe, as for the error rate. Judged apart ({@code accuracyJudged}) once each arm has
 *       {@code minLabelled} labelled answers: labels come back for only some requests.</li>
 * </ul>
 *
 * A difference whose interval excludes 0 is {@code significant}; the arms are only {@code judged} once each has at least
 * {@code minSamples} requests (for means: answered requests with the value), so a handful of early requests cannot
 * raise a false difference. Values that do not exist yet (an arm without requests) are left out of {@link #toJson}.
 */
public final class Comparison {
    /** An interval's point estimate and bounds. */
    public record Estimate(double value, double low, double high) {
        public boolean excludesZero() {
            return low > 0 || high < 0;
        }
    }

    private Comparison() {
    }

    /** The two-sided Wilson score interval of {@code k} successes in {@code n} trials at normal quantile {@code z}; NaN for n = 0. */
    public static Estimate wilson(long k, long n, double z) {
        if (n == 0) {
            return new Estimate(Double.NaN, Double.NaN, Double.NaN);
        }
        double p = (double) k / n;
        double z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z / (1 + z2 / n) * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        // At k = 0 (k = n) the bound is exactly 0 (1); computed, it is a rounding residue such as 1.7e-18.
        return new Estimate(p, k == 0 ? 0 : Math.max(0, centre - half), k == n ? 1 : Math.min(1, centre + half));
    }

    /** Newcombe's hybrid score interval for pB − pA from the arms' Wilson intervals. */
    public static Estimate newcombe(Estimate a, Estimate b) {
        double d = b.value() - a.value();
        double low = d - Math.sqrt(sq(b.value() - b.low()) + sq(a.high() - a.value()));
        double high = d + Math.sqrt(sq(b.high() - b.value()) + sq(a.value() - a.low()));
        return new Estimate(d, low, high);
    }

    /** Mean, sample variance and count from sums; NaN mean for n = 0, variance 0 for n = 1. */
    record Moments(long n, double mean, double variance) {
        static Moments of(long n, double sum, double sumSq) {
            if (n == 0) {
                return new Moments(0, Double.NaN, Double.NaN);
            }
            double mean = sum / n;
            double var = n < 2 ? 0 : Math.max(0, (sumSq - n * mean * mean) / (n - 1)); // rounding can make it a hair negative
            return new Moments(n, mean, var);
        }
    }

    /** mean ± t(n−1)·s/√n; the bounds are NaN below two values. */
    static Estimate meanInterval(Moments m, double level) {
        if (m.n() < 2) {
            return new Estimate(m.mean(), Double.NaN, Double.NaN);
        }
        double half = t(m.n() - 1, level) * Math.sqrt(m.variance() / m.n());
        return new Estimate(m.mean(), m.mean() - half, m.mean() + half);
    }

    /** Welch's interval for mean(B) − mean(A); NaN bounds below two values in either arm. */
    public static Estimate welch(Moments a, Moments b, double level) {
        double d = b.mean() - a.mean();
        if (a.n() < 2 || b.n() < 2) {
            return new Estimate(d, Double.NaN, Double.NaN);
        }
        double va = a.variance() / a.n();
        double vb = b.variance() / b.n();
        double se = Math.sqrt(va + vb);
        if (se == 0) {
            return new Estimate(d, d, d);
        }
        double df = sq(va + vb) / (sq(va) / (a.n() - 1) + sq(vb) / (b.n() - 1));
        double half = t(df, level) * se;
        return new Estimate(d, d - half, d + half);
    }

    private static double t(double df, double level) {
        return new TDistribution(null, df).inverseCumulativeProbability(1 - (1 - level) / 2);
    }

    private static double sq(double x) {
        return x * x;
    }

    /**
     * The comparison as the API shows it: {@code level}, {@code minSamples}, {@code judged}, per arm ({@code a}, {@code b})
     * requests, errors, devices, {@code errorRate}, {@code latencyMs}, {@code confidence} (each {@code value}, {@code low},
     * {@code high}), and {@code difference} (B − A) of the same three, each with {@code significant}.
     */
    public static Map<String, Object> toJson(ArmTotals a, ArmTotals b, double level, long minSamples) {
        return toJson(a, b, level, minSamples, DEFAULT_MIN_LABELLED);
    }

    /** Labelled answers per arm before the accuracy comparison counts as judged (docs/ab.md "Feedback and accuracy"). */
    public static final long DEFAULT_MIN_LABELLED = 100;

    /**
     * {@link #toJson(ArmTotals, ArmTotals, double, long)} with the accuracy: per arm {@code labelled}, {@code correct} and
     * {@code accuracy} (Wilson; left out with nothing labelled), {@code difference.accuracy} (Newcombe, with
     * {@code significant}), and {@code minLabelled} and {@code accuracyJudged} (each arm has {@code minLabelled} labels).
     */
    public static Map<String, Object> toJson(ArmTotals a, ArmTotals b, double level, long minSamples, long minLabelled) {
        double z = new NormalDistribution(null, 0, 1).inverseCumulativeProbability(1 - (1 - level) / 2);
        Estimate ea = wilson(a.errors(), a.requests(), z);
        Estimate eb = wilson(b.errors(), b.requests(), z);
        Moments la = Moments.of(a.answered(), a.latencySum(), a.latencySumSq());
        Moments lb = Moments.of(b.answered(), b.latencySum(), b.latencySumSq());
        Moments ca = Moments.of(a.confidenceN(), a.confidenceSum(), a.confidenceSumSq());
        Moments cb = Moments.of(b.confidenceN(), b.confidenceSum(), b.confidenceSumSq());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("level", level);
        out.put("minSamples", minSamples);
        out.put("judged", a.requests() >= minSamples && b.requests() >= minSamples);
        out.put("minLabelled", minLabelled);
        out.put("accuracyJudged", a.labelled() >= minLabelled && b.labelled() >= minLabelled);
        Estimate accA = wilson(a.correct(), a.labelled(), z);
        Estimate accB = wilson(b.correct(), b.labelled(), z);
        out.put("a", arm(a, ea, meanInterval(la, level), meanInterval(ca, level), accA));
        out.put("b", arm(b, eb, meanInterval(lb, level), meanInterval(cb, level), accB));
        Map<String, Object> diff = new LinkedHashMap<>();
        put(diff, "errorRate", a.requests() > 0 && b.requests() > 0 ? newcombe(ea, eb) : null, true);
        put(diff, "latencyMs", welch(la, lb, level), true);
        put(diff, "confidence", welch(ca, cb, level), true);
        put(diff, "accuracy", a.labelled() > 0 && b.labelled() > 0 ? newcombe(accA, accB) : null, true);
        out.put("difference", diff);
        return out;
    }

    private static Map<String, Object> arm(ArmTotals t, Estimate err, Estimate latency, Estimate confidence, Estimate accuracy) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("requests", t.requests());
        m.put("errors", t.errors());
        m.put("devices", t.devices());
        put(m, "errorRate", err, false);
        put(m, "latencyMs", latency, false);
        put(m, "confidence", confidence, false);
        m.put("labelled", t.labelled());
        m.put("correct", t.correct());
        put(m, "accuracy", accuracy, false);
        return m;
    }

    private static void put(Map<String, Object> m, String key, Estimate e, boolean difference) {
        if (e == null || !Double.isFinite(e.value())) {
            return;
        }
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("value", e.value());
        if (Double.isFinite(e.low()) && Double.isFinite(e.high())) {
            j.put("low", e.low());
            j.put("high", e.high());
            if (difference) {
                j.put("significant", e.excludesZero());
            }
        }
        m.put(key, j);
    }
}
