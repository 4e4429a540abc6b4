package io.edgefleet.cloud.drift;

import java.time.Duration;

/**
 * How drift is judged (config node {@code drift}; docs/drift.md explains the defaults).
 *
 * @param bins quantile bins of a reference feature ({@code bins}, default 10: the reference's deciles)
 * @param threshold PSI above which a window breaches ({@code threshold}, default 0.2)
 * @param consecutiveWindows breaching windows in a row that raise the alarm, and clean windows in a row that clear it
 *     ({@code consecutive-windows}, default 3)
 * @param minSamples the fewest values of a feature (requests, for a model taking one row per request) a window needs to
 *     be judged ({@code min-samples}, default 200); fewer: the window is recorded as not judged
 * @param referenceWindows without an operator's sample set, the judged-size windows of traffic that make the reference
 *     ({@code reference-windows}, default 20); also the windows that give a sample-set reference its confidence part
 * @param grace how long after a window's end batches for it are still merged before it is judged ({@code grace}, default
 *     the agent's window length plus its flush: 30 s)
 * @param maxOpenWindows the most (model, version, window) accumulations held at once; more are dropped and counted
 * @param window the judging window ({@code window}, ISO-8601): agents' windows are merged into windows of this length
 *     aligned to the epoch, so a fleet with little traffic per agent window still reaches {@code minSamples}; zero (the
 *     default) judges each agent window as it is
 */
public record DriftSettings(int bins, double threshold, int consecutiveWindows, long minSamples, int referenceWindows, Duration grace,
        int maxOpenWindows, Duration window) {
    public DriftSettings {
        if (bins < 2 || bins > 100) {
            throw new IllegalArgumentException("drift.bins must be 2..100, got " + bins);
        }
        if (!(threshold > 0) || !Double.isFinite(threshold)) {
            throw new IllegalArgumentException("drift.threshold must be a positive number, got " + threshold);
        }
        if (consecutiveWindows < 1 || minSamples < 1 || referenceWindows < 1 || maxOpenWindows < 1) {
            throw new IllegalArgumentException("drift.consecutive-windows, min-samples, reference-windows and max-open-windows must be >= 1");
        }
        if (grace == null || grace.isNegative()) {
            throw new IllegalArgumentException("drift.grace must be >= 0");
        }
        if (window == null || window.isNegative()) {
            throw new IllegalArgumentException("drift.window must be >= 0");
        }
    }

    public static DriftSettings defaults() {
        return new DriftSettings(10, 0.2, 3, 200, 20, Duration.ofSeconds(30), 4096, Duration.ZERO);
    }

    /** Reads the {@code drift} node's keys over the defaults. */
    public static DriftSettings from(io.helidon.config.Config node) {
        DriftSettings d = defaults();
        return new DriftSettings(node.get("bins").asInt().orElse(d.bins), node.get("threshold").asDouble().orElse(d.threshold),
                node.get("consecutive-windows").asInt().orElse(d.consecutiveWindows), node.get("min-samples").asLong().orElse(d.minSamples),
                node.get("reference-windows").asInt().orElse(d.referenceWindows),
                node.get("grace").as(Duration.class).orElse(d.grace), node.get("max-open-windows").asInt().orElse(d.maxOpenWindows),
                node.get("window").as(Duration.class).orElse(d.window));
    }
}
