package io.edgefleet.cloud.rollout;

import io.edgefleet.cloud.drift.DriftRepository.WindowScore;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code noDriftAlarm} gate (off unless a rollout's gates name it): the new version's inputs must not have drifted
 * from its reference profile. It reuses the drift monitor's judgement and adds none of its own (the reasoning is in
 * docs/drift.md, "The rollout gate on drift"):
 * <ul>
 *   <li><b>fails</b> when the candidate's newest judged window since the rollout began is in alarm, i.e. the monitor saw
 *       {@code consecutive-windows} windows in a row whose worst feature's PSI (or the confidence's) was over its
 *       threshold. A hard gate: the alarm already holds the noise judgement (consecutive windows, {@code min-samples}),
 *       so {@code sustainedEvaluations} does not apply again;</li>
 *   <li><b>waits</b> until the candidate has {@code consecutive-windows} judged windows since the rollout began: fewer
 *       could never have raised the alarm, so passing earlier would pass without evidence. The wait says why (no
 *       reference yet, a reference being learned, windows judged so far) and ends by the wave's {@code telemetryWait}
 *       like every other wait for telemetry;</li>
 *   <li><b>passes</b> otherwise. The version being replaced is read for the status ({@code baselineDriftAlarm}) but
 *       never judged: its alarm says the field moved away from the old model, which is when a retrained one is rolled
 *       out.</li>
 * </ul>
 * A pure function.
 */
final class DriftGate {
    static final String GATE = "noDriftAlarm";

    private DriftGate() {
    }

    /** The gate's outcome: a failure sentence, or what it waits for, or neither (pass). */
    record Result(Optional<String> failure, Optional<Waiting> waiting) {
    }

    /**
     * @param reading the candidate's drift; empty when the control plane has no drift monitor (the gate waits, saying so)
     * @param detail receives {@code driftWindows} (judged since the rollout began), {@code driftMaxPsi},
     *     {@code driftWorstFeature}, {@code driftConfidencePsi}, {@code driftAlarm} (newest window),
     *     {@code driftThreshold}, {@code driftReference}, {@code baselineDriftAlarm}
     */
    static Result check(Optional<DriftReading> reading, Map<String, Object> detail) {
        if (reading.isEmpty()) {
            return waiting(0, 1, "no drift monitor runs in this control plane: the drift gate cannot be judged");
        }
        DriftReading d = reading.get();
        String mv = d.model() + "/" + d.version();
        detail.put("driftWindows", d.windows().size());
        detail.put("driftThreshold", d.threshold());
        detail.put("driftReference", d.referenceSource().orElse("none"));
        d.baselineAlarm().ifPresent(a -> detail.put("baselineDriftAlarm", a));
        if (!d.windows().isEmpty()) {
            WindowScore w = d.windows().get(0);
            detail.put("driftMaxPsi", w.maxPsi());
            detail.put("driftWorstFeature", w.worstFeature());
            w.confidencePsi().ifPresent(c -> detail.put("driftConfidencePsi", c));
            detail.put("driftAlarm", w.alarm());
            if (w.alarm()) {
                return new Result(Optional.of(String.format(Locale.ROOT, "input drift on %s: the drift alarm is raised (newest window: worst "
                        + "feature %s PSI %.3f%s, threshold %.2f; the alarm takes %d breaching windows in a row and clears after as many clean "
                        + "ones)", mv, w.worstFeature(), w.maxPsi(), w.confidencePsi().isPresent()
                                ? String.format(Locale.ROOT, ", confidence PSI %.3f", w.confidencePsi().getAsDouble()) : "",
                        d.threshold(), d.consecutiveWindows())), Optional.empty());
            }
        }
        if (d.windows().size() >= d.consecutiveWindows()) {
            return new Result(Optional.empty(), Optional.empty());
        }
        String why;
        if (d.referenceSource().isEmpty()) {
            why = d.learningWindows().isPresent()
                    ? String.format(Locale.ROOT, "%s has no drift reference yet: learning one from traffic, %.0f of %d windows", mv,
                            d.learningWindows().getAsDouble(), d.referenceWindows())
                    : mv + " has no drift reference: give a sample set (edgefleet model drift " + d.model() + " " + d.version()
                            + " --reference FILE) or wait for " + d.referenceWindows() + " windows of traffic";
        } else {
            why = String.format(Locale.ROOT, "%d of %d judged drift windows on %s since the rollout began (each needs %d values per feature)",
                    d.windows().size(), d.consecutiveWindows(), mv, d.minSamples());
        }
        return waiting(d.windows().size(), d.consecutiveWindows(), why);
    }

    private static Result waiting(long have, long need, String why) {
        return new Result(Optional.empty(), Optional.of(new Waiting("telemetry", Optional.of(GATE), have, need, Optional.empty(), why)));
    }
}
