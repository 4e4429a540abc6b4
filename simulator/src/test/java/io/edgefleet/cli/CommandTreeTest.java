package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * The whole {@code edgefleet} command tree, walked with {@link CommandLine#getSubcommands()}: every
 * command answers {@code --help} with its usage and exit 0 (picocli's standard help mixin silently
 * disappears from a command that declares its own {@code --version}: {@code model push --help} and
 * {@code telemetry --help} exited 2), and every command that calls the control plane's API can
 * print the API's JSON with {@code --json}.
 */
class CommandTreeTest {
    /** One tree for every run: picocli resets a command's options before each parse, and building it is the slow part. */
    static final CommandLine TREE = Main.commandLine();

    /** Every command as the argument list that reaches it, e.g. {@code [model, push]}. */
    static Stream<List<String>> commands() {
        List<List<String>> out = new ArrayList<>();
        walk(TREE, new ArrayList<>(), out);
        return out.stream();
    }

    private static void walk(CommandLine cl, List<String> path, List<List<String>> out) {
        out.add(List.copyOf(path));
        cl.getSubcommands().forEach((name, sub) -> {
            if (!name.equals(sub.getCommandName())) {
                return; // an alias: the same command under another name
            }
            List<String> p = new ArrayList<>(path);
            p.add(name);
            walk(sub, p, out);
        });
    }

    @Test
    void the_tree_has_the_commands_of_the_issue() {
        List<String> all = commands().map(p -> String.join(" ", p)).toList();
        assertThat(all).contains("model push", "telemetry", "tokens create", "tokens list", "tokens revoke", "events",
                "devices tags add", "devices tags remove", "devices tags list", "model deprecate", "model list");
        assertThat(all.size()).isGreaterThan(40);
    }

    @ParameterizedTest(name = "edgefleet {0} --help")
    @MethodSource("commands")
    void every_command_answers_help_with_its_usage(List<String> path) {
        List<String> args = new ArrayList<>(path);
        args.add("--help");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(TREE, new PrintWriter(out), new PrintWriter(err), args.toArray(String[]::new));
        assertThat(code).as("exit code; stderr: %s", err).isZero();
        assertThat(out.toString()).startsWith("Usage: edgefleet" + (path.isEmpty() ? "" : " " + String.join(" ", path)));
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void every_command_that_calls_the_api_can_print_json() {
        List<String> without = new ArrayList<>();
        commands().forEach(path -> {
            CommandLine cl = TREE;
            for (String name : path) {
                cl = cl.getSubcommands().get(name);
            }
            if (cl.getCommandSpec().findOption("--server") != null && cl.getCommandSpec().findOption("--json") == null) {
                without.add(String.join(" ", path));
            }
        });
        assertThat(without).as("commands that call the API without --json").isEmpty();
    }
}
