package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs a scenario for a test: the report, what the simulator printed (for assertion messages), and the answers the
 * simulated clients received by the {@code model_version} that gave them (counted from the answers, not the report).
 */
record SimRun(Report report, String console, Map<String, Long> answersByVersion) {
    static SimRun of(Scenario scenario, Path dir) throws Exception {
        StringWriter console = new StringWriter();
        try (Simulation sim = new Simulation(scenario, new Simulation.Options(dir, new PrintWriter(console, true), false))) {
            Report r = sim.run();
            return new SimRun(r, console.toString(), sim.answersByVersion());
        }
    }

    /**
     * The slow scenario tests' common start: skipped without Mosquitto, the scenario run on it, its output printed, and
     * every expectation of the report met (the output is the assertion's message).
     */
    static SimRun passingOnMosquitto(Scenario scenario, Path dir) throws Exception {
        Assumptions.assumeTrue(MosquittoBroker.binary().isPresent(), "mosquitto is not installed");
        SimRun run = of(scenario.withBroker("mosquitto"), dir);
        System.out.println(run.console());
        assertThat(run.report().expectations()).as(run.console()).allMatch(Report.Expectation::ok);
        return run;
    }

    /** The first fault of that type. */
    Report.FaultResult fault(String type) {
        return report.faults().stream().filter(f -> f.type().equals(type)).findFirst().orElseThrow();
    }

    /** The step of that name. */
    Report.StepResult step(String name) {
        return report.steps().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }
}
