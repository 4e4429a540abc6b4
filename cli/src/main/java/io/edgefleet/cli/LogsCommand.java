package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code edgefleet logs}: the central logs, the WARN and ERROR records agents forwarded to the
 * control plane ({@code GET /api/v1/logs}, {@code GET /api/v1/devices/{id}/logs}), newest first.
 */
@Command(name = "logs", mixinStandardHelpOptions = true,
        description = {"Show the log records agents forwarded to the control plane (their WARN and ERROR lines), newest first.",
            "Filter by device, trace id (W3C, 32 hex digits), level and time. See docs/control-plane.md \"Logs\"."})
final class LogsCommand implements Callable<Integer> {
    @Option(names = "--device", paramLabel = "ID", description = "Only this device (its id; --fleet narrows when ids repeat across fleets).")
    String device;
    @Option(names = "--fleet", paramLabel = "F", description = "Only this fleet.")
    String fleet;
    @Option(names = "--trace-id", paramLabel = "T", description = "Only records logged under this trace (OpenTelemetry/W3C trace id).")
    String traceId;
    @Option(names = "--level", paramLabel = "L", description = "Lowest level shown: ERROR, WARN, INFO, DEBUG or TRACE (agents forward WARN and ERROR; default: all).")
    String level;
    @Option(names = "--since", paramLabel = "T", description = "ISO instant or -N[s|m|h|d], e.g. -1h.")
    String since;
    @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "Records at most (default ${DEFAULT-VALUE}, at most 10000).")
    int limit;
    @Option(names = "--json", description = "Print the API's JSON.")
    boolean json;
    @Mixin
    CloudCommands.Server server;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<String> q = new ArrayList<>();
        if (fleet != null) {
            q.add("fleet=" + CloudClient.enc(fleet));
        }
        if (traceId != null) {
            q.add("trace_id=" + CloudClient.enc(traceId));
        }
        if (level != null) {
            q.add("level=" + CloudClient.enc(level));
        }
        if (since != null) {
            q.add("since=" + CloudClient.enc(since));
        }
        q.add("limit=" + limit);
        String path = (device != null ? "/api/v1/devices/" + CloudClient.enc(device) + "/logs" : "/api/v1/logs") + "?" + String.join("&", q);
        CloudClient.Response r = server.client().get(path);
        if (!r.ok()) {
            return CloudCommands.fail(spec, r);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(r.text());
            return Main.OK;
        }
        JsonNode body = r.json();
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode n : body.path("records")) {
            String message = n.path("message").asText();
            if (n.hasNonNull("exception")) {
                message += " [" + n.get("exception").asText().lines().findFirst().orElse("") + "]";
            }
            rows.add(List.of(n.path("time").asText(), n.path("level").asText(), n.path("fleet").asText() + "/" + n.path("device").asText(),
                    simpleName(n.path("logger").asText()), n.path("trace_id").asText("-"), message));
        }
        if (rows.isEmpty()) {
            out.println("no log records" + (device != null ? " from device " + device : "") + (traceId != null ? " under trace " + traceId : ""));
        } else {
            CloudCommands.table(out, List.of("TIME", "LEVEL", "DEVICE", "LOGGER", "TRACE", "MESSAGE"), rows);
        }
        JsonNode lost = body.path("not_forwarded");
        if (lost.path("dropped_records").asLong() > 0 || lost.path("lost_batches").asLong() > 0) {
            out.printf("not forwarded by the agent: %d records over its rate limit, %d batches dropped for space%n",
                    lost.path("dropped_records").asLong(), lost.path("lost_batches").asLong());
        }
        return Main.OK;
    }

    private static String simpleName(String logger) {
        int dot = logger.lastIndexOf('.');
        return dot < 0 ? logger : logger.substring(dot + 1);
    }
}
