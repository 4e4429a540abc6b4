package io.edgefleet.cloud.store;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * Telemetry summed over a set of windows. Latency percentiles are means of the
 * devices' window percentiles weighted by valid requests (the agents send percentiles, not histograms), and {@code maxMs} is
 * the true maximum: good enough to compare a new version with its baseline, not an exact fleet p95.
 *
 * @param devices distinct devices that reported in the range
 * @param bucket start of the time bucket, for series; empty for a total
 * @param cloudAnswers escalations the cloud answered
 * @param cloudFailures escalations the cloud could not answer in time
 * @param escalationMillis total time escalations added
 * @param count requests received, refused ones included
 * @param errors model errors: valid requests the model failed
 * @param clientErrorCount requests refused as the client's mistake (bad body, input that does not fit the signature, unknown
 *     model or version, full queue); part of {@code count}, never of {@code errors}
 * @param clientErrors the same by kind ({@code invalid-input}, {@code bad-request}, {@code unknown-model}, ...)
 */
public record Aggregate(Optional<String> model, Optional<String> version, Optional<Instant> bucket, long count, long errors,
        long escalations, long nonFinite, long lowConfidence, OptionalDouble meanConfidence, double p50Ms, double p95Ms, double p99Ms,
        double maxMs, long batches, long devices, long cloudAnswers, long cloudFailures, double escalationMillis, long clientErrorCount,
        Map<String, Long> clientErrors) {

    public Aggregate {
        clientErrors = clientErrors == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(clientErrors));
    }

    /** This aggregate with its client errors split by kind. */
    public Aggregate withClientErrors(Map<String, Long> byKind) {
        return new Aggregate(model, version, bucket, count, errors, escalations, nonFinite, lowConfidence, meanConfidence, p50Ms, p95Ms, p99Ms,
                maxMs, batches, devices, cloudAnswers, cloudFailures, escalationMillis, clientErrorCount, byKind);
    }

    /** Requests the model ran on: {@code count} minus the client errors. */
    @JsonIgnore
    public long validRequests() {
        return Math.max(0, count - clientErrorCount);
    }

    /** Client errors / requests; 0 without requests. What clients saw refused, whoever's fault the change was. */
    @JsonProperty("clientErrorRate")
    public double clientErrorRate() {
        return count == 0 ? 0 : (double) clientErrorCount / count;
    }

    /** Mean time an escalation added, in ms. */
    public double meanEscalationMillis() {
        return escalations == 0 ? 0 : escalationMillis / escalations;
    }

    /**
     * Model errors / valid requests (refused requests left out, so a surge of client mistakes neither
     * raises nor dilutes it); 0 without valid requests.
     */
    @JsonProperty("errorRate")
    public double errorRate() {
        long valid = validRequests();
        return valid == 0 ? 0 : (double) errors / valid;
    }

    public double escalationRate() {
        return count == 0 ? 0 : (double) escalations / count;
    }

    public double nonFiniteRate() {
        return count == 0 ? 0 : (double) nonFinite / count;
    }
}
