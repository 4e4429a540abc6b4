package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short scenario end to end: 20 real agents of three profiles on the embedded broker with the
 * real control plane; v1 rolled out, v2 (delta) with the broker restarted in the middle of it and
 * corrupted chunks served to some devices, then a badly calibrated v3 that the gates stop in
 * wave 1 and roll back. Asserts the outcomes from the report and from the files written.
 */
class SimulationTest {
    @TempDir
    Path dir;

    static final String SCENARIO = """
            name: short
            seed: 7
            duration: 5m
            fleet:
              name: short
              devices:
                - { profile: raspberry-pi-4-4gb, count: 8 }
                - { profile: jetson-orin-nano-8gb, count: 6 }
                - { profile: intel-nuc-13-pro-i5, count: 6 }
              telemetry-window: 500ms
            broker: embedded
            escalation: { threshold: 0.8, max-share: 0.5, deadline: 500ms }
            load: { requests-per-second: 2, inputs: 256 }
            steps:
              - register: { version: "1", kind: rough }
              - rollout:
                  version: "1"
                  waves: [ { percent: 25 }, { percent: 100 } ]
                  commandTimeout: 30s
                  gates: { minDevices: 2, maxInstallFailures: 1 }
                  expect: succeeded
              - register: { version: "2", kind: good }
              - rollout:
                  version: "2"
                  waves: [ { percent: 20, bake: 4s }, { percent: 100 } ]
                  commandTimeout: 30s
                  gates: { minDevices: 2, minRequests: 20, maxInstallFailures: 1, maxConfidenceDrop: 0.15 }
                  expect: succeeded
              - register: { version: "3", kind: uncalibrated }
              - rollout:
                  version: "3"
                  waves: [ { percent: 20, bake: 10s }, { percent: 100 } ]
                  commandTimeout: 30s
                  gates: { minDevices: 2, minRequests: 20, maxConfidenceDrop: 0.15 }
                  expect: rolled-back
            faults:
              - { type: broker-restart, step: rollout-v2, after: 2s, down: 2s }
              - { type: corrupt-chunks, share: 0.2, step: rollout-v2 }
            """;

    @Test
    void short_scenario_v2_everywhere_v3_stopped_in_wave_1_nothing_lost_across_a_broker_restart() throws Exception {
        SimRun run = SimRun.of(Scenario.parse(SCENARIO), dir);
        Report r = run.report();
        String out = run.console();
        assertThat(r.expectations()).as(out).allMatch(Report.Expectation::ok);
        assertThat(r.passed()).isTrue();

        // v1 and v2 everywhere in turn, v3 stopped in wave 1 (4 of 20 devices) and rolled back
        Report.StepResult v2 = step(r, "rollout-v2");
        Report.StepResult v3 = step(r, "rollout-v3");
        assertThat(step(r, "rollout-v1").state()).contains("succeeded");
        assertThat(v2.state()).contains("succeeded");
        assertThat(v2.waves().stream().mapToLong(w -> w.states().getOrDefault("activated", 0L)).sum()).isEqualTo(20);
        assertThat(v3.state()).contains("rolled-back");
        assertThat(v3.stoppedInWave()).contains(1);
        assertThat(v3.reason().orElse("")).contains("confidence");
        assertThat(v3.waves().get(0).devices()).isEqualTo(4);
        assertThat(v3.waves().get(1).states()).containsOnlyKeys("pending");
        assertThat(v3.gates()).anyMatch(g -> !g.passed() && g.values().containsKey("confidenceDrop"));
        assertThat(r.timeline().getLast().versions()).containsExactly(java.util.Map.entry("2", 20));

        // v2 shares the backbone with v1: a delta; the corrupted chunks were caught and fetched again
        assertThat(v2.sync()).isPresent();
        assertThat(v2.sync().get().ratio()).isLessThan(0.5);
        assertThat(v2.sync().get().corruptedChunks()).isPositive();
        assertThat(step(r, "rollout-v1").sync().get().ratio()).isGreaterThan(0.95);

        // the broker restart: everyone back, and every request the agents recorded reached the cloud exactly once
        Report.FaultResult restart = r.faults().stream().filter(f -> f.type().equals("broker-restart")).findFirst().orElseThrow();
        assertThat(restart.measured()).containsEntry("reconnected", 20L);
        assertThat(r.timeline()).anyMatch(s -> !s.brokerUp());
        assertThat(r.telemetry().recorded()).isPositive();
        assertThat(r.telemetry().lost()).isZero();
        assertThat(r.telemetry().ingested()).isEqualTo(r.telemetry().recorded());

        // secured: the broker came back with TLS and client certificates, every agent enrolled once with the
        // fleet's token (restarts reload the identity), and the control plane refused none of their signed messages
        assertThat(r.broker()).contains("TLS with client certificates");
        assertThat(r.security()).hasValueSatisfying(x -> {
            assertThat(x.enrolled()).isEqualTo(20);
            assertThat(x.signedMessagesRequired()).isTrue();
            assertThat(x.refused()).as(x.refusedByReason().toString()).isZero();
        });

        // joint inference: the cloud answered the unsure share, and the answers beat the edge model alone
        Report.VersionStats s2 = r.requests().byVersion().get("v2");
        assertThat(s2.cloudAnswered()).isPositive();
        assertThat(s2.accuracy()).isGreaterThan(s2.edgeAccuracy());
        assertThat(r.requests().byVersion().get("v1").edgeAccuracy()).isLessThan(s2.edgeAccuracy());

        // the files: well-formed JSON with the same outcome, a self-contained HTML page with charts
        JsonNode json = new ObjectMapper().readTree(Files.readString(dir.resolve("report.json")));
        assertThat(json.get("passed").asBoolean()).isTrue();
        assertThat(json.get("steps")).hasSize(6);
        assertThat(json.get("timeline").size()).isGreaterThan(5);
        String html = Files.readString(dir.resolve("report.html"));
        assertThat(html).startsWith("<!DOCTYPE html>").contains("<svg", "PASSED", "activated devices per wave", "bytes synced", "broker-restart")
                .doesNotContain("src=\"http", "href=\"http");
        assertThat(out).contains("PASSED: ", "report: " + dir.resolve("report.html"));

        // the page a reader opens: waves numbered from 1 in the charts, the gate tables and the JSON alike; the last
        // wave's activations recorded; fault shading inside the plots; no class names, nulls or float noise
        ReportPage page = new ReportPage(html);
        page.assertReadable();
        for (String name : java.util.List.of("rollout-v1", "rollout-v2", "rollout-v3")) {
            Report.StepResult s = step(r, name);
            java.util.List<Integer> waves = s.waves().stream().map(Report.WaveResult::wave).toList();
            assertThat(waves).as(name).containsExactly(1, 2);
            assertThat(page.chartWaves(name)).as(name).isEqualTo(waves);
            assertThat(page.gateWaves(name)).as(name).isNotEmpty().first().isEqualTo(1);
            assertThat(waves).as(name).containsAll(page.gateWaves(name));
            assertThat(s.gates()).extracting(Report.Gate::wave).as(name).isSubsetOf(waves);
            assertThat(page.gateHeadings(name)).as(name).anyMatch(h -> h.startsWith("minDevices: reporting devices min 2"));
        }
        for (String name : java.util.List.of("rollout-v1", "rollout-v2")) {
            Report.StepResult s = step(r, name);
            java.util.Map<Integer, Long> activated = new java.util.TreeMap<>();
            s.waves().forEach(w -> activated.put(w.wave(), w.states().getOrDefault("activated", 0L)));
            assertThat(activated.get(2)).as(name + ": the last wave activated devices").isPositive();
            assertThat(s.activations().getLast().activatedByWave()).as(name + ": the last sample holds every wave's activations")
                    .isEqualTo(activated);
        }
        assertThat(v3.gates()).allMatch(g -> g.wave() == 1);
    }

    private static Report.StepResult step(Report r, String name) {
        return r.steps().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }
}
