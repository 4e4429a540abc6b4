package io.edgefleet.cloud.rollout;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.edgefleet.cloud.fleet.Selector;
import io.edgefleet.protocols.Checks;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * What a rollout does (JSON or YAML, {@code ./edgefleet rollout create FILE.yaml}):
 *
 * <pre>
 * model: kws
 * version: "2"
 * selector: fleet=plant-7,tag=line-3      # devices; those that match later join the next wave
 * waves:                                  # cumulative share (percent) or count of the selected devices
 *   - { percent: 1, bake: 10m }
 *   - { percent: 10, bake: 30m }
 *   - { percent: 100, bake: 0s }
 * maxConcurrent: 50                       # devices downloading at once
 * maxPerMinute: 600                       # devices commanded per minute
 * commandTimeout: 10m                     # per attempt; then retried, then timed-out
 * retries: 2
 * onFailure: rollback                     # or pause
 * gates:
 *   minDevices: 1                         # reporting devices of the wave before a gate is judged
 *   minRequests: 0                        # and requests of the wave (a mean of four requests is noise)
 *   maxInstallFailures: 0                 # failed or timed-out installs in the rollout so far
 *   maxErrorRate: 0.05                    # errors / requests of the wave on the new version
 *   maxErrorRateIncrease: 0.02            # ... minus the baseline's (devices still on the old version)
 *   maxP95Ratio: 2.0                      # wave p95 / baseline p95
 *   maxConfidenceDrop: 0.1                # baseline mean confidence - wave mean confidence
 *   maxEscalationShare: 0.3               # escalated / requests
 *   maxNonFiniteRate: 0                   # answers with NaN or infinity / requests
 *   maxStale: 0                           # updated devices gone stale or offline
 *   maxClientErrorRateIncrease: 0.05      # requests refused as the client's mistake / requests, minus the baseline's
 *                                         # (judged with 50+ requests a side, 10+ refusals and z >= 3)
 * </pre>
 * Durations: {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h} or ISO-8601 ({@code PT30S}).
 */
public record RolloutSpec(String model, String version, String selector, List<Wave> waves, Optional<Integer> maxConcurrent,
        Optional<Integer> maxPerMinute, Optional<String> commandTimeout, Optional<Integer> retries, Optional<String> onFailure,
        Optional<Gates> gates) {

    public RolloutSpec {
        Checks.id(model, "model");
        Checks.id(version, "version");
        selector = selector == null ? "" : selector;
        Selector.parse(selector);
        if (waves == null || waves.isEmpty()) {
            throw new IllegalArgumentException("waves: at least one wave, e.g. [{percent: 10, bake: 5m}, {percent: 100}]");
        }
        waves = List.copyOf(waves);
        double last = 0;
        for (int i = 0; i < waves.size(); i++) {
            Wave w = waves.get(i);
            if (w.percent().isPresent() == w.count().isPresent()) {
                throw new IllegalArgumentException("waves[" + i + "]: give exactly one of percent and count");
            }
            if (w.percent().isPresent()) {
                double p = w.percent().getAsDouble();
                if (p <= 0 || p > 100 || p < last) {
                    throw new IllegalArgumentException("waves[" + i + "].percent: " + p + " must be in (0, 100] and not below the wave before");
                }
                last = p;
            } else if (w.count().getAsInt() < 1) {
                throw new IllegalArgumentException("waves[" + i + "].count must be >= 1");
            }
            w.bakeDuration();
        }
        maxConcurrent = maxConcurrent == null ? Optional.empty() : maxConcurrent;
        maxPerMinute = maxPerMinute == null ? Optional.empty() : maxPerMinute;
        commandTimeout = commandTimeout == null ? Optional.empty() : commandTimeout;
        commandTimeout.ifPresent(t -> parseDuration(t, "commandTimeout"));
        retries = retries == null ? Optional.empty() : retries;
        onFailure = onFailure == null ? Optional.empty() : onFailure;
        onFailure.ifPresent(f -> {
            if (!f.equals("rollback") && !f.equals("pause")) {
                throw new IllegalArgumentException("onFailure: '" + f + "' is not rollback or pause");
            }
        });
        gates = gates == null ? Optional.empty() : gates;
    }

    /** One wave: a cumulative share ({@code percent}) or number ({@code count}) of the devices, then a bake time. */
    public record Wave(OptionalDouble percent, OptionalInt count, Optional<String> bake) {
        public Wave {
            percent = percent == null ? OptionalDouble.empty() : percent;
            count = count == null ? OptionalInt.empty() : count;
            bake = bake == null ? Optional.empty() : bake;
        }

        @JsonIgnore
        public Duration bakeDuration() {
            return bake.map(b -> parseDuration(b, "bake")).orElse(Duration.ZERO);
        }
    }

    /** Health gates; an absent threshold is not checked. */
    public record Gates(Optional<Integer> minDevices, Optional<Integer> maxInstallFailures, OptionalDouble maxErrorRate,
            OptionalDouble maxErrorRateIncrease, OptionalDouble maxP95Ratio, OptionalDouble maxConfidenceDrop, OptionalDouble maxEscalationShare,
            OptionalDouble maxNonFiniteRate, Optional<Integer> maxStale, Optional<Integer> minRequests,
            OptionalDouble maxClientErrorRateIncrease) {
        public Gates {
            maxClientErrorRateIncrease = maxClientErrorRateIncrease == null ? OptionalDouble.empty() : maxClientErrorRateIncrease;
            if (maxClientErrorRateIncrease.isPresent() && !(maxClientErrorRateIncrease.getAsDouble() >= 0
                    && maxClientErrorRateIncrease.getAsDouble() <= 1)) {
                throw new IllegalArgumentException("gates.maxClientErrorRateIncrease must be a share between 0 and 1");
            }
            minRequests = minRequests == null ? Optional.empty() : minRequests;
            if (minRequests.isPresent() && minRequests.get() < 0) {
                throw new IllegalArgumentException("gates.minRequests must be >= 0");
            }
            minDevices = minDevices == null ? Optional.empty() : minDevices;
            maxInstallFailures = maxInstallFailures == null ? Optional.empty() : maxInstallFailures;
            maxErrorRate = maxErrorRate == null ? OptionalDouble.empty() : maxErrorRate;
            maxErrorRateIncrease = maxErrorRateIncrease == null ? OptionalDouble.empty() : maxErrorRateIncrease;
            maxP95Ratio = maxP95Ratio == null ? OptionalDouble.empty() : maxP95Ratio;
            maxConfidenceDrop = maxConfidenceDrop == null ? OptionalDouble.empty() : maxConfidenceDrop;
            maxEscalationShare = maxEscalationShare == null ? OptionalDouble.empty() : maxEscalationShare;
            maxNonFiniteRate = maxNonFiniteRate == null ? OptionalDouble.empty() : maxNonFiniteRate;
            maxStale = maxStale == null ? Optional.empty() : maxStale;
        }

        public static Gates defaults() {
            return new Gates(Optional.of(1), Optional.of(0), OptionalDouble.empty(), OptionalDouble.of(0.05), OptionalDouble.of(3.0),
                    OptionalDouble.of(0.2), OptionalDouble.empty(), OptionalDouble.of(0.0), Optional.of(0), Optional.empty(), OptionalDouble.of(0.05));
        }
    }

    @JsonIgnore
    public Gates gatesOrDefault() {
        return gates.orElse(Gates.defaults());
    }

    @JsonIgnore
    public Duration timeout() {
        return commandTimeout.map(t -> parseDuration(t, "commandTimeout")).orElse(Duration.ofMinutes(10));
    }

    @JsonIgnore
    public boolean rollbackOnFailure() {
        return onFailure.orElse("rollback").equals("rollback");
    }

    public static Duration parseDuration(String s, String field) {
        String t = s.strip();
        try {
            if (t.startsWith("P") || t.startsWith("p")) {
                return Duration.parse(t);
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            long n = Long.parseLong(t.substring(0, t.length() - 1));
            return switch (t.charAt(t.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                case 'd' -> Duration.ofDays(n);
                default -> throw new NumberFormatException();
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(field + ": '" + s + "' is not a duration (500ms, 30s, 10m, 1h, or ISO-8601)");
        }
    }
}
