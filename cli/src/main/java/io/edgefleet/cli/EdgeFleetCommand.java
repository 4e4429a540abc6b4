package io.edgefleet.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code edgefleet}: the umbrella command; sub-commands do the work ({@link Main#commandLine} adds them). */
@Command(name = "edgefleet",
        mixinStandardHelpOptions = true,
        versionProvider = EdgeFleetCommand.Version.class,
        description = "Deploy machine-learning models to fleets of edge devices and keep them healthy.",
        footer = {"", "Exit codes: 0 ok, 1 failed, 2 usage error."})
public final class EdgeFleetCommand implements Runnable {
    @Spec
    CommandSpec spec;
    /** --log-format and --log-level, inherited by every sub-command (see {@link LoggingOptions}). */
    @picocli.CommandLine.Mixin
    LoggingOptions logging;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The version from the jar manifest, or {@code dev} when run from classes. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = EdgeFleetCommand.class.getPackage().getImplementationVersion();
            return new String[] {"edgefleet " + (v == null ? "dev" : v),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
