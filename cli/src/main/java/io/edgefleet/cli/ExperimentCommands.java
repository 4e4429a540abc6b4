package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code edgefleet experiment start|list|show|stop}: A/B experiments on devices (docs/ab.md). */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = "A/B experiments: split a model's requests on devices between the active version (arm A) and a candidate (arm B).",
        subcommands = {ExperimentCommands.Start.class, ExperimentCommands.ListAll.class, ExperimentCommands.Show.class, ExperimentCommands.Stop.class})
final class ExperimentCommands implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return Main.USAGE;
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = "Start an experiment (POST /api/v1/experiments, scope rollouts:write).")
    static final class Start implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "The model.") String model;
        @Option(names = "--candidate", required = true, paramLabel = "VERSION", description = "Arm B: a registered version.") String candidate;
        @Option(names = "--share", required = true, description = "Arm B's share of requests, strictly between 0 and 1.") double share;
        @Option(names = "--by", defaultValue = "share", description = "share (a draw per request) or key (sticky per edgefleet.split_key).")
        String by;
        @Option(names = "--selector", defaultValue = "", description = "Devices (fleet selector syntax); all by default.") String selector;
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("model", model);
            body.put("candidate", candidate);
            body.put("share", share);
            body.put("splitBy", by);
            body.put("selector", selector);
            CloudClient.Response r = api.client().post("/api/v1/experiments", body);
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            JsonNode e = r.json();
            spec.commandLine().getOut().printf("experiment %s started: %s, arm A %s, arm B %s (%s %% by %s) on %d device(s)%n", e.path("id").asText(),
                    model, e.path("versionA").asText(), e.path("versionB").asText(), Numbers.human(share * 100), by, e.path("devices").size());
            return Main.OK;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Every experiment, newest first (GET /api/v1/experiments).")
    static final class ListAll implements Callable<Integer> {
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CloudClient.Response r = api.client().get("/api/v1/experiments");
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            for (JsonNode e : r.json().path("experiments")) {
                spec.commandLine().getOut().printf("%s  %-8s %s  A=%s  B=%s  share=%s by %s  devices=%d%n", e.path("id").asText(), e.path("state").asText(),
                        e.path("model").asText(), e.path("versionA").asText(), e.path("versionB").asText(), Numbers.human(e.path("share").asDouble()),
                        e.path("splitBy").asText(), e.path("devices").size());
            }
            return Main.OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "An experiment and the comparison of its arms with confidence intervals (GET /api/v1/experiments/ID).")
    static final class Show implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ID") String id;
        @Option(names = "--level", defaultValue = "0.95", description = "Confidence level of the intervals (0.5..0.999).") double level;
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CloudClient.Response r = api.client().get("/api/v1/experiments/" + CloudClient.enc(id) + "?level=" + level);
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            PrintWriter out = spec.commandLine().getOut();
            JsonNode e = r.json();
            JsonNode c = e.path("comparison");
            out.printf("%s: %s %s, arm A %s, arm B %s, share %s by %s%n", e.path("id").asText(), e.path("state").asText(), e.path("model").asText(),
                    e.path("versionA").asText(), e.path("versionB").asText(), Numbers.human(e.path("share").asDouble()), e.path("splitBy").asText());
            out.printf("intervals at %s %%; %s%n", Numbers.human(c.path("level").asDouble() * 100), c.path("judged").asBoolean() ? "judged"
                    : "not judged yet (fewer than " + c.path("minSamples").asLong() + " requests in an arm)");
            out.printf("%-12s %-28s %-28s %-28s%n", "", "A", "B", "B - A");
            out.printf("%-12s %-28s %-28s%n", "requests", c.path("a").path("requests").asLong(), c.path("b").path("requests").asLong());
            for (String m : new String[] {"errorRate", "latencyMs", "confidence"}) {
                row(out, c, m);
            }
            out.printf("%-12s %-28s %-28s%n", "labelled", c.path("a").path("labelled").asLong(), c.path("b").path("labelled").asLong());
            row(out, c, "accuracy");
            out.println("(* the interval excludes 0)" + (c.path("accuracyJudged").asBoolean() || !c.has("minLabelled") ? ""
                    : "; accuracy not judged yet (fewer than " + c.path("minLabelled").asLong() + " labelled answers in an arm)"));
            return Main.OK;
        }

        private static void row(PrintWriter out, JsonNode c, String m) {
            JsonNode d = c.path("difference").path(m);
            out.printf("%-12s %-28s %-28s %-28s%n", m, est(c.path("a").path(m)), est(c.path("b").path(m)),
                    est(d) + (d.path("significant").asBoolean() ? " *" : ""));
        }

        /** {@code value [low, high]}, each by {@link #number}; {@code -} when the API left it out (no data). */
        static String est(JsonNode e) {
            if (e.isMissingNode()) {
                return "-";
            }
            String v = number(e.path("value").asDouble());
            return e.has("low") ? v + " [" + number(e.path("low").asDouble()) + ", " + number(e.path("high").asDouble()) + "]" : v;
        }

        /**
         * One format for every number of the table: fixed point with four decimals ({@code 0.0123}, {@code 5.2500}), and
         * {@code 0} for a value within 1e-12 of zero (a bound that is zero up to floating error, never {@code 1.735e-18}).
         */
        static String number(double v) {
            if (!Double.isFinite(v)) {
                return Double.isNaN(v) ? "n/a" : v > 0 ? "inf" : "-inf";
            }
            return Math.abs(v) < 1e-12 ? "0" : String.format(java.util.Locale.ROOT, "%.4f", v);
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stop an experiment: every device back to arm A (POST /api/v1/experiments/ID/stop).")
    static final class Stop implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ID") String id;
        @Mixin ApiOptions api;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CloudClient.Response r = api.client().post("/api/v1/experiments/" + CloudClient.enc(id) + "/stop", Map.of());
            java.util.OptionalInt answered = api.answered(r);
            if (answered.isPresent()) {
                return answered.getAsInt();
            }
            JsonNode e = r.json();
            spec.commandLine().getOut().printf("experiment %s stopped at %s: its devices were sent back to arm A (%s) and told to unload arm B (%s)%n", id,
                    e.path("stoppedAt").asText("?"), e.path("versionA").asText(), e.path("versionB").asText());
            return Main.OK;
        }
    }
}
