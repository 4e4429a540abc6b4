package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every fault in one longer scenario, on a Mosquitto the simulator starts: a partition, slow
 * links, corrupted chunks, agents killed and restarted, and a broker restart, all while v2 rolls
 * out. Slow (about two minutes).
 */
@Tag("slow")
class FaultScenarioTest {
    @TempDir
    Path dir;

    static final String SCENARIO = """
            name: faults
            seed: 11
            duration: 10m
            fleet:
              name: faults
              devices:
                - { profile: raspberry-pi-4-4gb, count: 12 }
                - { profile: jetson-orin-nano-8gb, count: 9 }
                - { profile: intel-nuc-13-pro-i5, count: 9 }
              telemetry-window: 500ms
              heartbeat: 5s
            broker: mosquitto
            escalation: { threshold: 0.8, max-share: 0.5, deadline: 500ms }
            load: { requests-per-second: 2, inputs: 256 }
            steps:
              - register: { version: "1", kind: rough }
              - rollout:
                  version: "1"
                  waves: [ { percent: 100 } ]
                  commandTimeout: 60s
                  expect: succeeded
              - register: { version: "2", kind: good }
              - rollout:
                  version: "2"
                  waves: [ { percent: 20, bake: 5s }, { percent: 60, bake: 5s }, { percent: 100 } ]
                  commandTimeout: 40s
                  retries: 3
                  gates: { minDevices: 2, maxInstallFailures: 2 }
                  expect: succeeded
              - wait: 10s
            faults:
              - { type: slow-link, share: 0.2, bytes-per-second: 65536, step: rollout-v2, for: 25s }
              - { type: corrupt-chunks, share: 0.2, step: rollout-v2 }
              - { type: partition, share: 0.1, step: rollout-v2, after: 3s, for: 8s }
              - { type: kill-agents, share: 0.1, step: rollout-v2, after: 6s, restart-after: 5s }
              - { type: broker-restart, step: rollout-v2, after: 15s, down: 2s }
            """;

    @Test
    void every_fault_during_a_rollout_and_the_fleet_still_converges_with_nothing_lost() throws Exception {
        SimRun run = SimRun.passingOnMosquitto(Scenario.parse(SCENARIO), dir);
        Report r = run.report();
        String out = run.console();
        assertThat(r.broker()).startsWith("mosquitto");
        assertThat(r.timeline().getLast().versions()).containsExactly(java.util.Map.entry("2", 30));

        Report.FaultResult partition = run.fault("partition");
        assertThat(partition.devices()).hasSize(3);
        assertThat((Long) partition.measured().get("markedOffline")).as(partition.outcome()).isEqualTo(3L);

        Report.FaultResult killed = run.fault("kill-agents");
        assertThat(killed.devices()).hasSize(3);
        assertThat(killed.measured()).containsEntry("restartFailures", 0);

        Report.FaultResult corrupt = run.fault("corrupt-chunks");
        assertThat((Long) corrupt.measured().get("corruptedChunks")).isPositive();
        assertThat(corrupt.measured()).containsEntry("installsFailed", 0L);

        Report.FaultResult slow = run.fault("slow-link");
        assertThat((Double) slow.measured().get("medianInstallSecondsCapped")).as(slow.outcome())
                .isGreaterThan((Double) slow.measured().get("medianInstallSecondsOthers"));

        assertThat(r.telemetry().lost()).isZero();
        assertThat(r.telemetry().ingested() + r.telemetry().lostOnKilled()).isEqualTo(r.telemetry().recorded());
        assertThat(r.telemetry().lostOnKilled()).as("a kill loses at most the open telemetry window").isLessThanOrEqualTo(r.telemetry().lostOnKilledBound());
    }
}
