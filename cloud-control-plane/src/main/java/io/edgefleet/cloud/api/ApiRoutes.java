package io.edgefleet.cloud.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.cloud.access.Principal;
import io.edgefleet.cloud.access.Scope;
import io.edgefleet.cloud.access.TokenStore;
import io.edgefleet.cloud.fleet.DeviceRecord;
import io.edgefleet.cloud.fleet.FleetRegistry;
import io.edgefleet.cloud.fleet.Selector;
import io.edgefleet.cloud.ingest.IngestStats;
import io.edgefleet.cloud.registry.Metadata;
import io.edgefleet.cloud.registry.ModelRegistry;
import io.edgefleet.cloud.registry.ModelVersion;
import io.edgefleet.cloud.registry.RegistryException;
import io.edgefleet.cloud.rollout.RolloutEngine;
import io.edgefleet.cloud.rollout.RolloutSpec;
import io.edgefleet.cloud.rollout.RolloutStore;
import io.edgefleet.cloud.store.EventRepository;
import io.edgefleet.cloud.store.StoreException;
import io.edgefleet.cloud.store.TelemetryRepository;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.Json;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.Precision;
import io.edgefleet.protocols.messages.ModelState;
import io.edgefleet.sync.signing.Keys;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The REST API under {@code /api/v1}: models and versions (multipart upload), devices (list with
 * a selector, get, pre-register), telemetry aggregates, events. JSON in and out; every error is
 * RFC 7807 problem JSON ({@code application/problem+json}) with {@code type}, {@code title},
 * {@code status}, {@code detail}, {@code instance}. Every route needs one {@link Scope} of the
 * bearer credential ({@link Auth}); every mutating call and every refusal is audited
 * ({@link CallAudit}) by the one route wrapper {@code run}.
 */
public final class ApiRoutes {
    private static final System.Logger LOG = System.getLogger(ApiRoutes.class.getName());
    public static final String PROBLEM_JSON = "application/problem+json";
    private static final String JSON = "application/json";
    private static final int MAX_JSON_BODY = 1024 * 1024;
    static final ObjectMapper MAPPER = Json.jsonMapper(DecodeLimits.DEFAULT.withMaxMessageBytes(MAX_JSON_BODY));

    private final Auth auth;
    private final CallAudit audit;
    private final AccessApi access;
    private final List<RouteSpec> routes = new ArrayList<>();
    private final ModelRegistry registry;
    private final RolloutEngine rollouts;
    private final FleetRegistry fleet;
    private final TelemetryRepository telemetry;
    private final EventRepository events;
    private final IngestStats ingest;
    private final DeviceCatalog catalog;
    private final Path uploads;
    private final long maxUploadBytes;
    private final Supplier<Map<String, Object>> status;

    public ApiRoutes(Auth auth, CallAudit audit, AccessApi access, ModelRegistry registry, RolloutEngine rollouts, FleetRegistry fleet, TelemetryRepository telemetry, EventRepository events,
            IngestStats ingest, DeviceCatalog catalog, Path uploads, long maxUploadBytes, Supplier<Map<String, Object>> status) {
        this.auth = auth;
        this.audit = audit;
        this.access = access;
        this.registry = registry;
        this.rollouts = rollouts;
        this.fleet = fleet;
        this.telemetry = telemetry;
        this.events = events;
        this.ingest = ingest;
        this.catalog = catalog;
        this.uploads = uploads;
        this.maxUploadBytes = maxUploadBytes;
        this.status = status;
    }

    /** A route's handler: blocking code on a virtual thread, given the authenticated caller. */
    @FunctionalInterface
    public interface Handler {
        void handle(ServerRequest req, ServerResponse res, Principal who) throws Exception;
    }

    /**
     * A route of this API: its method, path template and the one scope it needs (empty: any valid
     * credential, only for the catch-all that answers 404).
     */
    public record RouteSpec(String method, String template, Optional<Scope> scope) {
    }

    /** The routes {@link #routing} registered, in order (the table of docs/control-plane.md). */
    public List<RouteSpec> routes() {
        return List.copyOf(routes);
    }

    /**
     * Registers a route of another part of the API (the device-identity endpoints) through the same
     * wrapper: authentication, the one scope it needs, problem JSON and the audit row. Call it
     * before {@link #routing}, whose catch-all answers 404.
     */
    public void register(HttpRouting.Builder r, Method method, String template, Scope scope, Handler h) {
        route(r, method, template, java.util.Objects.requireNonNull(scope, "scope"), h);
    }

    /**
     * Registers a route under {@code /api/v1} that authenticates its caller itself or not at all
     * (device enrolment and renewal, the CA certificate and CRL): no wrapper, but listed in
     * {@link #publicRoutes()} so that the OpenAPI document can be checked against it. Call it
     * before {@link #routing}.
     */
    public void registerPublic(HttpRouting.Builder r, Method method, String template, io.helidon.webserver.http.Handler h) {
        publicRoutes.add(new RouteSpec(method.text(), template, Optional.empty()));
        r.route(method, template, h);
    }

    /** The routes {@link #registerPublic} registered, in order. */
    public List<RouteSpec> publicRoutes() {
        return List.copyOf(publicRoutes);
    }

    private final List<RouteSpec> publicRoutes = new ArrayList<>();

    private void route(HttpRouting.Builder r, Method method, String template, Scope scope, Handler h) {
        routes.add(new RouteSpec(method.text(), template, Optional.ofNullable(scope)));
        r.route(method, template, (req, res) -> run(req, res, template, Optional.ofNullable(scope), h));
    }

    public void routing(HttpRouting.Builder r) {
        route(r, Method.GET, "/api/v1", Scope.FLEET_READ, (q, s, t) -> json(s, 200, status.get()));
        route(r, Method.GET, "/api/v1/keys", Scope.MODELS_READ, (q, s, t) -> json(s, 200, Map.of("keys",
                List.of(Map.of("keyId", registry.key().keyId(), "publicKey", Keys.encode(registry.key().publicKey()))))));
        route(r, Method.GET, "/api/v1/profiles", Scope.FLEET_READ, (q, s, t) -> json(s, 200, catalog.all()));
        route(r, Method.GET, "/api/v1/models", Scope.MODELS_READ, (q, s, t) -> json(s, 200, registry.models()));
        route(r, Method.GET, "/api/v1/models/{m}", Scope.MODELS_READ, this::model);
        route(r, Method.POST, "/api/v1/models/{m}/versions", Scope.MODELS_WRITE, this::register);
        route(r, Method.GET, "/api/v1/models/{m}/versions/{v}", Scope.MODELS_READ, (q, s, t) -> json(s, 200, version(q)));
        route(r, Method.GET, "/api/v1/models/{m}/versions/{v}/manifest", Scope.MODELS_READ, (q, s, t) -> {
            byte[] m = registry.manifest(p(q, "m"), p(q, "v")).orElseThrow(() -> ModelRegistry.notFound(p(q, "m"), p(q, "v")));
            s.status(Status.OK_200).header(HeaderNames.CONTENT_TYPE, JSON).send(m);
        });
        route(r, Method.POST, "/api/v1/models/{m}/versions/{v}/deprecate", Scope.MODELS_WRITE, (q, s, t) -> {
            JsonNode body = body(q);
            String reason = body.path("reason").asText("");
            version(q);
            json(s, 200, registry.deprecate(p(q, "m"), p(q, "v"), t.name(), reason));
        });
        route(r, Method.GET, "/api/v1/devices", Scope.FLEET_READ, this::devices);
        route(r, Method.GET, "/api/v1/fleets/{f}/devices/{d}", Scope.FLEET_READ, (q, s, t) -> json(s, 200,
                view(fleet.get(p(q, "f"), p(q, "d")).orElseThrow(() -> new ApiException(404, "Unknown device",
                        "no device " + p(q, "f") + "/" + p(q, "d") + " is registered or has reported")))));
        route(r, Method.PUT, "/api/v1/fleets/{f}/devices/{d}", Scope.FLEET_WRITE, this::registerDevice);
        route(r, Method.GET, "/api/v1/telemetry/models/{m}/versions/{v}", Scope.FLEET_READ, this::modelTelemetry);
        route(r, Method.GET, "/api/v1/telemetry/fleets/{f}/devices/{d}", Scope.FLEET_READ, this::deviceTelemetry);
        route(r, Method.GET, "/api/v1/events", Scope.FLEET_READ, (q, s, t) -> json(s, 200,
                events.list(q.query().first("subject").asOptional(), intParam(q, "limit", 100, 1, 10_000))));
        route(r, Method.GET, "/api/v1/ingest", Scope.FLEET_READ, (q, s, t) -> json(s, 200, ingest.snapshot()));
        route(r, Method.POST, "/api/v1/rollouts", Scope.ROLLOUTS_WRITE, this::createRollout);
        route(r, Method.GET, "/api/v1/rollouts", Scope.ROLLOUTS_READ, (q, s, t) -> json(s, 200, RolloutViews.list(rollouts.list())));
        route(r, Method.GET, "/api/v1/rollouts/{id}", Scope.ROLLOUTS_READ, (q, s, t) -> json(s, 200, rolloutStatus(p(q, "id"))));
        route(r, Method.POST, "/api/v1/rollouts/{id}/{op}", Scope.ROLLOUTS_WRITE, (q, s, t) -> {
            JsonNode body = body(q);
            rollouts.operate(p(q, "id"), p(q, "op"), t.name(), body.path("reason").asText(""));
            json(s, 200, rolloutStatus(p(q, "id")));
        });
        route(r, Method.GET, "/api/v1/fleets/{f}/devices/{d}/commands", Scope.ROLLOUTS_READ, this::deviceCommands);
        // Any valid credential: who it is and what it may do (the console shows operators' actions only to them).
        route(r, Method.GET, "/api/v1/whoami", null, (q, s, t) -> json(s, 200, whoami(t)));
        route(r, Method.GET, "/api/v1/tokens", Scope.TOKENS_ADMIN, (q, s, t) -> json(s, 200, access.list()));
        route(r, Method.POST, "/api/v1/tokens", Scope.TOKENS_ADMIN, (q, s, t) -> access.create(body(q), s, t));
        route(r, Method.POST, "/api/v1/tokens/{name}/revoke", Scope.TOKENS_ADMIN, (q, s, t) -> json(s, 200, access.revoke(p(q, "name"), t)));
        route(r, Method.GET, "/api/v1/audit", Scope.AUDIT_READ, (q, s, t) -> json(s, 200, access.audit(
                q.query().first("since").asOptional().map(x -> time(x, fleet.now(), "since")), q.query().first("actor").asOptional(),
                intParam(q, "limit", 100, 1, 10_000))));
        for (Method m : List.of(Method.GET, Method.POST, Method.PUT, Method.DELETE, Method.PATCH)) {
            routes.add(new RouteSpec(m.text(), "/api/v1/*", Optional.empty()));
        }
        r.any("/api/v1/*", (req, res) -> run(req, res, "/api/v1/*", Optional.empty(), (q, s, t) -> {
            String path = q.path().path();
            java.util.SortedSet<String> allowed = new java.util.TreeSet<>();
            java.util.stream.Stream.concat(routes.stream(), publicRoutes.stream())
                    .filter(x -> !x.template().endsWith("/*") && templatePattern(x.template()).matcher(path).matches())
                    .forEach(x -> allowed.add(x.method()));
            if (!allowed.isEmpty()) { // RFC 9110 15.5.6: the path exists, the method does not
                s.header(HeaderNames.ALLOW, String.join(", ", allowed));
                throw new ApiException(405, "Method not allowed", q.prologue().method().text() + " " + path + ": this endpoint answers "
                        + String.join(", ", allowed));
            }
            throw new ApiException(404, "Not found", q.prologue().method().text() + " " + path
                    + " is not an endpoint of this API (see GET /api/v1)");
        }));
    }

    /** A route template ({@code /api/v1/models/{m}}) as a pattern matching the paths it serves. */
    private static java.util.regex.Pattern templatePattern(String template) {
        StringBuilder b = new StringBuilder();
        for (String part : template.split("(?=\\{)|(?<=\\})")) {
            b.append(part.startsWith("{") && part.endsWith("}") ? "[^/]+" : java.util.regex.Pattern.quote(part));
        }
        return java.util.regex.Pattern.compile(b.toString());
    }

    /** The route wrapper: authentication, the route's scope, the handler, errors as problem JSON, and the audit row. */
    private void run(ServerRequest req, ServerResponse res, String template, Optional<Scope> scope, Handler h) {
        Principal who = null;
        // The audit row is written before the response's first byte: a client that got its answer finds the call in the
        // audit (written after the send, an audit query right behind the call could miss it). Once per call.
        Principal[] caller = {null};
        java.util.concurrent.atomic.AtomicBoolean audited = new java.util.concurrent.atomic.AtomicBoolean();
        res.beforeSend(() -> {
            if (audited.compareAndSet(false, true)) {
                audit.record(req, Optional.ofNullable(caller[0]), template, res.status().code());
            }
        });
        try {
            who = auth.authenticate(req.headers().first(HeaderNames.AUTHORIZATION));
            caller[0] = who;
            if (scope.isPresent()) {
                Auth.require(who, scope.get());
            }
            h.handle(req, res, who);
        } catch (ApiException e) {
            problem(req, res, e);
        } catch (io.edgefleet.cloud.rollout.RolloutException e) {
            problem(req, res, RolloutProblems.of(e));
        } catch (TokenStore.NameTakenException e) {
            problem(req, res, new ApiException(409, "Token name taken", e.getMessage()));
        } catch (RegistryException e) {
            Map<String, Object> ext = new LinkedHashMap<>(e.extensions());
            if (!e.refusals().isEmpty()) {
                ext.put("refusals", e.refusals());
            }
            problem(req, res, new ApiException(e.status(), e.title(), e.getMessage(), ext));
        } catch (Multipart.MultipartException e) {
            problem(req, res, new ApiException(e.tooLarge() ? 413 : 400, e.tooLarge() ? "Upload too large" : "Malformed upload", e.getMessage()));
        } catch (ProtocolException | IllegalArgumentException e) {
            problem(req, res, new ApiException(400, "Bad request", e.getMessage()));
        } catch (StoreException e) {
            LOG.log(System.Logger.Level.ERROR, "database failure on " + req.path().path(), e);
            problem(req, res, new ApiException(500, "Database error", "the request was not applied: "
                    + java.util.Objects.requireNonNullElse(e.getMessage(), "the database failed")));
        } catch (Exception e) {
            var client = io.edgefleet.http.limits.ClientErrors.of(e);
            if (client.isPresent()) { // the client's failure while its body was read: one line, no stack trace
                CLIENTS.log(client.get().kind(), req.path().path() + ": " + client.get().message());
                if (client.get().gone()) {
                    audited.set(true);
                    audit.record(req, Optional.ofNullable(who), template, 499);
                    throw new io.helidon.webserver.CloseConnectionException(client.get().kind());
                }
                problem(req, res, new ApiException(client.get().status(), client.get().status() == 413 ? "Upload too large" : "Malformed request",
                        client.get().message()));
            } else {
                problem(req, res, internalError(req, e));
            }
        }
        if (audited.compareAndSet(false, true)) { // nothing was sent (or the response type has no before-send hook)
            audit.record(req, Optional.ofNullable(who), template, res.status().code());
        }
    }

    /**
     * A failure of ours: logged with its stack trace under a short incident id, answered 500 with
     * that id and no exception text nor class name (they are internals, and may be null).
     */
    public static ApiException internalError(ServerRequest req, Exception e) {
        String incident = Long.toString(java.util.concurrent.ThreadLocalRandom.current().nextLong(0x1000000L, 0xfffffffL), 16);
        LOG.log(System.Logger.Level.ERROR, "incident " + incident + ": failure on " + req.prologue().method().text() + " " + req.path().path(), e);
        return new ApiException(500, "Internal error", "the request failed on the control plane (incident " + incident
                + "; its log has the details)");
    }

    private static final io.edgefleet.transport.net.ClientFailureLog CLIENTS = new io.edgefleet.transport.net.ClientFailureLog(
            "io.edgefleet.cloud.clients");

    /** Answers {@code e} as RFC 7807 problem JSON (401 with {@code WWW-Authenticate: Bearer}). */
    public static void problem(ServerRequest req, ServerResponse res, ApiException e) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "https://edgefleet.io/problems/" + e.title().toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]+", "-"));
        body.put("title", e.title());
        body.put("status", e.status());
        // every problem's detail comes through here: never "null" (an exception without a message) nor blank
        body.put("detail", e.getMessage() == null || e.getMessage().isBlank() ? e.title() : e.getMessage());
        body.put("instance", req.path().path());
        body.putAll(e.extensions());
        if (e instanceof AccessDenied d) {
            res.header(HeaderNames.WWW_AUTHENTICATE, d.challenge());
        } else if (e.status() == 401) {
            res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"edgefleet\"");
        }
        try {
            res.status(Status.create(e.status())).header(HeaderNames.CONTENT_TYPE, PROBLEM_JSON).send(MAPPER.writeValueAsBytes(body));
        } catch (JsonProcessingException x) {
            res.status(Status.INTERNAL_SERVER_ERROR_500).send();
        }
    }

    private static void json(ServerResponse res, int status, Object body) throws JsonProcessingException {
        res.status(Status.create(status)).header(HeaderNames.CONTENT_TYPE, JSON).send(MAPPER.writeValueAsBytes(body));
    }

    private static String p(ServerRequest req, String name) {
        return req.path().pathParameters().get(name);
    }

    /**
     * A request's JSON object body, as every API route reads it: none is an empty object; more than
     * {@code MAX_JSON_BODY} bytes a 413; not JSON a 400 "Malformed JSON" with the parser's line and
     * column; JSON that is not an object a 400. Public for the routes other packages register
     * ({@code ab.AbRoutes}).
     */
    public static JsonNode body(ServerRequest req) throws IOException {
        if (!req.content().hasEntity()) {
            return MAPPER.createObjectNode();
        }
        byte[] b;
        try (InputStream in = req.content().inputStream()) {
            b = in.readNBytes(MAX_JSON_BODY + 1);
        }
        if (b.length > MAX_JSON_BODY) {
            throw new ApiException(413, "Body too large", "JSON bodies are limited to " + MAX_JSON_BODY + " bytes");
        }
        if (b.length == 0) {
            return MAPPER.createObjectNode();
        }
        try {
            JsonNode n = MAPPER.readTree(b);
            if (!n.isObject()) {
                throw new ApiException(400, "Malformed JSON", "the body must be a JSON object");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new ApiException(400, "Malformed JSON", Json.translate(e).getMessage());
        }
    }

    private ModelVersion version(ServerRequest q) {
        return registry.version(p(q, "m"), p(q, "v")).orElseThrow(() -> ModelRegistry.notFound(p(q, "m"), p(q, "v")));
    }

    private void model(ServerRequest q, ServerResponse s, Principal t) throws Exception {
        String m = p(q, "m");
        List<ModelVersion> versions = registry.versions(m);
        if (versions.isEmpty()) {
            throw new ApiException(404, "Unknown model", "no model named " + m + " is registered");
        }
        json(s, 200, Map.of("name", m, "versions", versions));
    }

    private void register(ServerRequest q, ServerResponse s, Principal t) throws Exception {
        String model = p(q, "m");
        String boundary = Multipart.boundary(q.headers().contentType().map(c -> c.text()).orElse(null));
        Path dir = uploads.resolve(UUID.randomUUID().toString());
        Files.createDirectories(dir);
        try {
            List<Multipart.Part> parts;
            try (InputStream in = q.content().inputStream()) {
                parts = Multipart.read(in, boundary, dir, maxUploadBytes);
            }
            JsonNode meta = MAPPER.createObjectNode();
            Optional<String> version = Optional.empty();
            List<String> profiles = new ArrayList<>();
            List<Multipart.Part> files = new ArrayList<>();
            boolean allowSignatureChange = q.query().first(ALLOW_SIGNATURE_CHANGE).asOptional().map(ApiRoutes::flag).orElse(false);
            for (Multipart.Part part : parts) {
                if (part.file().isPresent()) {
                    files.add(part);
                } else if (part.name().equals("metadata")) {
                    try {
                        meta = MAPPER.readTree(part.value().orElse("{}"));
                    } catch (com.fasterxml.jackson.core.JacksonException e) {
                        throw new ApiException(400, "Malformed JSON", "metadata part: " + Json.translate(e).getMessage());
                    }
                } else if (part.name().equals("version")) {
                    version = part.value().map(String::strip);
                } else if (part.name().equals("targetProfile")) {
                    part.value().map(String::strip).filter(v -> !v.isEmpty()).ifPresent(profiles::add);
                } else if (part.name().equals(ALLOW_SIGNATURE_CHANGE)) {
                    allowSignatureChange = flag(part.value().orElse(""));
                } else {
                    throw new ApiException(400, "Unknown form field", "form field '" + part.name()
                            + "' is not one of version, metadata, targetProfile, " + ALLOW_SIGNATURE_CHANGE + ", or a file");
                }
            }
            if (version.isEmpty() && meta.hasNonNull("version")) {
                version = Optional.of(meta.get("version").asText());
            }
            String v = version.orElseThrow(() -> new ApiException(400, "Missing version", "the form needs a 'version' field"));
            meta.path("targetProfiles").forEach(n -> profiles.add(n.asText()));
            Map<String, Precision> precisions = new HashMap<>();
            meta.path("precision").properties().forEach(e -> precisions.put(e.getKey(), Precision.fromWire(e.getValue().asText())));
            List<String> labels = new ArrayList<>();
            meta.path("labels").forEach(n -> labels.add(n.asText()));
            Metadata md = new Metadata(text(meta, "task"), labels, text(meta, "owner"), text(meta, "description"));
            List<ModelRegistry.Upload> uploadsList = files.stream().map(f -> new ModelRegistry.Upload(f.fileName().orElseThrow(),
                    f.file().orElseThrow(), Optional.ofNullable(precisions.get(f.fileName().orElseThrow())))).toList();
            ModelVersion mv = registry.register(new ModelRegistry.Registration(model, v, profiles.stream().distinct().toList(), md,
                    allowSignatureChange), uploadsList, t.name());
            s.header(HeaderNames.LOCATION, "/api/v1/models/" + model + "/versions/" + v);
            json(s, 201, mv);
        } finally {
            deleteTree(dir);
        }
    }

    /**
     * The form field (or query parameter) with which an operator registers a version whose inputs or
     * outputs differ from the previous version's; without it such a version is refused with 409.
     */
    static final String ALLOW_SIGNATURE_CHANGE = "allowSignatureChange";

    private static boolean flag(String value) {
        return switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> true;
            case "false", "" -> false;
            default -> throw new ApiException(400, "Bad parameter", ALLOW_SIGNATURE_CHANGE + " must be true or false, got '"
                    + value.strip() + "'");
        };
    }

    private void createRollout(ServerRequest q, ServerResponse s, Principal t) throws Exception {
        JsonNode body = body(q);
        RolloutSpec spec;
        try {
            spec = RolloutSpec.read(MAPPER, body);
        } catch (ProtocolException | IllegalArgumentException e) {
            throw new ApiException(400, "Invalid rollout", e.getMessage());
        }
        RolloutStore.RolloutRow r = rollouts.create(spec, t.name());
        s.header(HeaderNames.LOCATION, "/api/v1/rollouts/" + r.id());
        json(s, 201, rolloutStatus(r.id()));
    }

    /** A rollout's status as {@link RolloutViews#status} shows it (waves numbered from 1). */
    private Map<String, Object> rolloutStatus(String id) {
        RolloutEngine.Snapshot snap = rollouts.snapshot(id).orElseThrow(() -> new ApiException(404, "Unknown rollout", "no rollout " + id));
        Map<String, Object> out = RolloutViews.status(snap);
        ShadowViews.addTo(out, rollouts, id, snap.rollout().spec());
        if (snap.rollout().state().active()) { // an ended rollout's last verdict is its state and log, not a stale "wait"
            rollouts.evaluation(id).ifPresent(e -> out.put("evaluation", e));
        }
        return out;
    }

    /**
     * {@code {"name", "kind": "token"|"jwt"|"device", "role": "operator"|"viewer"|"custom", "scopes": [...]}}:
     * the role is {@code operator} for every scope, {@code viewer} for exactly the viewer's.
     */
    static Map<String, Object> whoami(Principal who) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", who.name());
        out.put("kind", who.kind().wire());
        out.put("role", who.scopes().containsAll(Scope.OPERATOR) ? "operator" : who.scopes().equals(Scope.VIEWER) ? "viewer" : "custom");
        out.put("scopes", java.util.Arrays.stream(Scope.values()).filter(who::may).map(Scope::wire).toList());
        return out;
    }

    /** The rollouts that included a device, latest first: its command history (waves numbered from 1). */
    private void deviceCommands(ServerRequest q, ServerResponse s, Principal t) throws Exception {
        String f = p(q, "f");
        String d = p(q, "d");
        List<Map<String, Object>> out = new ArrayList<>();
        for (RolloutStore.DeviceCommand c : rollouts.commandsOf(f, d, intParam(q, "limit", 50, 1, 1000))) {
            RolloutStore.DeviceRow row = c.device();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("rollout", c.rollout());
            m.put("model", c.model());
            m.put("version", c.version());
            m.put("rolloutState", c.rolloutState().wire());
            m.put("wave", row.wave() + 1);
            m.put("state", row.state().wire());
            m.put("fromVersion", row.fromVersion());
            m.put("commandId", row.commandId());
            m.put("attempts", row.attempts());
            m.put("commandedAt", row.commandedAt());
            m.put("activatedAt", row.activatedAt());
            m.put("error", row.error());
            m.put("updatedAt", row.updatedAt());
            out.add(m);
        }
        json(s, 200, Map.of("fleet", f, "device", d, "commands", out));
    }

    private static Optional<String> text(JsonNode n, String field) {
        return n.hasNonNull(field) ? Optional.of(n.get(field).asText()) : Optional.empty();
    }

    /** A device as the API shows it: the record plus its truthful status. */
    public record DeviceView(String fleet, String device, String status, Optional<Instant> statusSince, Optional<String> profile,
            Optional<String> agentVersion, List<String> tags, List<ModelState> models, Optional<Instant> lastSeen, Instant registeredAt,
            Optional<Instant> enrolledAt, List<io.edgefleet.protocols.messages.RuntimeReport> runtimes,
            Optional<io.edgefleet.protocols.messages.ResourceUsage> resources, Optional<Instant> resourcesAt) {
    }

    private DeviceView view(DeviceRecord d) {
        Instant now = fleet.now();
        return new DeviceView(d.fleet(), d.device(), d.status(now, fleet.staleAfter()).wire(), d.statusSince(now, fleet.staleAfter()),
                d.profile(), d.agentVersion(), d.tags(), d.models(), d.lastSeen(), d.registeredAt(),
                d.enrolledAt(), d.runtimes(), d.resources(), d.resourcesAt());
    }

    private void devices(ServerRequest q, ServerResponse s, Principal t) throws Exception {
        List<String> terms = new ArrayList<>();
        q.query().first("selector").asOptional().filter(x -> !x.isBlank()).ifPresent(terms::add);
        for (String key : List.of("fleet", "tag", "profile", "model", "status", "device")) {
            q.query().all(key, List::of).forEach(v -> terms.add(key + "=" + v));
        }
        Selector sel = Selector.parse(String.join(",", terms));
        List<DeviceView> out = fleet.select(sel).stream().map(this::view).toList();
        json(s, 200, Map.of("selector", sel.toString(), "count", out.size(), "devices", out));
    }

    private void registerDevice(ServerRequest q, ServerResponse s, Principal t) throws Exception {
        String f = p(q, "f");
        String d = p(q, "d");
        Checks.id(f, "fleet");
        Checks.id(d, "device");
        JsonNode body = body(q);
        List<String> tags = new ArrayList<>();
        body.path("tags").forEach(n -> tags.add(n.asText()));
        Optional<String> profile = text(body, "profile");
        profile.ifPresent(pid -> catalog.find(pid).orElseThrow(() -> new ApiException(422, "Unknown device profile",
                "profile '" + pid + "' is not in the catalog (see GET /api/v1/profiles)")));
        json(s, 200, view(fleet.register(f, d, tags, profile, t.name())));
    }

    private Instant[] range(ServerRequest q) {
        Instant now = fleet.now();
        Instant from = q.query().first("from").asOptional().map(x -> time(x, now, "from")).orElse(now.minus(Duration.ofHours(1)));
        Instant to = q.query().first("to").asOptional().map(x -> time(x, now, "to")).orElse(now.plus(telemetry.bucket()));
        if (!from.isBefore(to)) {
            throw new ApiException(400, "Bad time range", "from (" + from + ") must be before to (" + to + ")");
        }
        return new Instant[] {from, to};
    }

    /** An ISO-8601 instant, or a duration back from now: {@code -15m}, {@code -2h}, {@code -30s}, {@code -1d}. */
    static Instant time(String s, Instant now, String name) {
        String t = s.strip();
        if (t.matches("-\\d+[smhd]")) {
            long n = Long.parseLong(t.substring(1, t.length() - 1));
            Duration d = switch (t.charAt(t.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            return now.minus(d);
        }
        try {
            return Instant.parse(t);
        } catch (DateTimeParseException e) {
            throw new ApiException(400, "Bad time", name + "='" + s + "' is neither an ISO-8601 instant nor -N[s|m|h|d]");
        }
    }

    private static int intParam(ServerRequest q, String name, int dflt, int min, int max) {
        Optional<String> v = q.query().first(name).asOptional();
        if (v.isEmpty()) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v.get());
            if (n < min || n > max) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ApiException(400, "Bad parameter", name + " must be an integer in " + min + ".." + max + ", got '" + v.get() + "'");
        }
    }

    private void modelTelemetry(ServerRequest q, ServerResponse s, Principal t) throws Exception {
        Instant[] r = range(q);
        String m = p(q, "m");
        String v = p(q, "v");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", m);
        out.put("version", v);
        out.put("from", r[0]);
        out.put("to", r[1]);
        out.put("bucketSeconds", telemetry.bucket().toSeconds());
        out.put("total", telemetry.modelTotal(m, v, r[0], r[1]));
        if (q.query().first("series").asOptional().map(Boolean::parseBoolean).orElse(false)) {
            out.put("series", telemetry.modelSeries(m, v, r[0], r[1]));
        }
        json(s, 200, out);
    }

    private void deviceTelemetry(ServerRequest q, ServerResponse s, Principal t) throws Exception {
        Instant[] r = range(q);
        String f = p(q, "f");
        String d = p(q, "d");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("fleet", f);
        out.put("device", d);
        out.put("from", r[0]);
        out.put("to", r[1]);
        out.put("models", telemetry.deviceTotals(f, d, r[0], r[1]));
        out.put("lostBatches", telemetry.lost(f, d));
        if (q.query().first("series").asOptional().map(Boolean::parseBoolean).orElse(false)) {
            out.put("bucketSeconds", telemetry.bucket().toSeconds());
            out.put("series", telemetry.deviceSeries(f, d, r[0], r[1]));
        }
        json(s, 200, out);
    }

    private static void deleteTree(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot delete {0}: {1}", p, e.getMessage());
                }
            });
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot clean {0}: {1}", dir, e.getMessage());
        }
    }
}
