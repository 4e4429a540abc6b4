package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.drift.DriftRoutes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code edgefleet model drift MODEL VERSION}: the version's drift state (docs/drift.md), or with {@code --reference FILE}
 * records its reference from a sample set, or with {@code --delete-reference} forgets it.
 */
@Command(name = "drift", mixinStandardHelpOptions = true,
        description = {"A model version's input drift: the reference, whether it is in alarm and the last judged windows",
            "(GET /api/v1/models/M/versions/V/drift, scope models:read). With --reference FILE, record the reference from a sample set:",
            "an Open Inference Protocol JSON request whose inputs hold the samples stacked on axis 0, e.g. [N, 4] for an input [-1, 4]",
            "(POST .../drift/reference, scope models:write). With --delete-reference, forget it: a new one is learned from traffic."})
final class DriftCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "MODEL", description = "The model's name.") String model;
    @Parameters(index = "1", paramLabel = "VERSION", description = "The model version.") String version;
    @Option(names = "--reference", paramLabel = "FILE", description = "Record the reference from this sample set (JSON).") Path reference;
    @Option(names = "--delete-reference", description = "Forget the reference.") boolean delete;
    @Option(names = "--windows", paramLabel = "N", defaultValue = "10", description = "Judged windows to show (1..1000, default 10).") int windows;
    @Option(names = "--json", description = "Print the API's JSON.") boolean json;
    @Mixin CloudCommands.Server server;
    @Spec
    CommandSpec spec;

    /**
     * The file's bytes, or null when it is larger than the control plane accepts; reads at most one byte past the limit,
     * so a device file or a huge file never fills the heap.
     */
    static byte[] readSampleSet(Path file) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes((int) DriftRoutes.MAX_SAMPLE_SET_BYTES + 1);
            return b.length > DriftRoutes.MAX_SAMPLE_SET_BYTES ? null : b;
        }
    }

    @Override
    public Integer call() throws IOException {
        String base = "/api/v1/models/" + CloudClient.enc(model) + "/versions/" + CloudClient.enc(version) + "/drift";
        PrintWriter out = spec.commandLine().getOut();
        if (reference != null && delete) {
            spec.commandLine().getErr().println("edgefleet: give either --reference or --delete-reference");
            return Main.USAGE;
        }
        if (reference != null) {
            byte[] body = readSampleSet(reference);
            if (body == null) {
                spec.commandLine().getErr().printf("edgefleet: %s is over %d MiB, the largest sample set the control plane takes"
                        + " (a few thousand samples are enough: docs/drift.md)%n", reference, DriftRoutes.MAX_SAMPLE_SET_BYTES >> 20);
                return Main.USAGE;
            }
            CloudClient.Response r = server.client().raw("POST", base + "/reference", "application/json", body);
            if (!r.ok()) {
                return CloudCommands.fail(spec, r);
            }
            JsonNode s = r.json();
            out.println(json ? r.text() : String.format("%s/%s: drift reference recorded from %d samples (features %s)", model, version,
                    s.path("samples").asLong(), s.path("features")));
            return Main.OK;
        }
        if (delete) {
            CloudClient.Response r = server.client().delete(base + "/reference");
            if (!r.ok()) {
                return CloudCommands.fail(spec, r);
            }
            out.printf("%s/%s: drift reference forgotten%n", model, version);
            return Main.OK;
        }
        CloudClient.Response r = server.client().get(base + "?windows=" + windows);
        if (!r.ok()) {
            return CloudCommands.fail(spec, r);
        }
        if (json) {
            out.println(r.text());
            return Main.OK;
        }
        JsonNode s = r.json();
        JsonNode ref = s.path("reference");
        out.printf("%s/%s: %s; reference: %s%n", model, version, s.path("alarm").asBoolean() ? "DRIFT ALARM" : "no alarm",
                ref.isObject() ? ref.path("source").asText() + ", " + ref.path("samples").asLong() + " samples"
                        : s.has("learning_windows") ? "none yet (learning from traffic: " + s.path("learning_windows").asLong() + " windows so far)"
                        : "none yet");
        out.printf("threshold %s over %d windows in a row, at least %d values a window%n", Numbers.human(s.path("threshold").asDouble()),
                s.path("consecutive_windows").asInt(), s.path("min_samples").asLong());
        for (JsonNode w : s.path("windows")) {
            out.printf("  %s  n=%d  worst PSI=%s (%s)  mean=%s  confidence=%s%s%n", w.path("window_start").asText(), w.path("samples").asLong(),
                    Numbers.human(w.path("max_psi").asDouble()), w.path("worst_feature").asText(), Numbers.human(w.path("mean_psi").asDouble()),
                    w.path("confidence_psi").isMissingNode() || w.path("confidence_psi").isNull() ? "- (not judged)" : Numbers.human(w.path("confidence_psi").asDouble()), w.path("alarm").asBoolean() ? "  ALARM" : "");
        }
        return Main.OK;
    }
}
