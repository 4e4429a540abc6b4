package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 1,000 real agents (or {@code -Dedgefleet.scale.devices=N}) on the embedded broker with the real
 * control plane, on whatever cores the host has: two rollouts (v1, then v2 as a delta), light
 * load. Slow (about ten minutes on two cores); the figures go to docs/benchmarks.md.
 */
@Tag("slow")
class ScaleTest {
    @TempDir
    Path dir;

    static final String SCENARIO = """
            name: scale
            seed: 5
            duration: 40m
            fleet:
              name: scale
              devices:
                - { profile: raspberry-pi-4-4gb, count: 400 }
                - { profile: jetson-orin-nano-8gb, count: 300 }
                - { profile: intel-nuc-13-pro-i5, count: 300 }
              telemetry-window: 5s
              heartbeat: 60s
            broker: embedded
            escalation: { threshold: 0.8, max-share: 0.5, deadline: 1s }
            load: { requests-per-second: 0.05, inputs: 512 }
            steps:
              - register: { version: "1", kind: rough }
              - rollout:
                  version: "1"
                  waves: [ { percent: 5 }, { percent: 100 } ]
                  maxConcurrent: 100
                  commandTimeout: 120s
                  retries: 3
                  gates: { minDevices: 5, maxInstallFailures: 10 }
                  timeout: 15m
                  expect: succeeded
              - register: { version: "2", kind: good }
              - rollout:
                  version: "2"
                  waves: [ { percent: 5, bake: 10s }, { percent: 100 } ]
                  maxConcurrent: 100
                  commandTimeout: 120s
                  retries: 3
                  gates: { minDevices: 5, minRequests: 20, maxInstallFailures: 10, maxConfidenceDrop: 0.15 }
                  timeout: 15m
                  expect: succeeded
            """;

    @Test
    void a_thousand_real_agents_take_two_rollouts_and_lose_no_telemetry() throws Exception {
        int n = Integer.getInteger("edgefleet.scale.devices", 1000);
        SimRun run = SimRun.of(Scenario.parse(SCENARIO).withDevices(n), dir);
        Report r = run.report();
        String out = run.console();
        System.out.println(out);
        assertThat(r.expectations()).as(out).allMatch(Report.Expectation::ok);
        assertThat(r.timeline().getLast().versions()).containsEntry("2", n);
        Report.StepResult v2 = r.steps().stream().filter(s -> s.name().equals("rollout-v2")).findFirst().orElseThrow();
        assertThat(v2.sync().orElseThrow().ratio()).isLessThan(0.5);
        assertThat(r.telemetry().lost()).isZero();
    }
}
