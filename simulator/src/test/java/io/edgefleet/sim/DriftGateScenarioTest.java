package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drift gate in a simulated fleet: every device's inputs shift by 2 standard deviations on 4 of 16 features as v2's
 * rollout starts; v2's reference is the scenario's input set (posted at registration), so its first wave's windows
 * breach, the monitor raises v2's alarm and the rollout, gated by {@code noDriftAlarm}, is rolled back in wave 1 with
 * the drift sentence as its reason, shown in the report.
 */
@Tag("slow")
class DriftGateScenarioTest {
    @TempDir
    Path dir;

    static final String SCENARIO = """
            name: drift-gate
            seed: 7
            duration: 6m
            fleet:
              name: driftgate
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
              - register: { version: "2", kind: good }
              - rollout:
                  version: "2"
                  waves: [ { percent: 50 }, { percent: 100 } ]
                  commandTimeout: 60s
                  gates: { noDriftAlarm: true }
                  expect: rolled-back
            faults:
              - { type: input-drift, share: 1.0, shift: 2.0, features: 4, step: rollout-v2, after: 0s }
            """;

    @Test
    void a_rollout_gated_on_drift_is_rolled_back_in_wave_one_when_every_input_shifts() throws Exception {
        SimRun run = SimRun.passingOnMosquitto(Scenario.parse(SCENARIO), dir);
        Report r = run.report();
        String out = run.console();
        Report.StepResult v2 = run.step("rollout-v2");
        assertThat(v2.state()).hasValue("rolled-back");
        assertThat(v2.reason().orElseThrow()).as(out).startsWith("input drift on activity/2: the drift alarm is raised");
        assertThat(v2.stoppedInWave()).hasValue(1);
        assertThat(out).contains("input drift on activity/2");
    }
}
