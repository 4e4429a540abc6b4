package io.edgefleet.cloud.store;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Telemetry summed over a set of windows. Latency percentiles are count-weighted means of the
 * devices' window percentiles (the agents send percentiles, not histograms), and {@code maxMs} is
 * the true maximum: good enough to compare a new version with its baseline, not an exact fleet p95.
 *
 * @param devices distinct devices that reported in the range
 * @param bucket start of the time bucket, for series; empty for a total
 * @param cloudAnswers escalations the cloud answered
 * @param cloudFailures escalations the cloud could not answer in time
 * @param escalationMillis total time escalations added
 */
public record Aggregate(Optional<String> model, Optional<String> version, Optional<Instant> bucket, long count, long errors,
        long escalations, long nonFinite, long lowConfidence, OptionalDouble meanConfidence, double p50Ms, double p95Ms, double p99Ms,
        double maxMs, long batches, long devices, long cloudAnswers, long cloudFailures, double escalationMillis) {

    /** Mean time an escalation added, in ms. */
    public double meanEscalationMillis() {
        return escalations == 0 ? 0 : escalationMillis / escalations;
    }

    public double errorRate() {
        return count == 0 ? 0 : (double) errors / count;
    }

    public double escalationRate() {
        return count == 0 ? 0 : (double) escalations / count;
    }

    public double nonFiniteRate() {
        return count == 0 ? 0 : (double) nonFinite / count;
    }
}
