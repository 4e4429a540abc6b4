package io.edgefleet.agent.telemetry;

import io.edgefleet.protocols.messages.InputStats;
import io.edgefleet.protocols.messages.LatencyPercentiles;
import io.edgefleet.protocols.messages.TelemetryRecord;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Random;
import java.util.TreeMap;

/** One model version's figures while a window is open. Not thread-safe; the recorder locks. */
final class Window {
    private static final int RESERVOIR = 4096;

    private long count;
    private long errors;
    private long escalations;
    private long cloudAnswers;
    private long cloudFailures;
    private double escalationMillis;
    private long nonFinite;
    private long lowConfidence;
    private double confidenceSum;
    private long confidenceN;
    private final double[] latencies = new double[RESERVOIR];
    private int kept;
    private double maxLatency;
    private final Random random = new Random(42);
    private final Map<String, Stats> inputs = new TreeMap<>();
    private final Map<String, Long> clientErrors = new TreeMap<>();
    private final io.edgefleet.protocols.drift.DriftAccumulator drift = new io.edgefleet.protocols.drift.DriftAccumulator();

    /** Welford's running mean and variance, with min and max. */
    static final class Stats {
        long n;
        double mean;
        double m2;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;

        void add(double x) {
            n++;
            double d = x - mean;
            mean += d / n;
            m2 += d * (x - mean);
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
    }

    void add(Observation o) {
        count++;
        if (o.clientError().isPresent()) {
            // a refused request is a request, never a model error, and has no latency or outputs to describe
            clientErrors.merge(o.clientError().get().wire(), 1L, Long::sum);
            return;
        }
        if (o.error()) {
            errors++;
        }
        if (o.escalated()) {
            escalations++;
            if (o.cloudAnswered()) {
                cloudAnswers++;
            } else {
                cloudFailures++;
            }
            escalationMillis += o.escalationMillis();
        }
        if (o.nonFinite()) {
            nonFinite++;
        }
        if (o.lowConfidence()) {
            lowConfidence++;
        }
        o.confidence().ifPresent(c -> {
            confidenceSum += c;
            confidenceN++;
            drift.addConfidence(c);
        });
        o.driftRows().forEach(drift::addRows);
        maxLatency = Math.max(maxLatency, o.latencyMillis());
        // reservoir sampling keeps the percentiles honest without unbounded memory
        if (kept < RESERVOIR) {
            latencies[kept++] = o.latencyMillis();
        } else {
            long j = (long) (random.nextDouble() * count);
            if (j < RESERVOIR) {
                latencies[(int) j] = o.latencyMillis();
            }
        }
        o.inputs().forEach((name, values) -> {
            Stats s = inputs.computeIfAbsent(name, k -> new Stats());
            for (double v : values) {
                if (Double.isFinite(v)) {
                    s.add(v);
                }
            }
        });
    }

    TelemetryRecord close(String model, String version, Instant start, Instant end) {
        double[] sorted = Arrays.copyOf(latencies, kept);
        Arrays.sort(sorted);
        LatencyPercentiles p = sorted.length == 0 ? new LatencyPercentiles(0, 0, 0, 0)
                : new LatencyPercentiles(at(sorted, 0.50), at(sorted, 0.95), at(sorted, 0.99), Math.max(maxLatency, sorted[sorted.length - 1]));
        Map<String, InputStats> in = new TreeMap<>();
        inputs.forEach((name, s) -> {
            if (s.n > 0) {
                in.put(name, new InputStats(s.mean, s.n > 1 ? Math.sqrt(s.m2 / (s.n - 1)) : 0, s.min, s.max));
            }
        });
        return new TelemetryRecord(model, version, start, end, count, errors, p,
                confidenceN == 0 ? OptionalDouble.empty() : OptionalDouble.of(Math.min(1, Math.max(0, confidenceSum / confidenceN))),
                escalations, nonFinite, lowConfidence, in,
                escalations == 0 ? java.util.Optional.empty()
                        : java.util.Optional.of(new io.edgefleet.protocols.messages.EscalationStats(cloudAnswers, cloudFailures, escalationMillis)),
                clientErrors, drift.stats());
    }

    private static double at(double[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1 < 0 ? 0 : Math.ceil(q * sorted.length) - 1)];
    }
}
