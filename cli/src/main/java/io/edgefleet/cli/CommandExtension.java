package io.edgefleet.cli;

import picocli.CommandLine;

/**
 * Adds commands to {@code edgefleet} from a module the command line does not depend on (the
 * simulator adds {@code demo}, {@code simulate}, {@code agent bench} and {@code rollout bench}).
 * Found with {@link java.util.ServiceLoader} ({@code META-INF/services/io.edgefleet.cli.CommandExtension})
 * once per {@link Main#commandLine()}, on the calling thread, after the built-in commands.
 */
public interface CommandExtension {
    /** Adds sub-commands to {@code root} or to its sub-commands (e.g. {@code root.getSubcommands().get("agent")}). */
    void extend(CommandLine root);
}
