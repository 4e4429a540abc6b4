package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scenario files: the demo's parses; mistakes are refused before anything starts, naming the field. */
class ScenarioTest {
    @TempDir
    Path dir;

    static final String BASE = """
            name: t
            fleet:
              devices: [ { profile: raspberry-pi-4-4gb, count: 3 } ]
            steps:
              - register: { version: "1" }
              - rollout: { version: "1", waves: [ { percent: 100 } ] }
            """;

    @Test
    void the_demo_scenario_parses_and_scales() throws Exception {
        StringWriter out = new StringWriter();
        assertThat(Main.run(new PrintWriter(out), new PrintWriter(new StringWriter()), "demo", "--print")).isZero();
        Scenario demo = Scenario.parse(out.toString());
        assertThat(demo.fleet().size()).isEqualTo(50);
        assertThat(demo.fleet().groups()).hasSize(3);
        assertThat(demo.steps()).hasSize(7);
        assertThat(demo.faults()).extracting(Scenario.Fault::type).contains(Scenario.FaultType.BROKER_RESTART);
        Scenario big = demo.withDevices(1000);
        assertThat(big.fleet().size()).isEqualTo(1000);
        assertThat(big.fleet().groups()).extracting(Scenario.Group::count).containsExactly(400, 300, 300);
        Scenario.Rollout r = (Scenario.Rollout) Scenario.parse(BASE).steps().get(1);
        assertThat(r.spec().get("model").asText()).isEqualTo("activity");
        assertThat(r.spec().get("selector").asText()).isEqualTo("fleet=sim");
    }

    @Test
    void mistakes_are_refused_with_the_field_named() {
        assertRefused(BASE.replace("name: t", "name: t\nbogus: 1"), "bogus: unknown field");
        assertRefused(BASE.replace("raspberry-pi-4-4gb", "toaster"), "fleet.devices[0].profile: unknown device profile 'toaster'");
        assertRefused(BASE.replace("count: 3", "count: 0"), "fleet.devices[0].count must be 1..100000");
        assertRefused(BASE.replace("rollout: { version: \"1\"", "rollout: { version: \"9\""), "steps[1].rollout.version: version 9 is not registered");
        assertRefused(BASE.replace("waves: [ { percent: 100 } ]", "waves: []"), "steps[1].rollout:");
        assertRefused(BASE.replace("waves: [ { percent: 100 } ]", "waves: [ { percent: 100 } ], expect: done"), "steps[1].rollout.expect");
        assertRefused(BASE.replace("waves: [ { percent: 100 } ]", "waves: [ { percent: 100 } ], gates: { minDevice: 3 }"),
                "steps[1].rollout: unknown key 'gates.minDevice'");
        assertRefused(BASE + "faults: [ { type: meteor } ]", "faults[0].type: unknown fault 'meteor'");
        assertRefused(BASE.replace("fleet:\n", "fleet:\n  telemetry-window: 25h\n"), "fleet.telemetry-window must be at most 1 day");
        assertThat(Scenario.parse(BASE.replace("fleet:\n", "fleet:\n  telemetry-window: 24h\n")).fleet().telemetryWindow())
                .isEqualTo(java.time.Duration.ofDays(1));
        assertRefused(BASE + "faults: [ { type: partition, share: 0.5 } ]", "faults[0].for: how long the partition lasts is required");
        assertRefused(BASE + "faults: [ { type: partition, step: nope, for: 1s } ]", "faults[0].step: no step is called 'nope'");
        assertRefused(BASE + "faults: [ { type: slow-link, share: 2 } ]", "faults[0].share must be in (0, 1]");
        assertRefused(BASE + "broker: rabbit", "broker: 'embedded'");
        assertRefused("- just\n- a list", "scenario must be a YAML mapping");
        assertRefused("name: [unclosed", "scenario is not valid YAML");
    }

    @Test
    void simulate_refuses_a_bad_file_with_a_usage_error_and_starts_nothing() throws Exception {
        Path f = Files.writeString(dir.resolve("bad.yaml"), BASE.replace("count: 3", "count: -1"));
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), "simulate", f.toString(), "--out", dir.resolve("out").toString());
        assertThat(code).isEqualTo(Main.USAGE);
        assertThat(err.toString()).contains("bad.yaml: fleet.devices[0].count must be 1..100000");
        assertThat(dir.resolve("out")).doesNotExist();
    }

    private static void assertRefused(String yaml, String message) {
        assertThatThrownBy(() -> Scenario.parse(yaml)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
    }
}
