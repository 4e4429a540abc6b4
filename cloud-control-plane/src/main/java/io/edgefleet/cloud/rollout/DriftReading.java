package io.edgefleet.cloud.rollout;

import io.edgefleet.cloud.drift.DriftRepository.WindowScore;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What the drift gate ({@link DriftGate}) reads about a rollout's new version: the drift monitor's judged windows of
 * that version since the rollout was created and the monitor's own rule (docs/drift.md). Immutable.
 *
 * @param model the rollout's model
 * @param version the new version (the candidate)
 * @param windows the candidate's judged windows that started at or after the rollout's creation, newest first, at most
 *     {@code consecutiveWindows} of them
 * @param consecutiveWindows the monitor's {@code consecutive-windows}: breaching windows in a row that raise the alarm
 * @param threshold the monitor's {@code threshold} (PSI)
 * @param minSamples the monitor's {@code min-samples}: values per feature a window needs to be judged
 * @param referenceSource {@code samples} or {@code traffic} when the candidate has a reference, empty when not (yet)
 * @param learningWindows windows of traffic merged so far into a reference being learned, when one is
 * @param referenceWindows the monitor's {@code reference-windows}
 * @param baselineAlarm whether the version the rollout replaces is in drift alarm (its newest judged window), if known:
 *     shown, never judged (docs/drift.md explains why)
 */
public record DriftReading(String model, String version, List<WindowScore> windows, int consecutiveWindows, double threshold, long minSamples,
        Optional<String> referenceSource, OptionalDouble learningWindows, int referenceWindows, Optional<Boolean> baselineAlarm) {
    public DriftReading {
        windows = List.copyOf(windows);
    }
}
