package io.edgefleet.cloud.rollout;

import io.edgefleet.cloud.drift.DriftMonitor;
import io.edgefleet.cloud.drift.DriftRepository;
import io.edgefleet.cloud.drift.DriftRepository.WindowScore;
import io.edgefleet.cloud.drift.DriftSettings;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Reads a {@link DriftReading} for the drift gate from the drift monitor's store: the candidate's judged windows since
 * the rollout was created (at most {@code consecutive-windows}), its reference and the baseline's newest window. Called
 * on the rollout engine's thread and by status requests; it only reads (two or three indexed queries).
 */
interface DriftReadings {
    /** No drift monitor: the drift gate waits, saying so. */
    DriftReadings NONE = (model, version, baseline, since) -> Optional.empty();

    /**
     * @param baseline the version the rollout replaces, if any
     * @param since the rollout's creation: windows that started before it are not counted
     */
    Optional<DriftReading> read(String model, String version, Optional<String> baseline, Instant since);

    /** Readings from {@code monitor}'s settings, repository and learning progress. */
    static DriftReadings of(DriftMonitor monitor) {
        return (model, version, baseline, since) -> {
            DriftSettings s = monitor.settings();
            DriftRepository repo = monitor.repository();
            List<WindowScore> windows = repo.recent(model, version, s.consecutiveWindows()).stream()
                    .filter(w -> !w.windowStart().isBefore(since)).toList();
            Optional<String> source = repo.reference(model, version).map(x -> x.profile().source());
            Optional<Boolean> baselineAlarm = baseline.flatMap(b -> repo.recent(model, b, 1).stream().findFirst()).map(WindowScore::alarm);
            return Optional.of(new DriftReading(model, version, windows, s.consecutiveWindows(), s.threshold(), s.minSamples(), source,
                    monitor.learningWindows(model, version), s.referenceWindows(), baselineAlarm));
        };
    }
}
