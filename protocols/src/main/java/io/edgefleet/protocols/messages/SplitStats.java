package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;

/**
 * What one arm of an A/B experiment did in one telemetry window (docs/ab.md). Carried by the {@link TelemetryRecord} of
 * the arm's version as the optional field {@code split} (absent in older agents' batches, ignored by older clouds). Sums
 * rather than means, so windows and devices add up, and the cloud gets means and variances (Welch) from them.
 *
 * @param experiment the experiment id
 * @param arm {@code a} (the active version) or {@code b} (the candidate)
 * @param requests requests this arm answered or failed in the window, the experiment's only
 * @param errors of those, the ones the model failed (a client's bad input is not counted at all); at most {@code requests}
 * @param latencySumMillis sum over the answered requests of the model time in milliseconds
 * @param latencySumSqMillis2 sum of the squares of those times (ms²)
 * @param confidenceCount answered requests with a top-class probability (classifiers)
 * @param confidenceSum sum of those probabilities, 0..confidenceCount
 * @param confidenceSumSq sum of their squares
 * @param labelled answers of this arm whose true outcome came back through the feedback call in the window (docs/ab.md
 *     "Feedback and accuracy"); a label may come back windows after its request, so not bounded by {@code requests};
 *     absent (0) in older agents' records, ignored by older clouds
 * @param correct of those, the ones the arm got right; at most {@code labelled}
 */
public record SplitStats(String experiment, String arm, long requests, long errors, double latencySumMillis, double latencySumSqMillis2,
        long confidenceCount, double confidenceSum, double confidenceSumSq,
        @com.fasterxml.jackson.annotation.JsonSetter(nulls = com.fasterxml.jackson.annotation.Nulls.AS_EMPTY) long labelled,
        @com.fasterxml.jackson.annotation.JsonSetter(nulls = com.fasterxml.jackson.annotation.Nulls.AS_EMPTY) long correct) {
    public static final String ARM_A = "a";
    public static final String ARM_B = "b";

    public SplitStats {
        Checks.id(experiment, "split.experiment");
        if (!ARM_A.equals(arm) && !ARM_B.equals(arm)) {
            throw new ProtocolException("split.arm", "must be 'a' or 'b', got '" + arm + "'");
        }
        Checks.nonNegative(requests, "split.requests");
        Checks.nonNegative(errors, "split.errors");
        Checks.nonNegative(confidenceCount, "split.confidenceCount");
        Checks.nonNegative(labelled, "split.labelled");
        Checks.nonNegative(correct, "split.correct");
        TelemetryRecord.atMostMaxCount(requests, "split.requests");
        TelemetryRecord.atMostMaxCount(labelled, "split.labelled");
        if (correct > labelled) {
            throw new ProtocolException("split.correct", correct + " correct answers are more than the " + labelled + " labelled ones");
        }
        if (errors > requests) {
            throw new ProtocolException("split.errors", errors + " errors are more than the window's " + requests + " requests");
        }
        if (confidenceCount > requests - errors) {
            throw new ProtocolException("split.confidenceCount", confidenceCount + " is more than the " + (requests - errors) + " answered requests");
        }
        finite(latencySumMillis, 1e15, "split.latencySumMillis");
        finite(latencySumSqMillis2, 1e30, "split.latencySumSqMillis2");
        finite(confidenceSum, confidenceCount, "split.confidenceSum");
        finite(confidenceSumSq, confidenceCount, "split.confidenceSumSq");
    }

    /** Without feedback counts (none labelled). */
    public SplitStats(String experiment, String arm, long requests, long errors, double latencySumMillis, double latencySumSqMillis2,
            long confidenceCount, double confidenceSum, double confidenceSumSq) {
        this(experiment, arm, requests, errors, latencySumMillis, latencySumSqMillis2, confidenceCount, confidenceSum, confidenceSumSq, 0, 0);
    }

    private static void finite(double v, double max, String field) {
        if (!(v >= 0 && v <= max)) {
            throw new ProtocolException(field, "must be a finite number in 0.." + max + ", got " + v);
        }
    }
}
