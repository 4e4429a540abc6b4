package io.edgefleet.cli;

import io.edgefleet.cloud.client.CloudClient;
import java.util.OptionalInt;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What every command that calls the control plane's API shares, as one picocli mixin: the server options
 * ({@link CloudCommands.Server}: {@code --server}, {@code --ca}, {@code --token}, {@code --token-file}), {@code --json},
 * and the plumbing of an answer (a failure printed as the API's problem; with {@code --json}, the API's JSON as is).
 */
final class ApiOptions {
    @Option(names = "--json", description = "Print the API's JSON.") boolean json;
    @Mixin CloudCommands.Server server;
    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    /** A client of the control plane the options name. */
    CloudClient client() {
        return server.client();
    }

    /**
     * Answers {@code r} when there is nothing more to print: a failure (the problem on stderr, {@link Main#FAILED}), or
     * with {@code --json} the API's JSON on stdout ({@link Main#OK}); empty when the command prints its own text.
     */
    OptionalInt answered(CloudClient.Response r) {
        if (!r.ok()) {
            return OptionalInt.of(CloudCommands.fail(spec, r));
        }
        if (json) {
            spec.commandLine().getOut().println(r.text());
            return OptionalInt.of(Main.OK);
        }
        return OptionalInt.empty();
    }
}
