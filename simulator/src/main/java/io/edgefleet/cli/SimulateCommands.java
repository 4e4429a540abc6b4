package io.edgefleet.cli;

import io.edgefleet.sim.Report;
import io.edgefleet.sim.Scenario;
import io.edgefleet.sim.Simulation;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code edgefleet simulate SCENARIO.yaml} and {@code edgefleet demo}. */
final class SimulateCommands {
    private SimulateCommands() {
    }

    static final class Common {
        @Option(names = "--out", paramLabel = "DIR", description = "where the report and the run's data go (default: sim-out/NAME-TIME)")
        Path out;

        @Option(names = "--devices", paramLabel = "N", description = "scale the fleet to N devices, profiles keeping their shares")
        Integer devices;

        @Option(names = "--rate", paramLabel = "R", description = "requests per second per device (overrides the scenario's load)")
        Double rate;

        @Option(names = "--broker", paramLabel = "B", description = "embedded (HiveMQ CE in this JVM), mosquitto (started here), or tcp://HOST:PORT")
        String broker;

        @Option(names = "--no-progress", description = "no progress line redrawn in place (status lines every 10 s instead)")
        boolean noProgress;
    }

    static int run(Scenario scenario, Common c, CommandSpec spec) throws Exception {
        if (c.devices != null) {
            scenario = scenario.withDevices(c.devices);
        }
        if (c.rate != null) {
            scenario = scenario.withLoad(c.rate);
        }
        if (c.broker != null) {
            scenario = scenario.withBroker(c.broker);
        }
        Path out = c.out != null ? c.out : Path.of("sim-out", scenario.name() + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        PrintWriter console = spec.commandLine().getOut();
        boolean live = !c.noProgress && System.console() != null;
        Report report;
        try (Simulation sim = new Simulation(scenario, new Simulation.Options(out, console, live))) {
            report = sim.run();
        }
        return report.passed() ? Main.OK : Main.FAILED;
    }

    @Command(name = "simulate", mixinStandardHelpOptions = true,
            description = {"Runs a scenario: a broker, the control plane and a fleet of real edge agents in this process, the scenario's "
                    + "rollouts, faults and load; writes report.json and report.html. Exit 1 when an expectation failed.",
                "Format: docs/simulator.md; an example: ./edgefleet demo --print"})
    static final class Simulate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "SCENARIO.yaml")
        Path file;

        @picocli.CommandLine.Mixin
        Common common = new Common();

        @Override
        public Integer call() throws Exception {
            Scenario s;
            try {
                s = Scenario.load(file);
            } catch (IllegalArgumentException e) {
                spec.commandLine().getErr().println("edgefleet: " + file + ": " + e.getMessage());
                return Main.USAGE;
            }
            return run(s, common, spec);
        }
    }

    @Command(name = "demo", mixinStandardHelpOptions = true,
            description = {"The demo, on embedded defaults (2-3 minutes): 50 real agents of three device profiles, an embedded MQTT broker and "
                    + "the control plane; v1 rolled out, then v2 (delta-synced) with a broker restart and corrupted chunks on the way, then a "
                    + "badly calibrated v3 that the gates stop in wave 1 and roll back; hard inputs answered by the cloud. Prints a summary and "
                    + "the path of the HTML report."})
    static final class Demo implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--print", description = "print the demo's scenario file and exit")
        boolean print;

        @Option(names = "--scenario", paramLabel = "NAME", description = "a built-in scenario instead of the demo: demo, shadow-ab "
                + "(shadow-ab: a disagreeing candidate stopped in its shadow wave, an agreeing one rolled out, an A/B experiment, the drift alarm)")
        String scenario = "demo";

        @picocli.CommandLine.Mixin
        Common common = new Common();

        @Override
        public Integer call() throws Exception {
            if (!BUILT_IN.contains(scenario)) {
                spec.commandLine().getErr().println("edgefleet demo: --scenario: no built-in scenario '" + scenario + "' (" + String.join(", ", BUILT_IN)
                        + "); run your own file with ./edgefleet simulate FILE.yaml");
                return Main.USAGE;
            }
            String yaml = builtIn(scenario);
            if (print) {
                spec.commandLine().getOut().print(yaml);
                return Main.OK;
            }
            return run(Scenario.parse(yaml), common, spec);
        }
    }

    /** The scenarios shipped in the jar ({@code io/edgefleet/sim/NAME.yaml}). */
    static final java.util.List<String> BUILT_IN = java.util.List.of("demo", "shadow-ab");

    static String demoYaml() throws IOException {
        return builtIn("demo");
    }

    /** A built-in scenario's YAML, by name (one of {@link #BUILT_IN}). */
    static String builtIn(String name) throws IOException {
        try (InputStream in = Simulation.class.getResourceAsStream(name + ".yaml")) {
            if (in == null) {
                throw new IllegalStateException(name + ".yaml is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
