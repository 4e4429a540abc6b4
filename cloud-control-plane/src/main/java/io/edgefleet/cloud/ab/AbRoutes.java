package io.edgefleet.cloud.ab;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.access.Scope;
import io.edgefleet.cloud.api.ApiException;
import io.edgefleet.cloud.api.ApiRoutes;
import io.edgefleet.cloud.store.Jdbc;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A/B experiments in the API (docs/ab.md), registered through {@link ApiRoutes#register} (authentication, scope, problem
 * JSON, audit):
 * <ul>
 * <li>{@code POST /api/v1/experiments} ({@code rollouts:write}): body {@code {"model", "candidate", "share", "splitBy"
 *     ("share" default, or "key"), "selector" (optional, the fleet selector syntax)}}; 201 with the experiment. 400 problem
 *     JSON for a bad body, an unknown version, a share outside (0, 1), both arms the same; 409 when no selected device
 *     serves the model or an experiment runs on one already;</li>
 * <li>{@code GET /api/v1/experiments} ({@code rollouts:read}): every experiment, newest first;</li>
 * <li>{@code GET /api/v1/experiments/{id}} ({@code rollouts:read}): the experiment, its {@code comparison}, its split
 *     commands per device ({@code commands}) and the devices not yet running the split ({@code notRunning});
 *     {@code ?level=0.9} (0.5..0.999) changes the intervals' confidence level, {@code ?minSamples=N} the requests per arm
 *     before {@code judged} is true (default {@value #DEFAULT_MIN_SAMPLES}), {@code ?minLabelled=N} the labelled answers
 *     per arm before {@code accuracyJudged} is true (default {@value Comparison#DEFAULT_MIN_LABELLED});</li>
 * <li>{@code POST /api/v1/experiments/{id}/stop} ({@code rollouts:write}): every device back to arm A only; 200.</li>
 * </ul>
 */
public final class AbRoutes {
    /** Requests per arm before a comparison counts as judged (see docs/ab.md for why). */
    public static final long DEFAULT_MIN_SAMPLES = 200;
    private final Experiments experiments;

    public AbRoutes(Experiments experiments) {
        this.experiments = experiments;
    }

    /** Registers the routes on {@code api}; call before {@link ApiRoutes#routing} (its catch-all answers 404). */
    public void routing(HttpRouting.Builder r, ApiRoutes api) {
        api.register(r, Method.POST, "/api/v1/experiments", Scope.ROLLOUTS_WRITE, (q, s, who) -> {
            JsonNode body = ApiRoutes.body(q); // the API's own reading: 413 over its limit, "Malformed JSON" with line and column
            JsonNode share = body.path("share");
            if (!share.isNumber()) {
                throw new ApiException(400, "Invalid experiment", "share must be a number strictly between 0 and 1");
            }
            Experiment e = experiments.start(text(body, "model", null), text(body, "candidate", null), share.asDouble(),
                    text(body, "splitBy", "share"), text(body, "selector", ""));
            send(s, json(e), Status.CREATED_201);
        });
        api.register(r, Method.GET, "/api/v1/experiments", Scope.ROLLOUTS_READ, (q, s, who) ->
                send(s, Map.of("experiments", experiments.list().stream().map(AbRoutes::json).toList()), Status.OK_200));
        api.register(r, Method.GET, "/api/v1/experiments/{id}", Scope.ROLLOUTS_READ, (q, s, who) -> {
            Experiment e = find(q);
            double level = number(q, "level", 0.95, 0.5, 0.999);
            long minSamples = (long) number(q, "minSamples", DEFAULT_MIN_SAMPLES, 1, 1e12);
            long minLabelled = (long) number(q, "minLabelled", Comparison.DEFAULT_MIN_LABELLED, 1, 1e12);
            Map<String, Object> out = json(e);
            out.put("comparison", Comparison.toJson(experiments.totals(e, "a"), experiments.totals(e, "b"), level, minSamples,
                    minLabelled));
            out.putAll(delivery(e, experiments.commands().of(e.id())));
            send(s, out, Status.OK_200);
        });
        api.register(r, Method.POST, "/api/v1/experiments/{id}/stop", Scope.ROLLOUTS_WRITE, (q, s, who) ->
                send(s, json(experiments.stop(find(q).id())), Status.OK_200));
    }

    /**
     * The split commands' delivery: {@code commands} (per device and command: state, last acknowledged phase, error,
     * attempts, times) and, while the experiment runs, {@code notRunning}: the devices whose start is not acknowledged
     * {@code activated} (yet to receive it, still loading arm B, or failed).
     */
    static Map<String, Object> delivery(Experiment e, java.util.List<SplitCommands.Tracked> commands) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("commands", commands.stream().map(SplitCommands.Tracked::json).toList());
        if (e.state().equals(Experiment.RUNNING)) {
            java.util.Set<String> running = new java.util.HashSet<>();
            commands.stream().filter(c -> c.kind().equals("start") && c.phase().filter("activated"::equals).isPresent())
                    .forEach(c -> running.add(c.key()));
            out.put("notRunning", e.devices().stream().filter(d -> !running.contains(d)).toList());
        }
        return out;
    }

    private Experiment find(ServerRequest q) {
        String id = q.path().pathParameters().get("id");
        return experiments.get(id).orElseThrow(() -> new ApiException(404, "No experiment", "no experiment '" + printable(id) + "'"));
    }

    private static String printable(String s) {
        return s.length() > 64 || !s.chars().allMatch(c -> c >= 0x20 && c < 0x7f) ? "?" : s;
    }

    private static double number(ServerRequest q, String name, double dflt, double min, double max) {
        var v = q.query().first(name);
        if (v.isEmpty()) {
            return dflt;
        }
        try {
            double d = Double.parseDouble(v.get());
            if (d >= min && d <= max) {
                return d;
            }
        } catch (NumberFormatException ignored) {
            // answered below
        }
        throw new ApiException(400, "Invalid " + name, name + " must be a number within " + min + ".." + max);
    }

    private static String text(JsonNode body, String field, String dflt) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            if (dflt == null) {
                throw new ApiException(400, "Invalid experiment", field + " is required");
            }
            return dflt;
        }
        if (!n.isTextual()) {
            throw new ApiException(400, "Invalid experiment", field + " must be a string");
        }
        return n.asText();
    }

    static Map<String, Object> json(Experiment e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id());
        m.put("model", e.model());
        m.put("versionA", e.versionA());
        m.put("versionB", e.versionB());
        m.put("share", e.share());
        m.put("splitBy", e.splitBy());
        m.put("devices", e.devices());
        m.put("state", e.state());
        m.put("createdAt", e.createdAt().toString());
        e.stoppedAt().ifPresent(t -> m.put("stoppedAt", t.toString()));
        return m;
    }

    private static void send(ServerResponse res, Object body, Status status) throws Exception {
        res.status(status).header(HeaderNames.CONTENT_TYPE, "application/json").send(Jdbc.JSON.writeValueAsBytes(body));
    }
}
