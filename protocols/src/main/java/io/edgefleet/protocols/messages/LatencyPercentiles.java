package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;

/** Latency percentiles of a window, in milliseconds; each at least the one before. */
public record LatencyPercentiles(double p50, double p95, double p99, double max) {
    public LatencyPercentiles {
        Checks.finiteNonNegative(p50, "p50");
        Checks.finiteNonNegative(p95, "p95");
        Checks.finiteNonNegative(p99, "p99");
        Checks.finiteNonNegative(max, "max");
        if (p50 > p95 || p95 > p99 || p99 > max) {
            throw new ProtocolException("p50", "percentiles must not decrease: p50 " + p50 + ", p95 " + p95
                    + ", p99 " + p99 + ", max " + max);
        }
    }
}
