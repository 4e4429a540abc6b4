package io.edgefleet.agent.serving;

import io.edgefleet.engines.Confidence;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * When a model's answer goes to the cloud: its confidence (by {@code measure}) is below
 * {@code threshold}, within a budget of {@code maxShare} of the model's requests per minute, and
 * the whole request must be answered within {@code deadline}. Set in the agent's configuration or
 * from the cloud with a {@code configure} command: {@code escalation.measure} (max_probability,
 * margin, entropy), {@code escalation.threshold}, {@code escalation.max-share},
 * {@code escalation.deadline-ms}, {@code escalation.cloud-model} (the cloud model that answers,
 * when it is not the edge model's name: typically a larger model of the same task).
 */
public record EscalationPolicy(Measure measure, double threshold, double maxShare, Duration deadline, Optional<String> cloudModel) {
    /** How sure an answer is, 0..1, higher is surer. */
    public enum Measure {
        MAX_PROBABILITY, MARGIN, ENTROPY;

        double of(Confidence c) {
            return switch (this) {
                case MAX_PROBABILITY -> c.maxProbability();
                case MARGIN -> c.margin();
                case ENTROPY -> 1 - c.normalizedEntropy();
            };
        }
    }

    public EscalationPolicy(Measure measure, double threshold, double maxShare, Duration deadline) {
        this(measure, threshold, maxShare, deadline, Optional.empty());
    }

    public EscalationPolicy {
        java.util.Objects.requireNonNull(cloudModel, "cloudModel");
        cloudModel.ifPresent(m -> io.edgefleet.protocols.Checks.id(m, "escalation.cloud-model"));
        if (threshold < 0 || threshold > 1 || maxShare < 0 || maxShare > 1) {
            throw new IllegalArgumentException("escalation threshold and max-share must be in [0, 1]");
        }
        if (deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("escalation deadline must be positive");
        }
    }

    public double confidence(Confidence c) {
        return measure.of(c);
    }

    /** Reads the {@code escalation.*} settings; empty when {@code escalation.threshold} is not set. */
    public static Optional<EscalationPolicy> fromSettings(Map<String, String> s) {
        if (!s.containsKey("escalation.threshold")) {
            return Optional.empty();
        }
        try {
            Measure m = Measure.valueOf(s.getOrDefault("escalation.measure", "max_probability").toUpperCase(Locale.ROOT));
            return Optional.of(new EscalationPolicy(m, Double.parseDouble(s.get("escalation.threshold")),
                    Double.parseDouble(s.getOrDefault("escalation.max-share", "1.0")),
                    Duration.ofMillis(Long.parseLong(s.getOrDefault("escalation.deadline-ms", "1000"))),
                    Optional.ofNullable(s.get("escalation.cloud-model")).filter(v -> !v.isBlank())));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad escalation settings " + s + ": " + e.getMessage(), e);
        }
    }
}
