package io.edgefleet.sim;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

/**
 * Runs a scenario for a test: the report, what the simulator printed (for assertion messages), and the answers the
 * simulated clients received by the {@code model_version} that gave them (counted from the answers, not the report).
 */
record SimRun(Report report, String console, java.util.Map<String, Long> answersByVersion) {
    static SimRun of(Scenario scenario, Path dir) throws Exception {
        StringWriter console = new StringWriter();
        try (Simulation sim = new Simulation(scenario, new Simulation.Options(dir, new PrintWriter(console, true), false))) {
            Report r = sim.run();
            return new SimRun(r, console.toString(), sim.answersByVersion());
        }
    }
}
