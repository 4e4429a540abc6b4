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

    @Test
    void the_shadow_line_shows_the_readings_next_to_the_shadow_gates() throws Exception {
        String line = RolloutCommands.Status.shadowLine(JSON.readTree("""
                {"gates": {"minSamples": 200, "minAgreement": 0.95, "maxLatencyRatio": 2.0, "minLatencyIncreaseMs": 1.0, "maxNonFinite": 0,
                           "minDevices": 1},
                 "totals": {"samples": 174, "agreements": 122, "agreement": 0.7011494252873564, "latencyRatio": 0.7581234,
                            "confidenceDiff": -0.0123456, "nonFinite": 0, "dropped": 3, "devices": 1}}
                """));
        assertThat(line).isEqualTo("shadow: 174 samples on 1 device(s): agreement 70.1% (min 95%), latency ratio 0.758 (max 2), "
                + "confidence diff -0.0123, non-finite 0 (max 0), dropped 3");
        assertThat(RolloutCommands.Status.shadowLine(JSON.readTree("""
                {"gates": {"minSamples": 200}, "totals": {"samples": 0, "dropped": 0}}"""))).isEqualTo("shadow: no samples yet (min 200), dropped 0");
    }

    private static final String SPEC = """
            {"model": "clf", "version": "2", "state": "%s",
             "spec": {"waves": [{"percent": 50, "mode": "shadow"}, {"percent": 50}, {"percent": 100}]}}""";

    @Test
    void a_shadow_wave_and_the_normal_wave_after_it_at_the_same_percent_are_separate_steps_labelled_shadow() throws Exception {
        var shadowing = JSON.readTree("""
                {"rollout": %s, "currentWave": 1,
                 "devices": [{"device": "d1", "wave": 1, "state": "shadowing"}, {"device": "d2", "wave": 3, "state": "pending"}]}
                """.formatted(SPEC.formatted("running")));
        assertThat(RolloutCommands.Status.waveLines(shadowing)).containsExactly(
                "wave 1 shadow [" + "#".repeat(30) + "] 1/1  {shadowing=1} (candidate loaded next to the active version; never answers)",
                "wave 2 [" + ".".repeat(30) + "] 0/0  {}",
                "wave 3 [" + ".".repeat(30) + "] 0/1  {pending=1}");
        var deploying = JSON.readTree("""
                {"rollout": %s, "currentWave": 2,
                 "devices": [{"device": "d1", "wave": 1, "state": "commanded"}, {"device": "d2", "wave": 3, "state": "pending"}]}
                """.formatted(SPEC.formatted("running")));
        assertThat(RolloutCommands.Status.waveLines(deploying)).as("the first normal wave deploys to the shadow wave's device").containsExactly(
                "wave 1 shadow [" + "#".repeat(30) + "] 1/1  {commanded=1} (shadow step over; the next wave deploys to these devices)",
                "wave 2 [" + ".".repeat(30) + "] 0/1  {commanded=1}",
                "wave 3 [" + ".".repeat(30) + "] 0/1  {pending=1}");
        var deployed = JSON.readTree("""
                {"rollout": %s, "currentWave": 3,
                 "devices": [{"device": "d1", "wave": 1, "state": "activated"}, {"device": "d2", "wave": 3, "state": "commanded"}]}
                """.formatted(SPEC.formatted("running")));
        assertThat(RolloutCommands.Status.waveLines(deployed)).containsExactly(
                "wave 1 shadow [" + "#".repeat(30) + "] 1/1  {activated=1} (shadow step over; the next wave deploys to these devices)",
                "wave 2 [" + "#".repeat(30) + "] 1/1  {activated=1}",
                "wave 3 [" + ".".repeat(30) + "] 0/1  {commanded=1}");
    }

    @Test
    void a_rollback_in_the_shadow_wave_is_said_so_and_the_normal_waves_never_started() throws Exception {
        // a shadow + one normal wave, counted in devices; the shadow gate failed: the candidate is no longer loaded anywhere
        String spec = """
                {"model": "clf", "version": "2", "state": "rolled-back",
                 "spec": {"waves": [{"count": 1, "mode": "shadow"}, {"count": 2}]}}""";
        var rolledBack = JSON.readTree("""
                {"rollout": %s, "currentWave": 1,
                 "devices": [{"device": "d1", "wave": 1, "state": "rolled-back"}, {"device": "d2", "wave": 2, "state": "pending"}]}
                """.formatted(spec));
        assertThat(RolloutCommands.Status.waveLines(rolledBack)).containsExactly(
                "wave 1 shadow [" + "#".repeat(30) + "] 1/1  {rolled-back=1} (stopped in the shadow step: rolled-back; no device answered with the candidate)",
                "wave 2 [" + ".".repeat(30) + "] 0/1  {pending=1}");
        var later = JSON.readTree("""
                {"rollout": %s, "currentWave": 2,
                 "devices": [{"device": "d1", "wave": 1, "state": "rolled-back"}, {"device": "d2", "wave": 2, "state": "rolled-back"}]}
                """.formatted(spec));
        assertThat(RolloutCommands.Status.waveLines(later).get(0)).endsWith(
                "(shadow step over; the next wave deployed to these devices, then the rollout was rolled-back)");
        assertThat(RolloutCommands.Status.waveLines(later).get(1)).isEqualTo("wave 2 [" + "#".repeat(30) + "] 2/2  {rolled-back=2}");
    }

    @Test
    void the_gates_line_includes_the_shadow_gates() throws Exception {
        var s = JSON.readTree("""
                {"gates": {"maxErrorRate": 0.05, "maxInstallFailures": 0},
                 "shadow": {"gates": {"minSamples": 150, "minAgreement": 0.95, "maxLatencyRatio": 2.0}}}""");
        assertThat(RolloutCommands.Status.gatesLine(s)).contains(
                "gates in force: maxErrorRate=0.05 maxInstallFailures=0; shadowGates: minSamples=150 minAgreement=0.95 maxLatencyRatio=2.0");
        assertThat(RolloutCommands.Status.gatesLine(JSON.readTree("{\"gates\": {\"maxErrorRate\": 0.05}}")))
                .as("no shadow wave: no shadowGates part").contains("gates in force: maxErrorRate=0.05");
    }
}
