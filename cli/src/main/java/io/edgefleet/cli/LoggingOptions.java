package io.edgefleet.cli;

import io.edgefleet.transport.logging.LogFormat;
import io.edgefleet.transport.logging.LogLevels;
import io.edgefleet.transport.logging.LogSetup;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code --log-format text|json} and {@code --log-level [PACKAGE=]LEVEL} on the root of every
 * command line (inherited by every sub-command, so {@code edgefleet agent --log-format json} works
 * as well as {@code edgefleet --log-format json agent}). {@link Main} applies them before a command
 * runs ({@link #applyFlags}); {@code agent} and {@code cloud} apply their YAML's {@code logging}
 * node under them ({@link #applyFile}): flags win over the file, the file over the defaults (text,
 * levels from the JVM's {@code logging.properties}).
 */
final class LoggingOptions {
    @Option(names = "--log-format", paramLabel = "text|json", scope = ScopeType.INHERIT,
            description = "Log lines as text (default) or JSON Lines with trace ids; also logging.format in the YAML.")
    String format;

    @Option(names = "--log-level", paramLabel = "[PKG=]LEVEL", scope = ScopeType.INHERIT,
            description = {"Level of a package (io.edgefleet.agent=DEBUG) or of everything (WARN); repeatable;",
                "ERROR, WARN, INFO, DEBUG, TRACE or JUL's names; also logging.levels in the YAML."})
    List<String> levels = new ArrayList<>();

    /** What the flags of the last command line said: applied over a configuration file's settings. */
    private static volatile Flags flags = new Flags(Optional.empty(), Map.of());

    private record Flags(Optional<LogFormat> format, Map<String, Level> levels) {
    }

    /**
     * Reads the flags wherever they appear on the parsed command line and applies them.
     *
     * @throws CommandLine.ParameterException naming the bad value (exit 2)
     */
    static void applyFlags(CommandLine.ParseResult parsed) {
        Optional<LogFormat> format = Optional.empty();
        List<String> entries = new ArrayList<>();
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            try {
                if (p.hasMatchedOption("--log-format")) {
                    format = Optional.of(LogFormat.parse(p.matchedOptionValue("--log-format", "")));
                }
                if (p.hasMatchedOption("--log-level")) {
                    entries.addAll(p.matchedOption("--log-level").getValue());
                }
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(p.commandSpec().commandLine(), e.getMessage());
            }
        }
        Map<String, Level> levels;
        try {
            levels = LogLevels.parseAll(entries);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(parsed.commandSpec().commandLine(), e.getMessage());
        }
        flags = new Flags(format, levels);
        LogSetup.configure(new LogSetup.Settings(LogFormat.TEXT, Map.of()).overriddenBy(format, levels));
    }

    /**
     * Applies the {@code logging} node of a YAML configuration ({@code logging.format},
     * {@code logging.levels: {io.edgefleet.agent: DEBUG}}), then the flags over it.
     *
     * @throws IllegalArgumentException "configuration FILE: reason" for a bad value
     */
    static void applyFile(Path yaml) {
        LogSetup.Settings file = LogConfigFile.read(yaml);
        LogSetup.configure(file.overriddenBy(flags.format(), flags.levels()));
    }
}
