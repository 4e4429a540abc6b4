package io.edgefleet.cloud.ab;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * An A/B experiment (docs/ab.md).
 *
 * @param versionA arm A: the version the devices had active when it started
 * @param versionB arm B: the candidate
 * @param share arm B's share of requests, strictly between 0 and 1
 * @param splitBy {@code share} (a draw per request) or {@code key} (sticky per client key)
 * @param devices {@code fleet/device} of every device commanded
 * @param state {@code running} or {@code stopped}
 */
public record Experiment(String id, String model, String versionA, String versionB, double share, String splitBy, List<String> devices,
        String state, Instant createdAt, Optional<Instant> stoppedAt) {
    public static final String RUNNING = "running";
    public static final String STOPPED = "stopped";

    public Experiment {
        devices = List.copyOf(devices);
    }
}
