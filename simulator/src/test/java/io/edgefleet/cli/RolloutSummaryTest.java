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
}
