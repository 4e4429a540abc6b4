package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What a shadow candidate did in one telemetry window (docs/shadow.md): the agent ran it on a sampled share of the
 * live requests of the active version, off the answer path, and compared it with that version on the same inputs.
 * Carried by the active version's {@link TelemetryRecord} as the optional field {@code shadow} (absent in older agents'
 * batches, ignored by older clouds).
 *
 * @param rolloutId the rollout whose {@code shadow} command loaded the candidate, when one did
 * @param candidate the candidate version
 * @param samples requests the candidate ran on (and was compared on) in the window
 * @param agreements of those, the ones whose answer agreed with the active version's: the same top-1 class in every
 *     row for a classifier-shaped first output, every element within {@code |c - a| <= abs + rel * |a|} otherwise;
 *     at most {@code samples}
 * @param nonFinite samples whose candidate answer held NaN or infinity (never agreements); at most {@code samples}
 * @param dropped sampled requests not run: the shadow queue was full or its CPU budget spent
 * @param latencyRatio median over the samples of the candidate's model time divided by the active version's, both
 *     timed back to back on the same input on the shadow thread; absent without samples; finite, positive
 * @param confidenceDiff mean of the candidate's top-class probability minus the active version's, for classifiers;
 *     absent otherwise; in [-1, 1]
 * @param activeMillis median of the active version's model time in the same pairs, milliseconds (so a ratio can be
 *     judged together with an absolute floor); absent without samples; finite, >= 0
 */
public record ShadowStats(Optional<String> rolloutId, String candidate, long samples, long agreements, long nonFinite, long dropped,
        OptionalDouble latencyRatio, OptionalDouble confidenceDiff, OptionalDouble activeMillis) {
    public ShadowStats {
        activeMillis = activeMillis == null ? OptionalDouble.empty() : activeMillis;
        if (activeMillis.isPresent() && !(activeMillis.getAsDouble() >= 0 && Double.isFinite(activeMillis.getAsDouble()))) {
            throw new ProtocolException("shadow.activeMillis", "must be a finite number >= 0, got " + activeMillis.getAsDouble());
        }
        rolloutId = ModelState.versionOrEmpty(rolloutId, "shadow.rolloutId");
        Checks.id(candidate, "shadow.candidate");
        Checks.nonNegative(samples, "shadow.samples");
        Checks.nonNegative(agreements, "shadow.agreements");
        Checks.nonNegative(nonFinite, "shadow.nonFinite");
        Checks.nonNegative(dropped, "shadow.dropped");
        if (agreements + nonFinite > samples) {
            throw new ProtocolException("shadow.agreements", agreements + " agreements and " + nonFinite
                    + " non-finite answers are more than the window's " + samples + " samples");
        }
        latencyRatio = latencyRatio == null ? OptionalDouble.empty() : latencyRatio;
        if (latencyRatio.isPresent() && !(latencyRatio.getAsDouble() > 0 && Double.isFinite(latencyRatio.getAsDouble()))) {
            throw new ProtocolException("shadow.latencyRatio", "must be a finite number > 0, got " + latencyRatio.getAsDouble());
        }
        confidenceDiff = confidenceDiff == null ? OptionalDouble.empty() : confidenceDiff;
        if (confidenceDiff.isPresent() && !(Math.abs(confidenceDiff.getAsDouble()) <= 1)) {
            throw new ProtocolException("shadow.confidenceDiff", "must be within -1..1, got " + confidenceDiff.getAsDouble());
        }
    }

    /** Share of the samples that agreed, 0..1; NaN without samples. */
    public double agreement() {
        return samples == 0 ? Double.NaN : (double) agreements / samples;
    }
}
