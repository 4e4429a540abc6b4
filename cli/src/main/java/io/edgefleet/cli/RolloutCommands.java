package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code edgefleet rollout create|status|list|pause|resume|abort|promote|rollback}. */
@Command(name = "rollout", mixinStandardHelpOptions = true, description = "Staged rollouts with health gates (see docs/control-plane.md#rollouts).",
        subcommands = {RolloutCommands.Create.class, RolloutCommands.Status.class, RolloutCommands.ListRollouts.class, RolloutCommands.Operate.class})
final class RolloutCommands implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a rollout from a YAML or JSON spec file.")
    static final class Create implements Callable<Integer> {
        @Parameters(paramLabel = "FILE") Path file;
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            JsonNode body;
            try {
                body = DeviceCatalog.yamlMapper().readTree(Files.readString(file));
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                var at = e.getLocation();
                throw new IllegalArgumentException("the rollout spec " + file + " is not valid YAML or JSON" + (at == null ? "" : " (line "
                        + at.getLineNr() + ", column " + at.getColumnNr() + ")") + ": " + e.getOriginalMessage(), e);
            }
            CloudClient.Response r = api.client().post("/api/v1/rollouts", body);
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            JsonNode ro = r.json().get("rollout");
            spec.commandLine().getOut().printf("created rollout %s: %s/%s, %d wave(s)%n", ro.get("id").asText(), ro.get("model").asText(),
                    ro.get("version").asText(), ro.get("spec").get("waves").size());
            return Main.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Every rollout, newest first.")
    static final class ListRollouts implements Callable<Integer> {
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CloudClient.Response r = api.client().get("/api/v1/rollouts");
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            List<List<String>> rows = new ArrayList<>();
            r.json().forEach(x -> rows.add(List.of(x.get("id").asText(), x.get("model").asText() + "@" + x.get("version").asText(),
                    x.get("state").asText(), Integer.toString(x.get("wave").asInt()), x.path("reason").asText(""))));
            CloudCommands.table(spec.commandLine().getOut(), List.of("ID", "TARGET", "STATE", "WAVE", "REASON"), rows);
            return Main.OK;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "A rollout per wave (progress bars of device states), what it waits for now, the gates in force, "
                    + "and the gate values that decided each step.")
    static final class Status implements Callable<Integer> {
        @Parameters(paramLabel = "ID") String id;
        @Option(names = "--watch", description = "Redraw every second until the rollout ends.") boolean watch;
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws InterruptedException {
            CloudClient c = api.client();
            PrintWriter out = spec.commandLine().getOut();
            while (true) {
                CloudClient.Response r = c.get("/api/v1/rollouts/" + CloudClient.enc(id));
                java.util.OptionalInt answered = api.answered(r);
                if (answered.isPresent()) {
                    return answered.getAsInt();
                }
                if (watch && System.console() != null) {
                    out.print("\033[H\033[2J");
                }
                String state = draw(out, r.json());
                out.flush();
                if (!watch || !state.equals("running") && !state.equals("paused")) {
                    return state.equals("rolled-back") || state.equals("aborted") ? Main.FAILED : Main.OK;
                }
                Thread.sleep(1000);
            }
        }

        private static String draw(PrintWriter out, JsonNode s) {
            JsonNode ro = s.get("rollout");
            String state = ro.get("state").asText();
            out.printf("rollout %s  %s@%s  %s  wave %d/%d%s%n", ro.get("id").asText(), ro.get("model").asText(), ro.get("version").asText(),
                    state, s.get("currentWave").asInt(), ro.get("spec").get("waves").size(),
                    ro.hasNonNull("reason") ? "  (" + ro.get("reason").asText() + ")" : "");
            waveLines(s).forEach(l -> out.printf("  %s%n", l));
            JsonNode waiting = s.path("waitingFor");
            if (waiting.isArray() && !waiting.isEmpty()) {
                out.println("  waiting for:");
                for (JsonNode w : waiting) {
                    out.printf("    %s%s: %s%s%n", w.get("condition").asText(), w.hasNonNull("gate") ? " (" + w.get("gate").asText() + ")" : "",
                            w.get("detail").asText(), w.hasNonNull("leftMillis") ? ", " + java.time.Duration.ofMillis(w.get("leftMillis").asLong())
                                    .withNanos(0) + " left" : "");
                }
            } else if (state.equals("running")) {
                out.println("  waiting for: nothing (the next tick decides)");
            }
            gatesLine(s).ifPresent(l -> out.printf("  %s%n", l));
            if (s.has("shadow")) {
                out.printf("  %s%n", shadowLine(s.get("shadow")));
            }
            for (JsonNode l : s.get("log")) {
                String kind = l.get("kind").asText();
                if (kind.startsWith("gate") || kind.equals("paused") || kind.equals("rolled-back") || kind.equals("resumed")
                        || kind.equals("promoted") || kind.equals("aborted") || kind.equals("telemetry-wait-expired")) {
                    JsonNode d = l.get("detail");
                    out.printf("  %s wave %d %s%s %s%n", l.get("at").asText(), l.get("wave").asInt(), kind,
                            l.hasNonNull("actor") ? " by " + l.get("actor").asText() : "", summary(d, s.path("gates")));
                }
            }
            return state;
        }

        /**
         * One progress line per wave of the spec, e.g. {@code wave 1 shadow [####] 1/1  {shadowing=1} (candidate never answers)}
         * then {@code wave 2 [#...] 1/2  {activated=1, pending=1}}: a shadow wave (docs/shadow.md) is its own step, labelled
         * {@code shadow}, and the first normal wave, once started, also counts the shadow waves' devices it deploys to, so a shadow wave and
         * the normal wave after it at the same percent are never one bar. A shadow wave's devices are done once
         * {@code shadowing} (or rolled back); a normal wave's once activated or rolled back.
         */
        static List<String> waveLines(JsonNode s) {
            JsonNode spec = s.path("rollout").path("spec");
            JsonNode waves = spec.path("waves");
            int firstNormal = 0;
            for (int i = 0; i < waves.size(); i++) {
                if (!shadow(waves, i + 1)) {
                    firstNormal = i + 1;
                    break;
                }
            }
            int current = s.path("currentWave").asInt();
            String state = s.path("rollout").path("state").asText();
            List<String> lines = new ArrayList<>();
            for (int n = 1; n <= waves.size(); n++) {
                boolean shadowWave = shadow(waves, n);
                Map<String, Long> counts = new java.util.TreeMap<>();
                for (JsonNode d : s.path("devices")) {
                    int w = d.path("wave").asInt();
                    if (w == n || n == firstNormal && n <= current && w < n && shadow(waves, w)) {
                        counts.merge(d.path("state").asText(), 1L, Long::sum);
                    }
                }
                long total = counts.values().stream().mapToLong(Long::longValue).sum();
                long done = counts.getOrDefault("activated", 0L) + counts.getOrDefault("rolled-back", 0L)
                        + (shadowWave ? counts.getOrDefault("shadowing", 0L) : 0);
                boolean over = state.equals("succeeded") || n < current;
                String note = "";
                boolean ended = state.equals("rolled-back") || state.equals("aborted");
                if (shadowWave && over) {
                    done = total; // its devices moved on: the next wave deployed to them
                    note = ended ? " (shadow step over; the next wave deployed to these devices, then the rollout was " + state + ")"
                            : " (shadow step over; the next wave deploys to these devices)";
                } else if (shadowWave && ended) {
                    note = " (stopped in the shadow step: " + state + "; no device answered with the candidate)";
                } else if (shadowWave) {
                    note = " (candidate loaded next to the active version; never answers)";
                }
                int width = 30;
                int full = total == 0 ? 0 : (int) (width * done / total);
                lines.add(String.format(java.util.Locale.ROOT, "wave %d%s [%s%s] %d/%d  %s%s", n, shadowWave ? " shadow" : "", "#".repeat(full),
                        ".".repeat(width - full), done, total, counts.isEmpty() ? "{}" : counts.toString(), note));
            }
            return lines;
        }

        private static boolean shadow(JsonNode waves, int n) {
            return "shadow".equals(waves.path(n - 1).path("mode").asText());
        }

        /**
         * The gates in force: {@code gates in force: maxErrorRate=0.05 ...}, and for a rollout with a shadow wave also its
         * {@code shadowGates} ({@code shadowGates: minSamples=200 minAgreement=0.95 ...}). Empty without gates.
         */
        static java.util.Optional<String> gatesLine(JsonNode s) {
            if (!s.has("gates")) {
                return java.util.Optional.empty();
            }
            List<String> g = new ArrayList<>();
            s.get("gates").properties().forEach(e -> g.add(e.getKey() + "=" + e.getValue().asText()));
            String line = "gates in force: " + String.join(" ", g);
            JsonNode shadowGates = s.path("shadow").path("gates");
            if (shadowGates.isObject() && !shadowGates.isEmpty()) {
                List<String> sg = new ArrayList<>();
                shadowGates.properties().forEach(e -> sg.add(e.getKey() + "=" + e.getValue().asText()));
                line += "; shadowGates: " + String.join(" ", sg);
            }
            return java.util.Optional.of(line);
        }

        /**
         * The shadow readings of a rollout with a shadow wave (docs/shadow.md) next to their gates, e.g. {@code shadow: 174
         * samples on 1 device(s): agreement 70.1% (min 95%), latency ratio 0.758 (max 2), confidence diff -0.01, non-finite 0
         * (max 0), dropped 0}.
         */
        static String shadowLine(JsonNode shadow) {
            JsonNode t = shadow.path("totals");
            JsonNode g = shadow.path("gates");
            if (t.path("samples").asLong() == 0) {
                return "shadow: no samples yet (min " + g.path("minSamples").asText() + "), dropped " + t.path("dropped").asLong();
            }
            return String.format(java.util.Locale.ROOT, "shadow: %d samples on %d device(s): agreement %.1f%% (min %s%%), latency ratio %s (max %s),"
                    + " confidence diff %s, non-finite %d (max %s), dropped %d", t.path("samples").asLong(), t.path("devices").asInt(),
                    100 * t.path("agreement").asDouble(), number(new com.fasterxml.jackson.databind.node.DoubleNode(100 * g.path("minAgreement").asDouble())),
                    t.has("latencyRatio") ? number(t.get("latencyRatio")) : "-", number(g.path("maxLatencyRatio")),
                    t.has("confidenceDiff") ? number(t.get("confidenceDiff")) : "-", t.path("nonFinite").asLong(), g.path("maxNonFinite").asText(),
                    t.path("dropped").asLong());
        }

        /** The gate each logged value is judged by, so its threshold can stand next to it. */
        private static final Map<String, String> GATE_OF = Map.of("reportingDevices", "minDevices", "requests", "minRequests",
                "errorRate", "maxErrorRate", "p95Ratio", "maxP95Ratio", "confidenceDrop", "maxConfidenceDrop", "escalationShare",
                "maxEscalationShare", "nonFiniteRate", "maxNonFiniteRate", "installFailures", "maxInstallFailures", "staleAfterUpdate", "maxStale");

        /**
         * A log line's values for a reader: {@code confidenceDrop=0.417 (max 0.15)}: fractions to three
         * significant digits, each value a gate in force judges followed by that gate's threshold.
         */
        static String summary(JsonNode d, JsonNode gates) {
            List<String> parts = new ArrayList<>();
            for (String k : List.of("reason", "reportingDevices", "requests", "errorRate", "p95Ms", "p95Ratio", "meanConfidence", "confidenceDrop",
                    "escalationShare", "nonFiniteRate", "installFailures", "staleAfterUpdate", "failures", "notJudged", "violationStreaks",
                    "proceededWithout", "promoted", "shadowSamples", "shadowAgreement", "shadowLatencyRatio", "shadowConfidenceDiff",
                    "shadowNonFinite", "shadowDropped")) {
                if (d.has(k)) {
                    JsonNode v = d.get(k);
                    String gate = GATE_OF.get(k);
                    String threshold = gate != null && gates.path(gate).isNumber()
                            ? " (" + (gate.startsWith("min") ? "min " : "max ") + number(gates.get(gate)) + ")" : "";
                    parts.add(k + "=" + (v.isNumber() ? number(v) : v.isTextual() ? v.asText() : v.toString()) + threshold);
                }
                if (k.equals("staleAfterUpdate")) {
                    drift(d).ifPresent(parts::add);
                }
            }
            return String.join(" ", parts);
        }

        /**
         * The drift gate's reading (issue 20, docs/drift.md): {@code drift=x[0] PSI 3.92 in alarm (2 window(s) judged, threshold 0.2)},
         * {@code drift=not judged yet (0 window(s), reference samples)}; with {@code baselineDrift=alarm} when the version being
         * replaced is in alarm (shown, not judged). Empty when the gate is off.
         */
        static java.util.Optional<String> drift(JsonNode d) {
            if (!d.has("driftWindows")) {
                return java.util.Optional.empty();
            }
            String threshold = d.has("driftThreshold") ? ", threshold " + number(d.get("driftThreshold")) : "";
            String out = d.has("driftMaxPsi")
                    ? "drift=" + d.path("driftWorstFeature").asText() + " PSI " + number(d.get("driftMaxPsi"))
                            + (d.path("driftAlarm").asBoolean() ? " in alarm" : " no alarm") + " (" + d.get("driftWindows").asInt()
                            + " window(s) judged" + threshold + ")"
                    : "drift=not judged yet (0 window(s), reference " + d.path("driftReference").asText("none") + threshold + ")";
            return java.util.Optional.of(out + (d.path("baselineDriftAlarm").asBoolean() ? " baselineDrift=alarm" : ""));
        }

        private static String number(JsonNode n) {
            if (n.isIntegralNumber()) {
                return n.asText();
            }
            return new java.math.BigDecimal(n.asDouble()).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString();
        }
    }

    @Command(name = "op", mixinStandardHelpOptions = true, description = "pause | resume | abort | promote (skip the bake) | rollback, recorded with who and why.")
    static final class Operate implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "OPERATION", description = "pause, resume, abort, promote or rollback.") String op;
        @Parameters(index = "1", paramLabel = "ID", description = "The rollout's id (rollout list).") String id;
        @Option(names = "--reason", paramLabel = "TEXT", description = "Why: recorded in the rollout's log and the audit with who and when "
                + "(the console asks for one; without it the log says \"no reason given\").") String reason = "";
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CloudClient.Response r = api.client().post("/api/v1/rollouts/" + CloudClient.enc(id) + "/" + CloudClient.enc(op),
                    Map.of("reason", reason));
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            spec.commandLine().getOut().printf("rollout %s: %s%n", id, r.json().get("rollout").get("state").asText());
            return Main.OK;
        }
    }
}
