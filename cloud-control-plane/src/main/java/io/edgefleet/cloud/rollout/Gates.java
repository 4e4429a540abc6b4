package io.edgefleet.cloud.rollout;

import io.edgefleet.cloud.store.Aggregate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The rollout gates: a pure function of a wave's {@link Readings}, the gates in force and the
 * previous evaluation's {@link Streaks}, returning a {@link Decision} that says pass, wait (and
 * for what) or fail (and why). No I/O, no clock: tested with synthetic readings.
 *
 * <p>Rules (the reasoning is in docs/control-plane.md#rollout-gates):
 * <ul>
 * <li><b>Hard gates</b> fail on the first evaluation that breaks them: install failures, updated
 * devices gone stale or offline, non-finite answers. They count events, not noisy measurements.
 * <li><b>Noisy gates</b> (error rate, error-rate increase, p95 against the baseline, confidence
 * drop, escalated share) are judged only with {@code minSamples} requests on every side they
 * read; below that they neither pass nor fail. A violation must hold on
 * {@code sustainedEvaluations} consecutive evaluations that saw new telemetry before the gate
 * fails; while it builds up, the wave waits for the confirmation instead of passing.
 * <li><b>p95</b>: a violation needs both the ratio over {@code maxP95Ratio} and an absolute
 * increase over {@code minP95IncreaseMs}; a baseline p95 of 0 ms is judged by the floor alone,
 * never a bare ratio.
 * <li><b>Waiting for telemetry</b>: only when some updated device could report, a gate
 * needing telemetry is in force and {@code minDevices} is over 0: until {@code minDevices} (capped
 * at the updated devices) have reported and the wave has {@code minRequests} requests, or
 * {@code minSamples} when a noisy gate could be judged: noisy gates need evidence to acquit as
 * well as to accuse.
 * </ul>
 * To add a gate: one method returning a {@link Check}, called from {@link #evaluate}.
 */
final class Gates {
    private static final String NO_BASELINE = "no baseline";

    private Gates() {
    }

    /** The outcome of one evaluation. */
    enum Verdict { PASS, WAIT, FAIL }

    /**
     * One evaluation.
     *
     * @param failures the reasons of every failed gate (first is the rollout's reason); empty unless FAIL
     * @param waiting what the wave still waits for; empty unless WAIT
     * @param detail every value computed, for the rollout log and the status
     * @param streaks to pass to the next evaluation of the same wave
     */
    record Decision(Verdict verdict, List<String> failures, List<Waiting> waiting, Map<String, Object> detail, Streaks streaks) {
        String reason() {
            return failures.isEmpty() ? "" : failures.get(0);
        }
    }

    /**
     * Consecutive violating evaluations per noisy gate, and the request count that last counted as
     * new telemetry (an evaluation with no new requests neither extends nor breaks a streak).
     */
    record Streaks(long requests, Map<String, Integer> violations) {
        static final Streaks NONE = new Streaks(-1, Map.of());

        Streaks {
            violations = Map.copyOf(violations);
        }
    }

    /** A gate's verdict on the readings. */
    record Check(String gate, boolean noisy, Optional<String> violation, Optional<String> unjudged) {
        static Check ok(String gate, boolean noisy) {
            return new Check(gate, noisy, Optional.empty(), Optional.empty());
        }

        static Check of(String gate, boolean noisy, boolean violated, String format, Object... args) {
            return violated ? new Check(gate, noisy, Optional.of(String.format(Locale.ROOT, format, args)), Optional.empty()) : ok(gate, noisy);
        }

        static Check unjudged(String gate, String why) {
            return new Check(gate, true, Optional.empty(), Optional.of(why));
        }
    }

    static Decision evaluate(RolloutSpec.Gates g, Readings r, Streaks prior) {
        Map<String, Object> d = new LinkedHashMap<>();
        Aggregate w = r.wave();
        d.put("installFailures", r.installFailures());
        d.put("updatedDevices", r.updatedDevices());
        d.put("staleAfterUpdate", r.staleAfterUpdate());
        d.put("staleOthers", r.staleOthers());
        d.put("reportingDevices", w.devices());
        d.put("requests", w.count());
        d.put("errorRate", w.errorRate());
        d.put("p95Ms", w.p95Ms());
        w.meanConfidence().ifPresent(c -> d.put("meanConfidence", c));
        d.put("escalationShare", w.escalationRate());
        d.put("nonFiniteRate", w.nonFiniteRate());
        d.put("clientErrorRate", w.clientErrorRate());
        r.baseline().ifPresent(b -> {
            d.put("baselineVersion", r.baselineVersion().orElse(""));
            d.put("baselineDevices", b.devices());
            d.put("baselineRequests", b.count());
            d.put("baselineErrorRate", b.errorRate());
            d.put("baselineP95Ms", b.p95Ms());
            b.meanConfidence().ifPresent(c -> d.put("baselineMeanConfidence", c));
        });
        List<Check> checks = new ArrayList<>();
        installFailures(g, r).ifPresent(checks::add);
        stale(g, r).ifPresent(checks::add);
        nonFinite(g, r).ifPresent(checks::add);
        errorRate(g, r).ifPresent(checks::add);
        errorRateIncrease(g, r).ifPresent(checks::add);
        p95(g, r, d).ifPresent(checks::add);
        confidenceDrop(g, r, d).ifPresent(checks::add);
        escalationShare(g, r).ifPresent(checks::add);
        clientErrorRateIncrease(g, r, d).ifPresent(checks::add);
        if (g.maxMemoryGrowthRatio().isPresent()) {
            checks.add(MemoryGrowthGate.check(g.maxMemoryGrowthRatio().getAsDouble(), r.memory(), d));
        }

        long evidence = w.count() + r.baseline().map(Aggregate::count).orElse(0L);
        boolean fresh = evidence > prior.requests();
        int sustained = g.sustainedEvaluations().orElse(1);
        Map<String, Integer> streak = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        List<Waiting> waiting = new ArrayList<>();
        Map<String, String> unjudged = new LinkedHashMap<>();
        for (Check c : checks) {
            c.unjudged().ifPresent(u -> unjudged.put(c.gate(), u));
            if (c.violation().isEmpty()) {
                continue;
            }
            if (!c.noisy()) {
                failures.add(c.violation().get());
                continue;
            }
            int before = prior.violations().getOrDefault(c.gate(), 0);
            int n = fresh ? before + 1 : Math.max(before, 1);
            streak.put(c.gate(), n);
            if (n >= sustained) {
                failures.add(c.violation().get() + (n > 1 ? " on " + n + " consecutive evaluations" : ""));
            } else {
                waiting.add(new Waiting("confirmation", Optional.of(c.gate()), n, sustained, Optional.empty(),
                        c.violation().get() + " on " + n + " of " + sustained + " consecutive evaluations needed to fail"));
            }
        }
        // the drift gate (issue 20): hard, the drift monitor's alarm already holds the noise judgement
        if (g.driftGate()) {
            DriftGate.Result dr = DriftGate.check(r.drift(), d);
            dr.failure().ifPresent(failures::add);
            dr.waiting().ifPresent(waiting::add);
        }
        if (!unjudged.isEmpty()) {
            d.put("notJudged", unjudged);
        }
        if (!streak.isEmpty()) {
            d.put("violationStreaks", streak);
        }
        waiting.addAll(telemetryWaits(g, r, checks));
        d.put("failures", failures);
        Streaks next = new Streaks(fresh ? evidence : prior.requests(), streak);
        Verdict v = !failures.isEmpty() ? Verdict.FAIL : waiting.isEmpty() ? Verdict.PASS : Verdict.WAIT;
        d.put("verdict", v.name().toLowerCase(Locale.ROOT));
        return new Decision(v, failures, v == Verdict.WAIT ? waiting : List.of(), d, next);
    }

    /**
     * Evidence the wave still lacks before it may pass: {@code minDevices} reporting devices (capped
     * at the updated devices) and {@code minRequests} requests, raised to {@code minSamples} when a
     * noisy gate could be judged (a wave never passes on noisy gates it had too few requests to
     * judge). None when no gate needs telemetry, no updated device could report, or
     * {@code minDevices} is 0 (the spec asks for no telemetry evidence).
     */
    static List<Waiting> telemetryWaits(RolloutSpec.Gates g, Readings r, List<Check> checks) {
        boolean needsTelemetry = checks.stream().anyMatch(Check::noisy) || g.maxNonFiniteRate().isPresent();
        long needDevices = Math.min(g.minDevices().orElse(0), r.updatedDevices());
        if (!needsTelemetry || needDevices == 0) {
            return List.of();
        }
        List<Waiting> out = new ArrayList<>();
        if (r.wave().devices() < needDevices) {
            out.add(new Waiting("telemetry", Optional.of("minDevices"), r.wave().devices(), needDevices, Optional.empty(),
                    r.wave().devices() + " of " + needDevices + " updated device(s) have reported telemetry"));
        }
        boolean judgeable = checks.stream().anyMatch(c -> c.noisy() && !c.unjudged().map(u -> u.startsWith(NO_BASELINE)).orElse(false));
        long minRequests = g.minRequests().orElse(0);
        long minSamples = judgeable ? g.minSamples().orElse(0) : 0;
        long needRequests = Math.max(minRequests, minSamples);
        if (r.wave().count() < needRequests) {
            out.add(new Waiting("telemetry", Optional.of(minSamples > minRequests ? "minSamples" : "minRequests"), r.wave().count(), needRequests,
                    Optional.empty(), r.wave().count() + " of " + needRequests + " requests on the new version"
                    + (minSamples > minRequests ? " (minSamples, to judge the noisy gates)" : "")));
        }
        return out;
    }

    // ---- one method per gate ------------------------------------------------------------------

    static Optional<Check> installFailures(RolloutSpec.Gates g, Readings r) {
        return g.maxInstallFailures().map(max -> Check.of("maxInstallFailures", false, r.installFailures() > max, "install failures %d > %d%s",
                r.installFailures(), max, r.firstInstallError().map(e -> " (" + e + ")").orElse("")));
    }

    /**
     * How unlikely the updated devices' staleness is if they were as unreachable as the others:
     * below this (a one-sided binomial tail), the version stands out.
     */
    static final double STALE_STANDS_OUT_P = 0.1;

    /**
     * Updated devices gone stale or offline, judged against the rollout's other devices: when those
     * are as unreachable (a broker restart marks every device offline at once, a network partition
     * or a machine too busy to send heartbeats many), the version is not what stands out and the
     * gate does not count it. "Stands out" is a one-sided binomial test, not a bare comparison of
     * shares: with the others' share {@code p}, {@code P(X >= stale | n = updated, p)} must be
     * below {@link #STALE_STANDS_OUT_P}. (2 of 2 updated devices stale against 16 of 18 others is
     * 0.79, the fleet; 2 of 2 against 0 of 18 is 0, the version; a bare "larger share" rolled a
     * healthy v2 back on the first of these in the demo on a loaded machine.) Noisy: a violation
     * must hold on {@code sustainedEvaluations} evaluations with new evidence, so devices coming
     * back one by one after an outage cannot roll a good version back.
     */
    static Optional<Check> stale(RolloutSpec.Gates g, Readings r) {
        return g.maxStale().map(max -> {
            boolean standsOut = r.otherDevices() == 0 || r.updatedDevices() == 0
                    || upperTail(r.staleAfterUpdate(), r.updatedDevices(), (double) r.staleOthers() / r.otherDevices()) < STALE_STANDS_OUT_P;
            if (r.staleAfterUpdate() > max && !standsOut) {
                return Check.unjudged("maxStale", r.staleAfterUpdate() + " of " + r.updatedDevices() + " updated device(s) unreachable, as are "
                        + r.staleOthers() + " of the " + r.otherDevices() + " others: the fleet, not the version");
            }
            return Check.of("maxStale", true, r.staleAfterUpdate() > max && standsOut, "%d updated device(s) stale or offline > %d%s",
                    r.staleAfterUpdate(), max, r.otherDevices() == 0 ? "" : String.format(java.util.Locale.ROOT, " (others: %d of %d)",
                            r.staleOthers(), r.otherDevices()));
        });
    }

    /** {@code P(X >= k)} for {@code X ~ Binomial(n, p)}, summed exactly in log space (n is a wave's device count). */
    static double upperTail(long k, long n, double p) {
        if (k <= 0) {
            return 1.0;
        }
        if (p <= 0) {
            return 0.0;
        }
        if (p >= 1) {
            return 1.0;
        }
        double sum = 0;
        for (long i = k; i <= n; i++) {
            double logC = logFactorial(n) - logFactorial(i) - logFactorial(n - i);
            sum += Math.exp(logC + i * Math.log(p) + (n - i) * Math.log1p(-p));
        }
        return Math.min(1.0, sum);
    }

    private static double logFactorial(long n) {
        double s = 0;
        for (long i = 2; i <= n; i++) {
            s += Math.log(i);
        }
        return s;
    }

    static Optional<Check> nonFinite(RolloutSpec.Gates g, Readings r) {
        if (g.maxNonFiniteRate().isEmpty() || r.wave().count() == 0) {
            return Optional.empty();
        }
        double max = g.maxNonFiniteRate().getAsDouble();
        return Optional.of(Check.of("maxNonFiniteRate", false, r.wave().nonFiniteRate() > max, "non-finite outputs %.4f of answers > %.4f",
                r.wave().nonFiniteRate(), max));
    }

    static Optional<Check> errorRate(RolloutSpec.Gates g, Readings r) {
        if (g.maxErrorRate().isEmpty()) {
            return Optional.empty();
        }
        double max = g.maxErrorRate().getAsDouble();
        Aggregate w = r.wave();
        return Optional.of(enough(g, "maxErrorRate", w, Optional.empty()).orElseGet(() -> Check.of("maxErrorRate", true, w.errorRate() > max,
                "error rate %.4f > %.4f", w.errorRate(), max)));
    }

    static Optional<Check> errorRateIncrease(RolloutSpec.Gates g, Readings r) {
        if (g.maxErrorRateIncrease().isEmpty()) {
            return Optional.empty();
        }
        double max = g.maxErrorRateIncrease().getAsDouble();
        Aggregate w = r.wave();
        return Optional.of(noBaseline("maxErrorRateIncrease", r).or(() -> enough(g, "maxErrorRateIncrease", w, r.baseline())).orElseGet(() -> {
            Aggregate b = r.baseline().orElseThrow();
            double inc = w.errorRate() - b.errorRate();
            return Check.of("maxErrorRateIncrease", true, inc > max, "error rate %.4f is %.4f over the baseline's %.4f (max %.4f)",
                    w.errorRate(), inc, b.errorRate(), max);
        }));
    }

    static Optional<Check> p95(RolloutSpec.Gates g, Readings r, Map<String, Object> d) {
        if (g.maxP95Ratio().isEmpty()) {
            return Optional.empty();
        }
        double max = g.maxP95Ratio().getAsDouble();
        double floor = g.minP95IncreaseMs().orElse(0);
        Aggregate w = r.wave();
        return Optional.of(noBaseline("maxP95Ratio", r).or(() -> enough(g, "maxP95Ratio", w, r.baseline())).orElseGet(() -> {
            Aggregate b = r.baseline().orElseThrow();
            double increase = w.p95Ms() - b.p95Ms();
            d.put("p95IncreaseMs", increase);
            if (b.p95Ms() > 0) {
                d.put("p95Ratio", w.p95Ms() / b.p95Ms());
            }
            boolean violated = w.p95Ms() > max * b.p95Ms() && increase > floor;
            return Check.of("maxP95Ratio", true, violated, "p95 latency %.3f ms is %.3f ms over the baseline's %.3f ms (max %.2fx and +%.1f ms)",
                    w.p95Ms(), increase, b.p95Ms(), max, floor);
        }));
    }

    static Optional<Check> confidenceDrop(RolloutSpec.Gates g, Readings r, Map<String, Object> d) {
        if (g.maxConfidenceDrop().isEmpty()) {
            return Optional.empty();
        }
        double max = g.maxConfidenceDrop().getAsDouble();
        Aggregate w = r.wave();
        Optional<Check> few = noBaseline("maxConfidenceDrop", r).or(() -> enough(g, "maxConfidenceDrop", w, r.baseline()));
        if (few.isPresent()) {
            return few;
        }
        Aggregate b = r.baseline().orElseThrow();
        if (w.meanConfidence().isEmpty() || b.meanConfidence().isEmpty()) {
            return Optional.of(Check.unjudged("maxConfidenceDrop", "no confidence reported"));
        }
        double drop = b.meanConfidence().getAsDouble() - w.meanConfidence().getAsDouble();
        d.put("confidenceDrop", drop);
        return Optional.of(Check.of("maxConfidenceDrop", true, drop > max, "mean confidence dropped %.3f below the baseline's %.3f (max %.3f)", drop,
                b.meanConfidence().getAsDouble(), max));
    }

    static Optional<Check> escalationShare(RolloutSpec.Gates g, Readings r) {
        if (g.maxEscalationShare().isEmpty()) {
            return Optional.empty();
        }
        double max = g.maxEscalationShare().getAsDouble();
        Aggregate w = r.wave();
        return Optional.of(enough(g, "maxEscalationShare", w, Optional.empty()).orElseGet(() -> Check.of("maxEscalationShare", true,
                w.escalationRate() > max, "escalated share %.4f > %.4f", w.escalationRate(), max)));
    }

    /**
     * The client-error gate ({@link ClientErrorGate}): the wave's clients refused clearly more often
     * than the baseline's. Noisy (needs a sustained violation); its own floors on requests and refusals.
     */
    static Optional<Check> clientErrorRateIncrease(RolloutSpec.Gates g, Readings r, Map<String, Object> d) {
        if (g.maxClientErrorRateIncrease().isEmpty()) {
            return Optional.empty();
        }
        double max = g.maxClientErrorRateIncrease().getAsDouble();
        Optional<Check> none = noBaseline("maxClientErrorRateIncrease", r);
        if (none.isPresent()) {
            return none;
        }
        Aggregate b = r.baseline().orElseThrow();
        long need = Math.max(ClientErrorGate.MIN_REQUESTS, g.minRequests().orElse(0));
        Optional<String> violation = ClientErrorGate.check(max, g.minRequests().orElse(0), r.wave(), b, d);
        if (violation.isEmpty() && (r.wave().count() < need || b.count() < need)) {
            return Optional.of(Check.unjudged("maxClientErrorRateIncrease", "waiting for " + need + " requests on each side (wave "
                    + r.wave().count() + ", baseline " + b.count() + ")"));
        }
        return Optional.of(new Check("maxClientErrorRateIncrease", true, violation, Optional.empty()));
    }

    /** An unjudged check when there is no baseline to compare with (every device of the rollout updated, or none had a version). */
    private static Optional<Check> noBaseline(String gate, Readings r) {
        return r.baseline().isPresent() ? Optional.empty()
                : Optional.of(Check.unjudged(gate, NO_BASELINE + ": no device of the rollout is left on a previous version"));
    }

    /**
     * Empty when the wave (and the baseline, when {@code baseline} is given for a comparison) has
     * {@code minSamples} requests (at least one); otherwise an unjudged check saying what is short.
     * A comparison with no baseline at all (every device already updated) is unjudged too.
     */
    private static Optional<Check> enough(RolloutSpec.Gates g, String gate, Aggregate w, Optional<Aggregate> baseline) {
        long min = Math.max(1, g.minSamples().orElse(0));
        if (w.count() < min) {
            return Optional.of(Check.unjudged(gate, w.count() + " of " + min + " requests on the new version"));
        }
        return baseline.map(b -> b.count() < min ? Optional.of(Check.unjudged(gate, b.count() + " of " + min + " requests on the baseline"))
                : Optional.<Check>empty()).orElse(Optional.empty());
    }
}
