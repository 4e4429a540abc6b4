package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's own scenario file ({@code ./edgefleet demo}), unchanged except scaled to 20 devices,
 * with its own expectations: the README's first command must keep passing, so the file it runs is
 * tested as shipped rather than through a look-alike.
 */
class DemoScenarioTest {
    @TempDir
    Path dir;

    @Test
    void the_demo_scenario_at_20_devices_meets_every_expectation_it_states() throws Exception {
        String yaml;
        try (InputStream in = Simulation.class.getResourceAsStream("demo.yaml")) {
            assertThat(in).as("demo.yaml in the simulator jar").isNotNull();
            yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Scenario demo = Scenario.parse(yaml).withDevices(20);
        assertThat(demo.fleet().size()).isEqualTo(20);

        SimRun run = SimRun.of(demo, dir);
        Report r = run.report();
        assertThat(r.expectations()).as(run.console()).isNotEmpty().allMatch(Report.Expectation::ok);
        assertThat(r.passed()).as(run.console()).isTrue();
        assertThat(r.timeline().getLast().versions()).as("every device ends on v2").isEqualTo(Map.of("2", 20));
        Report.StepResult v3 = r.steps().stream().filter(s -> s.name().equals("rollout-v3")).findFirst().orElseThrow();
        assertThat(v3.state()).contains("rolled-back");
        assertThat(v3.stoppedInWave()).contains(1);
        assertThat(r.telemetry().lost()).isZero();
        assertThat(r.telemetry().ingested()).isEqualTo(r.telemetry().recorded());
        // secured end to end: every agent enrolled with the fleet's token, signed senders required, nothing of theirs refused
        assertThat(r.broker()).contains("TLS with client certificates");
        assertThat(r.security()).hasValueSatisfying(x -> {
            assertThat(x.enrolled()).isEqualTo(20);
            assertThat(x.signedMessagesRequired()).isTrue();
            assertThat(x.refused()).as(x.refusedByReason().toString()).isZero();
        });
        assertThat(run.console()).contains("security: TLS + client certificates", "20 devices enrolled with a token", "signed messages required");
    }
}
