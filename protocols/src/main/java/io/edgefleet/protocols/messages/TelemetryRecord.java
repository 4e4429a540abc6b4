package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * One model version's figures over one time window.
 *
 * @param model model name
 * @param version the version that served the window
 * @param windowStart inclusive
 * @param windowEnd exclusive; not before {@code windowStart}
 * @param count requests answered
 * @param errors requests that failed; at most {@code count}
 * @param latencyMillis latency percentiles of the window
 * @param meanConfidence mean confidence of the answers, 0..1, when the model reports one
 * @param escalations requests sent to the cloud; at most {@code count}
 * @param nonFinite answers holding NaN or infinity; at most {@code count}
 * @param lowConfidence answers whose confidence was below the model's threshold; at most {@code count}
 * @param inputs per input tensor name, statistics of its elements
 * @param escalation what the escalations to the cloud did, when the model escalates (absent in older agents' batches)
 */
public record TelemetryRecord(String model, String version, Instant windowStart, Instant windowEnd, long count,
        long errors, LatencyPercentiles latencyMillis, OptionalDouble meanConfidence, long escalations, long nonFinite,
        long lowConfidence, Map<String, InputStats> inputs, Optional<EscalationStats> escalation) {
    public TelemetryRecord {
        escalation = escalation == null ? Optional.empty() : escalation;
        escalation.ifPresent(e -> {
            if (e.cloudAnswers() + e.cloudFailures() > escalations) {
                throw new ProtocolException("escalation", "cloud answers and failures exceed the window's " + escalations + " escalations");
            }
        });
        Checks.id(model, "model");
        Checks.id(version, "version");
        Checks.required(windowStart, "windowStart");
        Checks.required(windowEnd, "windowEnd");
        if (windowEnd.isBefore(windowStart)) {
            throw new ProtocolException("windowEnd", windowEnd + " is before windowStart " + windowStart);
        }
        Checks.nonNegative(count, "count");
        atMostCount(errors, count, "errors");
        atMostCount(escalations, count, "escalations");
        atMostCount(nonFinite, count, "nonFinite");
        atMostCount(lowConfidence, count, "lowConfidence");
        Checks.required(latencyMillis, "latencyMillis");
        meanConfidence = meanConfidence == null ? OptionalDouble.empty() : meanConfidence;
        if (meanConfidence.isPresent()) {
            Checks.fraction(meanConfidence.getAsDouble(), "meanConfidence");
        }
        inputs = Checks.optionalMap(inputs, "inputs");
    }

    /** A record without escalation details. */
    public TelemetryRecord(String model, String version, Instant windowStart, Instant windowEnd, long count, long errors,
            LatencyPercentiles latencyMillis, OptionalDouble meanConfidence, long escalations, long nonFinite, long lowConfidence,
            Map<String, InputStats> inputs) {
        this(model, version, windowStart, windowEnd, count, errors, latencyMillis, meanConfidence, escalations, nonFinite, lowConfidence, inputs,
                Optional.empty());
    }

    private static void atMostCount(long value, long count, String field) {
        Checks.nonNegative(value, field);
        if (value > count) {
            throw new ProtocolException(field, value + " is more than the window's count of " + count);
        }
    }
}
