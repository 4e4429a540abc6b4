package io.edgefleet.cli;

import picocli.CommandLine.Option;

/**
 * {@code -h, --help} alone, for the commands whose own {@code --version} names a model version:
 * picocli's standard help mixin also declares {@code --version}, and a command that declares it
 * too silently loses the whole mixin, {@code --help} included ({@code model push --help} was
 * "Unknown option", exit 2). Every other command uses {@code mixinStandardHelpOptions = true}.
 */
final class HelpOption {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;
}
