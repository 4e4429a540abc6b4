package io.edgefleet.agent.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.slots.ModelNotServedException;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.agent.slots.SlotException;
import io.edgefleet.protocols.Checks;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Triton's model repository and statistics extensions of the v2 protocol, on the agent's models:
 * <ul>
 * <li>{@code POST /v2/repository/index} (body optional, {@code {"ready": true}} lists only READY
 *     models): 200 with {@code [{"name", "version", "state": "READY"|"UNAVAILABLE", "reason"}]}.
 * <li>{@code POST /v2/repository/models/{m}/load}, {@code .../unload}: 200 with an empty body;
 *     404 for a model the agent has no file of; 500 when the file does not load (the runtime's
 *     message stays in the log). An unloaded model answers 503 "not ready" until it is loaded
 *     again, a version of it is deployed, or the agent restarts (the store keeps it active).
 * <li>{@code GET /v2/models/stats}, {@code /v2/models/{m}/stats},
 *     {@code /v2/models/{m}/versions/{v}/stats}: 200 with Triton's {@code {"model_stats": [...]}}
 *     ({@link io.edgefleet.agent.serving.ModelStatistics}); 404 for an unknown model.
 * </ul>
 * Errors are the protocol's {@code {"error": "..."}}. Handlers run on Helidon's virtual threads;
 * load and unload are serialised by {@link ModelSlots}.
 */
final class RepositoryHttp {
    private static final System.Logger LOG = System.getLogger(RepositoryHttp.class.getName());
    /** Built when the first repository request needs it (class initialisation), not when the agent starts. */
    private static final class Mapper {
        static final ObjectMapper JSON = new ObjectMapper();
    }

    private final ModelSlots slots;
    private final InferenceService inference;
    private final OipHttp.Errors errors;

    RepositoryHttp(ModelSlots slots, InferenceService inference, OipHttp.Errors errors) {
        this.slots = slots;
        this.inference = inference;
        this.errors = errors;
    }

    /** Registers the routes; {@code /v2/models/stats} before the model metadata route that would take it for a model. */
    void routing(V2Routes v2) {
        v2.route(Method.POST, "/v2/repository/index", this::index);
        v2.route(Method.POST, "/v2/repository/models/{m}/load", (req, res) -> change(req, res, true));
        v2.route(Method.POST, "/v2/repository/models/{m}/unload", (req, res) -> change(req, res, false));
        v2.route(Method.GET, "/v2/models/stats", (req, res) -> stats(res, Optional.empty(), Optional.empty()));
        v2.route(Method.GET, "/v2/models/{m}/stats", (req, res) -> stats(res, Optional.of(param(req, "m")), Optional.empty()));
        v2.route(Method.GET, "/v2/models/{m}/versions/{v}/stats", (req, res) -> stats(res, Optional.of(param(req, "m")),
                Optional.of(param(req, "v"))));
    }

    private static String param(ServerRequest req, String name) {
        return req.path().pathParameters().get(name);
    }

    private void index(ServerRequest req, ServerResponse res) throws Exception {
        boolean readyOnly = false;
        if (req.content().hasEntity()) {
            byte[] body;
            try {
                body = io.edgefleet.http.limits.BoundedBody.read(req, 64 * 1024);
            } catch (RuntimeException e) {
                errors.send(res, Status.BAD_REQUEST_400, "the index request body is over 64 KiB or could not be read");
                return;
            }
            if (body.length > 0) {
                JsonNode n;
                try {
                    n = Mapper.JSON.readTree(body);
                } catch (com.fasterxml.jackson.core.JacksonException e) {
                    errors.send(res, Status.BAD_REQUEST_400, "the index request is not JSON");
                    return;
                }
                if (n == null || !n.isObject() || (n.has("ready") && !n.get("ready").isBoolean())) {
                    errors.send(res, Status.BAD_REQUEST_400, "the index request is a JSON object with an optional boolean 'ready'");
                    return;
                }
                readyOnly = n.path("ready").asBoolean(false);
            }
        }
        boolean only = readyOnly;
        List<Map<String, Object>> out = slots.index().stream()
                .filter(e -> !only || e.state().equals(ModelSlots.RepositoryEntry.READY))
                .map(e -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", e.name());
                    m.put("version", e.version());
                    m.put("state", e.state());
                    m.put("reason", e.reason());
                    return m;
                }).toList();
        json(res, out);
    }

    private void change(ServerRequest req, ServerResponse res, boolean load) throws Exception {
        String model = param(req, "m");
        if (!Checks.ID.matcher(model).matches()) {
            errors.send(res, Status.BAD_REQUEST_400, "a model name is " + Checks.ID_RULE);
            return;
        }
        try {
            if (load) {
                slots.load(model);
            } else {
                slots.unload(model);
            }
            res.status(Status.OK_200).send();
        } catch (ModelNotServedException e) {
            errors.send(res, Status.NOT_FOUND_404, e.getMessage());
        } catch (SlotException e) {
            LOG.log(System.Logger.Level.WARNING, "repository load of {0} failed: {1}", model, e.getMessage());
            errors.send(res, Status.INTERNAL_SERVER_ERROR_500, "failed to load model '" + model + "'; the agent's log says why");
        }
    }

    private void stats(ServerResponse res, Optional<String> model, Optional<String> version) throws Exception {
        Map<String, String> known = new TreeMap<>();
        slots.index().stream().filter(e -> !e.version().isEmpty()).forEach(e -> known.put(e.name(), e.version()));
        Map<String, Object> out = inference.statistics().json(model, version, known);
        if (model.isPresent() && ((List<?>) out.get("model_stats")).isEmpty()) {
            String what = "model '" + model.get() + "'" + version.map(v -> " version '" + v + "'").orElse("");
            errors.send(res, Status.NOT_FOUND_404, Checks.ID.matcher(model.get()).matches() && version.map(v -> Checks.ID.matcher(v).matches())
                    .orElse(true) ? what + " is not in this agent's repository" : "no such model in this agent's repository");
            return;
        }
        json(res, out);
    }

    private static void json(ServerResponse res, Object body) throws Exception {
        res.status(Status.OK_200).header(HeaderNames.CONTENT_TYPE, "application/json").send(Mapper.JSON.writeValueAsBytes(body));
    }
}
