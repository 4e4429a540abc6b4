package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** {@code rollout status}'s gate lines: each value next to its gate's threshold, no float noise. */
class RolloutSummaryTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void gate_values_stand_next_to_their_thresholds_rounded_for_reading() throws Exception {
        String line = RolloutCommands.Status.summary(JSON.readTree("""
                {"reportingDevices": 2, "requests": 34, "errorRate": 0.0, "p95Ms": 12.345678901234567,
                 "confidenceDrop": 0.41699999999999993, "installFailures": 0, "failures": ["mean confidence dropped"]}
                """), JSON.readTree("""
                {"minDevices": 3, "maxInstallFailures": 2, "maxConfidenceDrop": 0.15, "minSamples": 30}
                """));
        assertThat(line).isEqualTo("reportingDevices=2 (min 3) requests=34 errorRate=0 p95Ms=12.3 confidenceDrop=0.417 (max 0.15) "
                + "installFailures=0 (max 2) failures=[\"mean confidence dropped\"]");
    }

    @Test
    void the_drift_gate_reading_stands_in_the_gate_line() throws Exception {
        String alarm = RolloutCommands.Status.summary(JSON.readTree("""
                {"installFailures": 0, "staleAfterUpdate": 0, "driftWindows": 2, "driftThreshold": 0.2, "driftReference": "samples",
                 "driftMaxPsi": 3.917812, "driftWorstFeature": "x[0]", "driftAlarm": true, "baselineDriftAlarm": false}
                """), JSON.readTree("{\"noDriftAlarm\": true}"));
        assertThat(alarm).isEqualTo("installFailures=0 staleAfterUpdate=0 drift=x[0] PSI 3.92 in alarm (2 window(s) judged, threshold 0.2)");
        String waiting = RolloutCommands.Status.summary(JSON.readTree("""
                {"staleAfterUpdate": 0, "driftWindows": 0, "driftThreshold": 0.2, "driftReference": "none", "baselineDriftAlarm": true}
                """), JSON.readTree("{}"));
        assertThat(waiting).isEqualTo("staleAfterUpdate=0 drift=not judged yet (0 window(s), reference none, threshold 0.2) baselineDrift=alarm");
        assertThat(RolloutCommands.Status.summary(JSON.readTree("{\"staleAfterUpdate\": 0}"), JSON.readTree("{}")))
                .as("the gate off: no drift part").isEqualTo("staleAfterUpdate=0");
    }
}
