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
    void the_shadow_ab_scenario_parses_with_its_shadow_waves_disagreeing_candidates_experiment_and_drift() throws Exception {
        StringWriter out = new StringWriter();
        assertThat(Main.run(new PrintWriter(out), new PrintWriter(new StringWriter()), "demo", "--scenario", "shadow-ab", "--print")).isZero();
        Scenario sc = Scenario.parse(out.toString());
        assertThat(sc.name()).isEqualTo("shadow-ab");
        assertThat(sc.fleet().shadowShare()).hasValue(0.5);
        assertThat(sc.steps()).filteredOn(s -> s instanceof Scenario.Register).extracting(s -> ((Scenario.Register) s).disagree())
                .containsExactly(0.0, 0.3, 0.01, 0.0);
        Scenario.Experiment e = (Scenario.Experiment) sc.steps().stream().filter(s -> s instanceof Scenario.Experiment).findFirst().orElseThrow();
        assertThat(e.version()).isEqualTo("4");
        assertThat(e.share()).isEqualTo(0.5);
        assertThat(e.expectJudged()).isTrue();
        assertThat(ShadowReadout.shadowWaves(((Scenario.Rollout) sc.steps().get(3)).spec())).containsExactly(1);
        assertThat(sc.faults()).extracting(Scenario.Fault::type).containsExactly(Scenario.FaultType.INPUT_DRIFT);
        StringWriter err = new StringWriter();
        assertThat(Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), "demo", "--scenario", "nope", "--print")).isEqualTo(Main.USAGE);
        assertThat(err.toString()).contains("no built-in scenario 'nope' (demo, shadow-ab)");
    }

    @Test
    void shadow_and_experiment_mistakes_are_refused_with_the_field_named() {
        String ab = BASE + "  - register: { version: \"2\" }\n  - experiment: { version: \"2\", share: 0.5, for: 10s }\n";
        assertThat(Scenario.parse(ab).steps().get(3)).isEqualTo(new Scenario.Experiment("experiment-v2", "2", 0.5, "share", java.time.Duration.ofSeconds(10),
                false));
        assertRefused(ab.replace("share: 0.5", "share: 1"), "steps[3].experiment.share must be a number strictly between 0 and 1");
        assertRefused(ab.replace("share: 0.5", "share: 0.5, split-by: hash"), "steps[3].experiment.split-by: share or key, got 'hash'");
        assertRefused(ab.replace(", for: 10s", ""), "steps[3].experiment.for: how long the experiment runs is required");
        assertRefused(ab.replace("experiment: { version: \"2\"", "experiment: { version: \"7\""), "steps[3].experiment.version: version 7 is not registered");
        assertRefused(ab.replace("for: 10s", "for: 10s, arms: 2"), "steps[3].experiment.arms: unknown field");
        assertRefused(BASE.replace("register: { version: \"1\" }", "register: { version: \"1\", disagree: 0.9 }"),
                "steps[0].register.disagree: a share of inputs in [0, 0.6]");
        assertRefused(BASE.replace("count: 3 } ]", "count: 3 } ]\n  shadow-share: 0"), "fleet.shadow-share must be in (0, 1]");
    }

    @Test
    void a_disagreeing_version_differs_from_its_kind_on_the_share_asked_for_on_fresh_inputs() {
        ActivityModels m = new ActivityModels(20);
        ActivityModels.InputSet fresh = ActivityModels.InputSet.of(m, 20_000, 99); // not the inputs the bisection used
        for (double share : new double[] {0.01, 0.3}) {
            float[][] w = m.weights(ActivityModels.Kind.GOOD, share);
            float[][] base = m.weights(ActivityModels.Kind.GOOD);
            int differ = 0;
            for (float[] x : fresh.inputs()) {
                differ += ActivityModels.argmax(ActivityModels.logits(x, w)) != ActivityModels.argmax(ActivityModels.logits(x, base)) ? 1 : 0;
            }
            // binomial sd at 20,000 inputs is at most 0.0033; 0.015 leaves the bisection's own sampling error room
            assertThat((double) differ / fresh.size()).as("asked %s", share).isCloseTo(share, org.assertj.core.data.Offset.offset(0.015));
        }
        assertThat(m.weights(ActivityModels.Kind.GOOD, 0)).isDeepEqualTo(m.weights(ActivityModels.Kind.GOOD));
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
