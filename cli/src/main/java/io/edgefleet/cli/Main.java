package io.edgefleet.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Unmatched;

/**
 * Entry point of the {@code edgefleet} command. Exit codes: 0 ok, 1 failed, 2 usage error.
 */
public final class Main {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    private Main() {
    }

    static {
        // Logback (the embedded HiveMQ needs it) finds two logback.xml on the class path (ours and
        // HiveMQ's) and would print its status dump; ours is named explicitly and the status is muted.
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "edgefleet-logback.xml");
        }
        if (System.getProperty("logback.statusListenerClass") == null) {
            System.setProperty("logback.statusListenerClass", "ch.qos.logback.core.status.NopStatusListener");
        }
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(run(out, err, args));
    }

    /** Runs one command line; tests call this with their own writers. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return run(commandLine(), out, err, args);
    }

    /** Runs {@code args} on {@code cl} (configured as {@link #commandLine} configures its own); the exit code. */
    static int run(CommandLine cl, PrintWriter out, PrintWriter err, String... args) {
        configure(cl);
        cl.setOut(out);
        cl.setErr(err);
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /**
     * The entry of the role launchers ({@code bin/edgefleet-agent}, {@code bin/edgefleet-cloud}):
     * {@code edgefleet ROLE ARGS...} without building the other commands, whose classes (and
     * picocli's reflection over them) would only cost start-up time. {@code args[0]} is
     * {@code agent} or {@code cloud}.
     */
    public static final class Role {
        private Role() {
        }

        public static void main(String[] args) {
            PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
            PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
            String role = args.length == 0 ? "" : args[0];
            String[] rest = java.util.Arrays.copyOfRange(args, Math.min(1, args.length), args.length);
            CommandLine cl;
            if (role.equals("agent") && present(AGENT)) {
                cl = new CommandLine(new AgentCommand());
            } else if (role.equals("cloud") && present(CLOUD)) {
                cl = new CommandLine(new CloudCommands.Cloud());
            } else {
                System.exit(Main.run(out, err, args)); // anything else: the whole command line says what is wrong
                return;
            }
            cl.setCommandName("edgefleet " + role);
            cl.addMixin("logging", new LoggingOptions()); // the root here is the role's command: it carries the logging flags
            System.exit(run(cl, out, err, rest));
        }
    }

    /** Where each optional module comes from, for the line a command without its module prints. */
    private static final String AGENT = "io.edgefleet.agent.EdgeAgent";
    private static final String CLOUD = "io.edgefleet.cloud.ControlPlane";
    private static final String AGENT_DIST = "the edge agent (edgefleet-agent distribution)";
    private static final String CLOUD_DIST = "the control plane (edgefleet-cloud distribution)";

    /**
     * The command line with every sub-command whose module is on the class path, in the order
     * {@code edgefleet --help} lists them, then those that {@link CommandExtension}s add. A
     * sub-command whose module is absent (the agent distribution has no control plane, the
     * cloud distribution no agent) is hidden and answers with one line naming the distribution
     * that has it (exit 2).
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new EdgeFleetCommand());
        boolean agent = present(AGENT);
        boolean cloud = present(CLOUD);
        add(cl, "agent", agent, AGENT_DIST, () -> new AgentCommand());
        cl.addSubcommand(new ProfilesCommand());
        CommandLine model = new CommandLine(new ModelCommand());
        add(model, "push", cloud, CLOUD_DIST, () -> new CloudCommands.Push());
        add(model, "deprecate", cloud, CLOUD_DIST, () -> new FleetCommands.Deprecate());
        add(model, "list", cloud, CLOUD_DIST, () -> new FleetCommands.ListModels());
        add(model, "drift", cloud, CLOUD_DIST, () -> new DriftCommand());
        cl.addSubcommand(model);
        add(cl, "cloud", cloud, CLOUD_DIST, () -> new CloudCommands.Cloud());
        add(cl, "devices", cloud, CLOUD_DIST, () -> new CloudCommands.Devices());
        add(cl, "enrolment-tokens", cloud, CLOUD_DIST, () -> new EnrolmentCommands());
        add(cl, "telemetry", cloud, CLOUD_DIST, () -> new CloudCommands.Telemetry());
        add(cl, "events", cloud, CLOUD_DIST, () -> new FleetCommands.Events());
        add(cl, "broker", cloud, CLOUD_DIST, () -> new BrokerCommands());
        add(cl, "rollout", cloud, CLOUD_DIST, () -> new RolloutCommands());
        add(cl, "experiment", cloud, CLOUD_DIST, () -> new ExperimentCommands());
        add(cl, "tokens", cloud, CLOUD_DIST, () -> new AccessCommands.Tokens());
        add(cl, "audit", cloud, CLOUD_DIST, () -> new AccessCommands.Audit());
        add(cl, "logs", cloud, CLOUD_DIST, () -> new LogsCommand());
        for (CommandExtension e : ServiceLoader.load(CommandExtension.class, Main.class.getClassLoader())) {
            e.extend(cl);
        }
        // the simulator's commands, where no extension brought them: one line saying where they are
        String sim = "the simulator (./edgefleet in the source repository)";
        for (String name : List.of("demo", "simulate")) {
            if (!cl.getSubcommands().containsKey(name)) {
                cl.addSubcommand(name, new CommandLine(new Unavailable(name, sim)));
            }
        }
        for (String parent : List.of("agent", "rollout")) {
            CommandLine p = cl.getSubcommands().get(parent);
            if (p != null && !(p.getCommand() instanceof Unavailable) && !p.getSubcommands().containsKey("bench")) {
                p.addSubcommand("bench", new CommandLine(new Unavailable(parent + " bench", sim)));
            }
        }
        configure(cl); // after every sub-command is added: picocli applies the handlers to those present now
        return cl;
    }

    /** One line "edgefleet: message" for a failure (exit 1), exit 2 for a usage error; applies to the sub-commands present. */
    private static void configure(CommandLine cl) {
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            String m = message(ex);
            commandLine.getErr().println("edgefleet: " + m);
            if (m.startsWith("unexpected internal error")) {
                ex.printStackTrace(commandLine.getErr());
            }
            return FAILED;
        });
        cl.setExitCodeExceptionMapper(t -> t instanceof CommandLine.ParameterException ? USAGE : FAILED);
        // one log format for every command: the logging flags are applied before the command runs
        cl.setExecutionStrategy(parsed -> {
            LoggingOptions.applyFlags(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
    }

    private static void add(CommandLine cl, String name, boolean present, String module, Supplier<Object> command) {
        if (present) {
            CommandLine sub = new CommandLine(command.get());
            if (!sub.getCommandName().equals(name)) {
                throw new IllegalStateException("command " + sub.getCommandName() + " registered as " + name);
            }
            cl.addSubcommand(sub);
        } else {
            cl.addSubcommand(name, new CommandLine(new Unavailable(name, module)));
        }
    }

    static boolean present(String className) {
        try {
            Class.forName(className, false, Main.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** A command whose module this installation lacks: one line saying which has it. */
    @Command(hidden = true, mixinStandardHelpOptions = true)
    static final class Unavailable implements Callable<Integer> {
        private final String name;
        private final String module;
        @Unmatched
        List<String> ignored;
        @Spec
        CommandSpec spec;

        Unavailable(String name, String module) {
            this.name = name;
            this.module = module;
        }

        @Override
        public Integer call() {
            spec.commandLine().getErr().println("edgefleet: '" + name + "' needs " + module + ", which this installation does not include");
            return USAGE;
        }
    }

    /**
     * The first message in the chain of causes; never a Java class name nor "null". A failure
     * without any message is a bug of ours: its stack trace goes to stderr after the line.
     */
    static String message(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            // the JDK's file exceptions carry only the path as their message ("edgefleet: r.yaml" said nothing)
            if (t instanceof java.nio.file.NoSuchFileException f) {
                return "no such file: " + f.getFile();
            }
            if (t instanceof java.nio.file.AccessDeniedException f) {
                return "permission denied: " + f.getFile();
            }
            if (t instanceof java.nio.file.NotDirectoryException f) {
                return "not a directory: " + f.getFile();
            }
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getMessage();
            }
        }
        return "unexpected internal error without a message (a bug: please report it with the command line and the trace below)";
    }
}
