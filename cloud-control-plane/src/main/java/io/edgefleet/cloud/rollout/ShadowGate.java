package io.edgefleet.cloud.rollout;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The gates of a shadow wave (docs/shadow.md): a pure function of the wave's shadow readings, the install failures and
 * the {@link RolloutSpec.ShadowGates} in force, returning a {@link Gates.Decision}. No I/O, no clock: tested with
 * synthetic readings. Kept apart from {@link Gates}, which judges normal waves on the answers of updated devices.
 *
 * <p>Rules, in order:
 * <ol>
 * <li><b>install failures</b> (shadow loads that failed or timed out) above {@code gates.maxInstallFailures}: fail.
 * <li><b>non-finite</b> candidate answers above {@code maxNonFinite}: fail at once (arithmetic, no noise to wait out).
 * <li>fewer than {@code minSamples} samples or {@code minDevices} reporting devices: wait for telemetry.
 * <li><b>agreement</b> (paired: the candidate and the active version on the same input): with {@code n} samples and
 *     agreement {@code p}, the Wilson score interval's upper bound at {@code z = }{@value #Z} (one-sided 0.1 %) below
 *     {@code minAgreement} fails; {@code p >= minAgreement} passes; in between, the wave waits for more samples (a
 *     candidate close to the line is neither stopped nor let through on noise).
 * <li><b>latency</b>: the sample-weighted median of the devices' per-window median paired ratios above
 *     {@code maxLatencyRatio} and the candidate slower than the active version by more than
 *     {@code minLatencyIncreaseMs} (the ratio times the active version's median time): fail.
 * </ol>
 */
final class ShadowGate {
    /** One-sided 0.1 % normal quantile: a candidate that truly meets minAgreement is stopped at most about once in 1,000 looks. */
    static final double Z = 3.09;

    private ShadowGate() {
    }

    static Gates.Decision evaluate(RolloutSpec.ShadowGates g, ShadowReadings.Totals t, long installFailures, Optional<String> firstInstallError,
            int maxInstallFailures) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("mode", "shadow");
        d.put("installFailures", installFailures);
        d.put("shadowSamples", t.samples());
        d.put("shadowDevices", t.devices());
        d.put("shadowDropped", t.dropped());
        d.put("shadowNonFinite", t.nonFinite());
        double upper = upperBound(t.agreements(), t.samples());
        if (t.samples() > 0) {
            d.put("shadowAgreement", t.agreement());
            d.put("shadowAgreementUpper", upper);
        }
        if (!Double.isNaN(t.latencyRatio())) {
            d.put("shadowLatencyRatio", t.latencyRatio());
        }
        if (!Double.isNaN(t.activeMillis())) {
            d.put("shadowActiveMs", t.activeMillis());
        }
        if (!Double.isNaN(t.confidenceDiff())) {
            d.put("shadowConfidenceDiff", t.confidenceDiff());
        }
        List<String> failures = new ArrayList<>();
        if (installFailures > maxInstallFailures) {
            failures.add(installFailures + " shadow load(s) failed or timed out (max " + maxInstallFailures + ")"
                    + firstInstallError.map(e -> ", first: " + e).orElse(""));
        }
        int maxNonFinite = g.maxNonFinite().orElse(0);
        if (t.nonFinite() > maxNonFinite) {
            failures.add(t.nonFinite() + " shadow answer(s) of the candidate held NaN or infinity (max " + maxNonFinite + ")");
        }
        if (!failures.isEmpty()) {
            return decision(Gates.Verdict.FAIL, failures, List.of(), d);
        }
        int minSamples = g.minSamples().orElse(200);
        int minDevices = g.minDevices().orElse(1);
        List<Waiting> waiting = new ArrayList<>();
        if (t.samples() < minSamples) {
            waiting.add(new Waiting("telemetry", Optional.of("shadowGates.minSamples"), t.samples(), minSamples, Optional.empty(),
                    t.samples() + " of " + minSamples + " shadow samples"));
        }
        if (t.devices() < minDevices) {
            waiting.add(new Waiting("telemetry", Optional.of("shadowGates.minDevices"), t.devices(), minDevices, Optional.empty(),
                    t.devices() + " of " + minDevices + " devices reported shadow samples"));
        }
        if (!waiting.isEmpty()) {
            return decision(Gates.Verdict.WAIT, List.of(), waiting, d);
        }
        double minAgreement = g.minAgreement().orElse(0.95);
        if (upper < minAgreement) {
            failures.add(String.format(Locale.ROOT, "the candidate agreed with the active version on %.1f%% of %d shadow samples (at most %.1f%% at"
                    + " 99.9%% confidence), below the minimum of %.1f%%", 100 * t.agreement(), t.samples(), 100 * upper, 100 * minAgreement));
        }
        double maxRatio = g.maxLatencyRatio().orElse(2.0);
        double floor = g.minLatencyIncreaseMs().orElse(1.0);
        if (!Double.isNaN(t.latencyRatio()) && t.latencyRatio() > maxRatio) {
            double increase = Double.isNaN(t.activeMillis()) ? Double.POSITIVE_INFINITY : (t.latencyRatio() - 1) * t.activeMillis();
            if (increase > floor) {
                failures.add(String.format(Locale.ROOT, "the candidate took %.2f times the active version's model time (median of paired runs on"
                        + " the same inputs, about %.2f ms more), above the maximum of %.2f", t.latencyRatio(), increase, maxRatio));
            }
        }
        if (!failures.isEmpty()) {
            return decision(Gates.Verdict.FAIL, failures, List.of(), d);
        }
        if (t.agreement() < minAgreement) {
            return decision(Gates.Verdict.WAIT, List.of(), List.of(new Waiting("confirmation", Optional.of("shadowGates.minAgreement"),
                    t.agreements(), (long) Math.ceil(minAgreement * t.samples()), Optional.empty(), String.format(Locale.ROOT,
                            "agreement %.1f%% over %d samples is below %.1f%% but not confidently: more samples decide",
                            100 * t.agreement(), t.samples(), 100 * minAgreement))), d);
        }
        return decision(Gates.Verdict.PASS, List.of(), List.of(), d);
    }

    private static Gates.Decision decision(Gates.Verdict v, List<String> failures, List<Waiting> waiting, Map<String, Object> d) {
        if (!failures.isEmpty()) {
            d.put("failures", failures);
        }
        return new Gates.Decision(v, List.copyOf(failures), List.copyOf(waiting), d, Gates.Streaks.NONE);
    }

    /** Lower bound of the Wilson score interval of {@code k} successes in {@code n} at {@link #Z}; 0 for n = 0. */
    static double lowerBound(long k, long n) {
        return n == 0 ? 0 : Math.max(0, wilson(k, n, -1));
    }

    /** Upper bound of the Wilson score interval of {@code k} successes in {@code n} at {@link #Z}; 1 for n = 0. */
    static double upperBound(long k, long n) {
        return n == 0 ? 1 : Math.min(1, wilson(k, n, +1));
    }

    /** The Wilson score interval's bound on the side {@code sign} (−1 lower, +1 upper), n > 0. */
    private static double wilson(long k, long n, int sign) {
        double p = (double) k / n;
        double z2 = Z * Z;
        double centre = p + z2 / (2.0 * n);
        double half = Z * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return (centre + sign * half) / (1 + z2 / n);
    }
}
