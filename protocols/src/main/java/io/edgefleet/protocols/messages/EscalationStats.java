package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;

/**
 * What a window's escalations to the cloud did.
 *
 * @param cloudAnswers escalations the cloud answered
 * @param cloudFailures escalations the cloud did not answer in time (the local answer went back, marked)
 * @param addedMillis total time the escalations added to their requests, in milliseconds
 */
public record EscalationStats(long cloudAnswers, long cloudFailures, double addedMillis) {
    public EscalationStats {
        Checks.nonNegative(cloudAnswers, "cloudAnswers");
        Checks.nonNegative(cloudFailures, "cloudFailures");
        if (!(addedMillis >= 0) || Double.isInfinite(addedMillis)) {
            throw new io.edgefleet.protocols.ProtocolException("addedMillis", "must be a finite number >= 0, got " + addedMillis);
        }
    }
}
