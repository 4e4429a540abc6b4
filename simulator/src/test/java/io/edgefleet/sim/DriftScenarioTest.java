package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The input-drift fault: half the fleet's inputs shift by 2 standard deviations on 4 of 16 features 20 s into a steady
 * state; the report shows the drift alarm the control plane raised (its reference was posted at registration from the
 * scenario's input set), and nothing else in the run suffers.
 */
@Tag("slow")
class DriftScenarioTest {
    @TempDir
    Path dir;

    static final String SCENARIO = """
            name: drift
            seed: 5
            duration: 6m
            fleet:
              name: drift
              devices:
                - { profile: raspberry-pi-4-4gb, count: 8 }
                - { profile: intel-nuc-13-pro-i5, count: 8 }
              telemetry-window: 500ms
              heartbeat: 5s
            broker: mosquitto
            load: { requests-per-second: 5, inputs: 512 }
            steps:
              - register: { version: "1", kind: good }
              - rollout:
                  version: "1"
                  waves: [ { percent: 100 } ]
                  commandTimeout: 60s
                  expect: succeeded
              - wait: 60s
            faults:
              - { type: input-drift, share: 0.5, shift: 2.0, features: 4, step: wait-2, after: 20s }
            """;

    @Test
    void a_device_group_whose_inputs_shift_raises_the_drift_alarm_and_the_report_shows_it() throws Exception {
        SimRun run = SimRun.passingOnMosquitto(Scenario.parse(SCENARIO), dir);
        Report r = run.report();
        String out = run.console();
        Report.FaultResult drift = run.fault("input-drift");
        assertThat(drift.devices()).hasSize(8);
        assertThat(drift.outcome()).startsWith("drift alarm for activity/1");
        assertThat(drift.measured()).containsKey("alarmSeconds");
        assertThat((String) drift.measured().get("worstFeature")).as("a shifted feature is the worst").isIn("x[0]", "x[1]", "x[2]", "x[3]");
        assertThat(out).contains("input-drift");
    }
}
