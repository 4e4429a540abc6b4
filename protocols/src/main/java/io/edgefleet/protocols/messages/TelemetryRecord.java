package io.edgefleet.protocols.messages;

import com.fasterxml.jackson.annotation.JsonInclude;
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
 * @param windowEnd exclusive; not before {@code windowStart}, at most {@link #MAX_WINDOW} after it
 * @param count requests received: answered, failed, or refused as the client's mistake
 * @param errors model errors: requests with valid input that the model failed (runtime error or no answer in time); at most {@code count}
 * @param latencyMillis latency percentiles of the window
 * @param meanConfidence mean confidence of the answers, 0..1, when the model reports one
 * @param escalations requests sent to the cloud; at most {@code count}
 * @param nonFinite answers holding NaN or infinity; at most {@code count}
 * @param lowConfidence answers whose confidence was below the model's threshold; at most {@code count}
 * @param inputs per input tensor name, statistics of its elements
 * @param escalation what the escalations to the cloud did, when the model escalates (absent in older agents' batches)
 * @param clientErrors requests refused as the client's mistake, by kind ({@link ClientErrorKind#wire()}, e.g.
 *     {@code invalid-input}); each is also one of {@code count} and never one of {@code errors}, so
 *     {@code errors} plus their sum is at most {@code count}. Empty (and left out on the wire) when there were none;
 *     absent in older agents' batches, which did not count refused requests at all
 * @param drift per-feature input sketches and the confidence distribution of the window, for drift detection
 *     (docs/drift.md); left out on the wire when absent, absent in older agents' batches, ignored by older clouds
 * @param split what this version did as an arm of an A/B experiment in the window (docs/ab.md); left out on the wire
 *     when absent, absent in older agents' batches, ignored by older clouds
 * @param shadow what a shadow candidate of this model did next to this (active) version in the window
 *     (docs/shadow.md); left out on the wire when absent, absent in older agents' batches, ignored by older clouds
 */
public record TelemetryRecord(String model, String version, Instant windowStart, Instant windowEnd, long count,
        long errors, LatencyPercentiles latencyMillis, OptionalDouble meanConfidence, long escalations, long nonFinite,
        long lowConfidence, Map<String, InputStats> inputs, Optional<EscalationStats> escalation,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Long> clientErrors,
        @JsonInclude(JsonInclude.Include.NON_ABSENT)
        @com.fasterxml.jackson.databind.annotation.JsonDeserialize(contentUsing = io.edgefleet.protocols.drift.LenientDriftStats.class)
        Optional<io.edgefleet.protocols.drift.DriftStats> drift,
        @JsonInclude(JsonInclude.Include.NON_ABSENT) Optional<ShadowStats> shadow,
        @JsonInclude(JsonInclude.Include.NON_ABSENT) Optional<SplitStats> split) {
    /** The longest window a record may cover (1 day): a longer one would count a whole history into one gate reading. */
    public static final java.time.Duration MAX_WINDOW = java.time.Duration.ofDays(1);
    /**
     * The most requests one record may count: 2^40 (about 1.1e12, 12.7 million a second for a whole day). Real windows are
     * far below it; the bound keeps the cloud's sums over devices and windows far from a long's overflow, which one
     * device's two records of Long.MAX_VALUE would otherwise reach.
     */
    public static final long MAX_COUNT = 1L << 40;

    /** Refuses {@code n} above {@link #MAX_COUNT}, naming {@code path}. */
    static void atMostMaxCount(long n, String path) {
        if (n > MAX_COUNT) {
            throw new ProtocolException(path, n + " is more than the " + MAX_COUNT + " a window may count");
        }
    }

    public TelemetryRecord {
        split = split == null ? Optional.empty() : split;
        shadow = shadow == null ? Optional.empty() : shadow;
        drift = drift == null ? Optional.empty() : drift;
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
        if (java.time.Duration.between(windowStart, windowEnd).compareTo(MAX_WINDOW) > 0) {
            throw new ProtocolException("windowEnd", "the window " + windowStart + " .. " + windowEnd + " is longer than " + MAX_WINDOW.toHours()
                    + " hours (an agent's windows are agent.telemetry.window-ms long)");
        }
        Checks.nonNegative(count, "count");
        atMostMaxCount(count, "count");
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
        clientErrors = Checks.optionalMap(clientErrors, "clientErrors");
        if (clientErrors.size() > ClientErrorKind.MAX_KINDS) {
            throw new ProtocolException("clientErrors", clientErrors.size() + " kinds, over the limit of " + ClientErrorKind.MAX_KINDS);
        }
        long refused = 0;
        for (Map.Entry<String, Long> e : clientErrors.entrySet()) {
            if (e.getKey().length() > 32 || !ClientErrorKind.WIRE_NAME.matcher(e.getKey()).matches()) {
                throw new ProtocolException("clientErrors", "'" + e.getKey().substring(0, Math.min(32, e.getKey().length()))
                        + "' is not a client error kind: lowercase words joined by '-', at most 32 characters");
            }
            Checks.nonNegative(e.getValue(), "clientErrors." + e.getKey());
            refused = Long.MAX_VALUE - refused < e.getValue() ? Long.MAX_VALUE : refused + e.getValue(); // saturate: hostile values must not wrap
        }
        if (refused > count - errors) {
            throw new ProtocolException("clientErrors", refused + " client errors and " + errors + " model errors are more than the window's count of "
                    + count);
        }
    }

    /** A record without shadow statistics. */
    public TelemetryRecord(String model, String version, Instant windowStart, Instant windowEnd, long count, long errors,
            LatencyPercentiles latencyMillis, OptionalDouble meanConfidence, long escalations, long nonFinite, long lowConfidence,
            Map<String, InputStats> inputs, Optional<EscalationStats> escalation, Map<String, Long> clientErrors,
            Optional<io.edgefleet.protocols.drift.DriftStats> drift) {
        this(model, version, windowStart, windowEnd, count, errors, latencyMillis, meanConfidence, escalations, nonFinite, lowConfidence, inputs,
                escalation, clientErrors, drift, Optional.empty());
    }

    /** A record without A/B statistics. */
    public TelemetryRecord(String model, String version, Instant windowStart, Instant windowEnd, long count, long errors,
            LatencyPercentiles latencyMillis, OptionalDouble meanConfidence, long escalations, long nonFinite, long lowConfidence,
            Map<String, InputStats> inputs, Optional<EscalationStats> escalation, Map<String, Long> clientErrors,
            Optional<io.edgefleet.protocols.drift.DriftStats> drift, Optional<ShadowStats> shadow) {
        this(model, version, windowStart, windowEnd, count, errors, latencyMillis, meanConfidence, escalations, nonFinite, lowConfidence, inputs,
                escalation, clientErrors, drift, shadow, Optional.empty());
    }

    /** This record carrying {@code s} as its shadow statistics. */
    public TelemetryRecord withShadow(Optional<ShadowStats> s) {
        return new TelemetryRecord(model, version, windowStart, windowEnd, count, errors, latencyMillis, meanConfidence, escalations, nonFinite,
                lowConfidence, inputs, escalation, clientErrors, drift, s, split);
    }

    /** This record carrying {@code s} as its A/B arm statistics (docs/ab.md). */
    public TelemetryRecord withSplit(Optional<SplitStats> s) {
        return new TelemetryRecord(model, version, windowStart, windowEnd, count, errors, latencyMillis, meanConfidence, escalations, nonFinite,
                lowConfidence, inputs, escalation, clientErrors, drift, shadow, s);
    }

    /** A record without drift statistics. */
    public TelemetryRecord(String model, String version, Instant windowStart, Instant windowEnd, long count, long errors,
            LatencyPercentiles latencyMillis, OptionalDouble meanConfidence, long escalations, long nonFinite, long lowConfidence,
            Map<String, InputStats> inputs, Optional<EscalationStats> escalation, Map<String, Long> clientErrors) {
        this(model, version, windowStart, windowEnd, count, errors, latencyMillis, meanConfidence, escalations, nonFinite, lowConfidence, inputs,
                escalation, clientErrors, Optional.empty());
    }

    /** A record without client errors. */
    public TelemetryRecord(String model, String version, Instant windowStart, Instant windowEnd, long count, long errors,
            LatencyPercentiles latencyMillis, OptionalDouble meanConfidence, long escalations, long nonFinite, long lowConfidence,
            Map<String, InputStats> inputs, Optional<EscalationStats> escalation) {
        this(model, version, windowStart, windowEnd, count, errors, latencyMillis, meanConfidence, escalations, nonFinite, lowConfidence, inputs,
                escalation, Map.of());
    }

    /** Requests refused as the client's mistake, all kinds together. */
    public long clientErrorCount() {
        return clientErrors.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Requests the model ran on: {@code count} minus the client errors. */
    public long validRequests() {
        return count - clientErrorCount();
    }

    /** A record without escalation details. */
    public TelemetryRecord(String model, String version, Instant windowStart, Instant windowEnd, long count, long errors,
            LatencyPercentiles latencyMillis, OptionalDouble meanConfidence, long escalations, long nonFinite, long lowConfidence,
            Map<String, InputStats> inputs) {
        this(model, version, windowStart, windowEnd, count, errors, latencyMillis, meanConfidence, escalations, nonFinite, lowConfidence, inputs,
                Optional.empty(), Map.of());
    }

    private static void atMostCount(long value, long count, String field) {
        Checks.nonNegative(value, field);
        if (value > count) {
            throw new ProtocolException(field, value + " is more than the window's count of " + count);
        }
    }
}
