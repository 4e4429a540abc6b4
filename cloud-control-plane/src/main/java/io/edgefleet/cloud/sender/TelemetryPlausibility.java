package io.edgefleet.cloud.sender;

import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Refuses telemetry no device could have sent, whoever signed it: a window ending in the future, a
 * batch sent in the future, more requests in a window than its length could hold, drift sketches of more values than
 * its requests could give. (Negative counts
 * and errors above the count are refused by {@link TelemetryRecord}'s constructor when the batch is
 * decoded.) A pure function; the reason names the record and the rule.
 */
public final class TelemetryPlausibility {
    private TelemetryPlausibility() {
    }

    /** The first implausibility of {@code b} received at {@code now}, or empty when it is plausible. */
    public static Optional<String> problem(TelemetryBatch b, Instant now, long maxRequestsPerSecond, Duration maxClockSkew) {
        Instant latest = now.plus(maxClockSkew);
        if (b.sentAt().isAfter(latest)) {
            return Optional.of("sentAt " + b.sentAt() + " is in the future (received at " + now + ")");
        }
        for (TelemetryRecord r : b.records()) {
            String what = "window " + r.windowStart() + " of " + r.model() + " " + r.version();
            if (r.windowEnd().isAfter(latest)) {
                return Optional.of(what + " ends in the future (" + r.windowEnd() + ", received at " + now + ")");
            }
            // A window of length 0 may hold one burst of up to a second's worth: round the length up to a whole second.
            long seconds = Math.max(1, Duration.between(r.windowStart(), r.windowEnd()).plusMillis(999).toSeconds());
            long capacity = seconds > Long.MAX_VALUE / maxRequestsPerSecond ? Long.MAX_VALUE : seconds * maxRequestsPerSecond;
            if (r.count() > capacity) {
                return Optional.of(what + " claims " + r.count() + " requests in " + seconds + " s, more than " + maxRequestsPerSecond
                        + " a second (max-requests-per-second)");
            }
            if (r.drift().isPresent()) { // an agent takes at most FeatureRows.MAX_ROWS values of a feature per request
                long most = r.count() > Long.MAX_VALUE / io.edgefleet.protocols.drift.FeatureRows.MAX_ROWS ? Long.MAX_VALUE
                        : r.count() * io.edgefleet.protocols.drift.FeatureRows.MAX_ROWS;
                for (var e : r.drift().get().inputs().entrySet()) {
                    for (var f : e.getValue()) {
                        if (f.count() > most) {
                            return Optional.of(what + " describes " + f.count() + " values of input " + e.getKey() + " from " + r.count()
                                    + " requests, more than " + io.edgefleet.protocols.drift.FeatureRows.MAX_ROWS + " a request");
                        }
                    }
                }
                if (r.drift().get().confidence().map(c -> c.count() > r.count()).orElse(false)) {
                    return Optional.of(what + " describes more confidences than its " + r.count() + " requests");
                }
            }
        }
        return Optional.empty();
    }
}
