package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.VIEWER;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.access.AccessSettings;
import io.edgefleet.cloud.access.Scope;
import io.edgefleet.cloud.api.ApiRoutes;
import io.edgefleet.cloud.client.CloudClient;
import io.helidon.webserver.http.HttpRouting;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Operator access against a real control plane over real HTTP: the scope each route needs, named
 * tokens created, listed, revoked and expired, and the audit of calls (success and refusal, actor,
 * remote address, X-Forwarded-For from a trusted proxy). The control plane runs on a clock the
 * test moves, so expiry needs no waiting.
 */
class OperatorAccessTest {
    /** The specification: every route of /api/v1 and the scope it needs (also the table of docs/control-plane.md). */
    static final List<Object[]> ROUTES = List.of(
            new Object[] {"GET", "/api/v1", Scope.FLEET_READ},
            new Object[] {"GET", "/api/v1/keys", Scope.MODELS_READ},
            new Object[] {"GET", "/api/v1/profiles", Scope.FLEET_READ},
            new Object[] {"GET", "/api/v1/models", Scope.MODELS_READ},
            new Object[] {"GET", "/api/v1/models/{m}", Scope.MODELS_READ},
            new Object[] {"POST", "/api/v1/models/{m}/versions", Scope.MODELS_WRITE},
            new Object[] {"GET", "/api/v1/models/{m}/versions/{v}", Scope.MODELS_READ},
            new Object[] {"GET", "/api/v1/models/{m}/versions/{v}/manifest", Scope.MODELS_READ},
            new Object[] {"POST", "/api/v1/models/{m}/versions/{v}/deprecate", Scope.MODELS_WRITE},
            new Object[] {"GET", "/api/v1/devices", Scope.FLEET_READ},
            new Object[] {"GET", "/api/v1/fleets/{f}/devices/{d}", Scope.FLEET_READ},
            new Object[] {"PUT", "/api/v1/fleets/{f}/devices/{d}", Scope.FLEET_WRITE},
            new Object[] {"GET", "/api/v1/telemetry/models/{m}/versions/{v}", Scope.FLEET_READ},
            new Object[] {"GET", "/api/v1/telemetry/fleets/{f}/devices/{d}", Scope.FLEET_READ},
            new Object[] {"GET", "/api/v1/events", Scope.FLEET_READ},
            new Object[] {"GET", "/api/v1/ingest", Scope.FLEET_READ},
            new Object[] {"POST", "/api/v1/rollouts", Scope.ROLLOUTS_WRITE},
            new Object[] {"GET", "/api/v1/rollouts", Scope.ROLLOUTS_READ},
            new Object[] {"GET", "/api/v1/rollouts/{id}", Scope.ROLLOUTS_READ},
            new Object[] {"POST", "/api/v1/rollouts/{id}/{op}", Scope.ROLLOUTS_WRITE},
            new Object[] {"GET", "/api/v1/fleets/{f}/devices/{d}/commands", Scope.ROLLOUTS_READ},
            new Object[] {"GET", "/api/v1/tokens", Scope.TOKENS_ADMIN},
            new Object[] {"POST", "/api/v1/tokens", Scope.TOKENS_ADMIN},
            new Object[] {"POST", "/api/v1/tokens/{name}/revoke", Scope.TOKENS_ADMIN},
            new Object[] {"GET", "/api/v1/audit", Scope.AUDIT_READ},
            new Object[] {"POST", "/api/v1/enrolment-tokens", Scope.DEVICES_ENROL},
            new Object[] {"GET", "/api/v1/enrolment-tokens", Scope.FLEET_READ},
            new Object[] {"DELETE", "/api/v1/enrolment-tokens/{id}", Scope.DEVICES_ENROL},
            new Object[] {"POST", "/api/v1/fleets/{f}/devices/{d}/revoke", Scope.DEVICES_REVOKE},
            new Object[] {"GET", "/api/v1/logs", Scope.FLEET_READ},
            new Object[] {"GET", "/api/v1/devices/{id}/logs", Scope.FLEET_READ},
            new Object[] {"GET", "/api/v1/fleets/{f}/devices/{d}/logs", Scope.FLEET_READ});

    @TempDir
    static Path dir;
    static ControlPlane cp;
    static final AtomicReference<Instant> NOW = new AtomicReference<>(Instant.parse("2026-11-30T00:00:00Z"));
    static final HttpClient HTTP = HttpClient.newHttpClient();

    /** A clock the test moves forward (expiry); every component of the control plane reads it. */
    static final class MovableClock extends Clock {
        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return NOW.get();
        }
    }

    @BeforeAll
    static void start() {
        cp = ControlPlane.start(CloudTestSupport.config(dir).withAccess(AccessSettings.defaults().withTrustedProxies(Set.of("127.0.0.1"))),
                new MovableClock());
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    static Stream<Object[]> routes() {
        return ROUTES.stream();
    }

    @Test
    void the_table_names_every_route_the_api_registers() {
        ApiRoutes api = new ApiRoutes(null, null, null, null, null, null, null, null, null, null, null, 1024, null);
        HttpRouting.Builder b = HttpRouting.builder();
        new io.edgefleet.cloud.pki.PkiRoutes(null).routing(b, api);
        new io.edgefleet.cloud.api.LogRoutes(null, null).routing(b, api);
        api.routing(b);
        List<String> registered = api.routes().stream().filter(r -> r.scope().isPresent())
                .map(r -> r.method() + " " + r.template() + " " + r.scope().get().wire()).toList();
        List<String> table = ROUTES.stream().map(r -> r[0] + " " + r[1] + " " + ((Scope) r[2]).wire()).toList();
        assertThat(registered).containsExactlyInAnyOrderElementsOf(table);
    }

    @ParameterizedTest(name = "{0} {1} needs {2}")
    @MethodSource("routes")
    void each_route_needs_its_scope(String method, String template, Scope scope) throws Exception {
        String path = template.replace("{m}", "nomodel").replace("{v}", "1").replace("{f}", "f1").replace("{d}", "d1")
                .replace("{id}", "ro-none").replace("{op}", "pause").replace("{name}", "nobody");
        String tag = Integer.toHexString((method + template).hashCode());
        Set<Scope> allBut = EnumSet.allOf(Scope.class);
        allBut.remove(scope);
        String without = cp.tokenStore().create("without-" + tag, allBut, Duration.ofHours(1), "test").secret();
        String only = cp.tokenStore().create("only-" + tag, Set.of(scope), Duration.ofHours(1), "test").secret();

        HttpResponse<String> none = call(method, path, Optional.empty(), Map.of());
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h).startsWith("Bearer"));

        HttpResponse<String> refused = call(method, path, Optional.of(without), Map.of());
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
        assertThat(refused.headers().firstValue("Content-Type")).hasValue(ApiRoutes.PROBLEM_JSON);
        assertThat(refused.body()).contains(scope.wire());
        assertThat(refused.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h)
                .contains("error=\"insufficient_scope\"").contains("scope=\"" + scope.wire() + "\""));

        HttpResponse<String> allowed = call(method, path, Optional.of(only), Map.of());
        assertThat(allowed.statusCode()).as(method + " " + path + ": " + allowed.body()).isNotIn(401, 403);
    }

    @Test
    void tokens_are_created_listed_used_and_revoked_over_rest() {
        CloudClient ops = client(cp, OPERATOR);
        CloudClient.Response created = ops.post("/api/v1/tokens", Map.of("name", "ci", "scopes", List.of("models:read", "fleet:read"),
                "ttl", "2h"));
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        String secret = created.json().get("secret").asText();
        assertThat(secret).startsWith("eft_").hasSize(4 + 43);
        JsonNode token = created.json().get("token");
        assertThat(token.get("name").asText()).isEqualTo("ci");
        assertThat(token.get("createdBy").asText()).isEqualTo("ops");
        assertThat(Instant.parse(token.get("expiresAt").asText())).isEqualTo(NOW.get().plus(Duration.ofHours(2)));

        CloudClient ci = client(cp, secret);
        assertThat(ci.get("/api/v1/models").status()).isEqualTo(200);
        CloudClient.Response write = ci.put("/api/v1/fleets/f/devices/d", Map.of());
        assertThat(write.status()).isEqualTo(403);
        assertThat(write.json().get("scope").asText()).isEqualTo("fleet:write");

        CloudClient.Response list = ops.get("/api/v1/tokens");
        assertThat(list.status()).isEqualTo(200);
        assertThat(list.text()).doesNotContain(secret).doesNotContain(OPERATOR).doesNotContain(VIEWER);
        JsonNode ciRow = find(list.json(), "ci");
        assertThat(ciRow.get("state").asText()).isEqualTo("active");
        assertThat(ciRow.get("scopes")).extracting(JsonNode::asText).containsExactly("fleet:read", "models:read");
        assertThat(ciRow.get("lastUsedAt").asText()).isEqualTo(NOW.get().toString());
        // the configured tokens became named tokens with their role's scopes and no expiry
        JsonNode ops1 = find(list.json(), "ops");
        assertThat(ops1.get("scopes")).hasSize(Scope.values().length);
        assertThat(ops1.get("expiresAt").isNull()).isTrue();
        assertThat(find(list.json(), "dash").get("scopes")).extracting(JsonNode::asText)
                .containsExactly("fleet:read", "models:read", "rollouts:read");

        assertThat(ops.post("/api/v1/tokens", Map.of("name", "ci", "scopes", List.of("fleet:read"))).status()).isEqualTo(409);
        CloudClient.Response revoked = ops.post("/api/v1/tokens/ci/revoke", Map.of());
        assertThat(revoked.status()).as(revoked.text()).isEqualTo(200);
        assertThat(revoked.json().get("state").asText()).isEqualTo("revoked");
        assertThat(revoked.json().get("revokedBy").asText()).isEqualTo("ops");

        CloudClient.Response after = ci.get("/api/v1/models");
        assertThat(after.status()).isEqualTo(401);
        assertThat(after.problem()).contains("revoked");
        assertThat(ops.post("/api/v1/tokens/ci/revoke", Map.of()).status()).isEqualTo(404);
        assertThat(find(ops.get("/api/v1/tokens").json(), "ci").get("state").asText()).isEqualTo("revoked");
    }

    @Test
    void a_token_expires_at_its_ttl_and_is_then_refused_with_invalid_token() throws Exception {
        String secret = client(cp, OPERATOR).post("/api/v1/tokens", Map.of("name", "short", "scopes", List.of("fleet:read"), "ttl", "15m"))
                .json().get("secret").asText();
        assertThat(call("GET", "/api/v1/devices", Optional.of(secret), Map.of()).statusCode()).isEqualTo(200);
        NOW.updateAndGet(t -> t.plus(Duration.ofMinutes(16)));
        HttpResponse<String> r = call("GET", "/api/v1/devices", Optional.of(secret), Map.of());
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.body()).contains("expired");
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h).contains("error=\"invalid_token\""));
        assertThat(find(client(cp, OPERATOR).get("/api/v1/tokens").json(), "short").get("state").asText()).isEqualTo("expired");
    }

    @Test
    void unknown_tokens_and_bad_requests_are_refused_with_clear_problems() throws Exception {
        HttpResponse<String> unknown = call("GET", "/api/v1/models", Optional.of("eft_" + "A".repeat(43)), Map.of());
        assertThat(unknown.statusCode()).isEqualTo(401);
        assertThat(unknown.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h).contains("error=\"invalid_token\""));
        HttpResponse<String> jwt = call("GET", "/api/v1/models", Optional.of("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."), Map.of());
        assertThat(jwt.statusCode()).isEqualTo(401);
        assertThat(jwt.body()).contains("no OIDC issuer is configured");
        CloudClient ops = client(cp, OPERATOR);
        assertThat(ops.post("/api/v1/tokens", Map.of("name", "x", "scopes", List.of("fleet:fly"))).problem()).contains("fleet:fly");
        assertThat(ops.post("/api/v1/tokens", Map.of("name", "x", "scopes", List.of())).status()).isEqualTo(400);
        assertThat(ops.post("/api/v1/tokens", Map.of("name", "x", "scopes", List.of("fleet:read"), "ttl", "400d")).problem()).contains("ttl");
        assertThat(ops.post("/api/v1/tokens", Map.of("name", "x", "scopes", List.of("fleet:read"), "ttl", "soon")).status()).isEqualTo(400);
        assertThat(ops.post("/api/v1/tokens", Map.of("name", "no/slash", "scopes", List.of("fleet:read"))).status()).isEqualTo(400);
    }

    @Test
    void a_token_admin_cannot_grant_scopes_it_does_not_hold() {
        String admin = cp.tokenStore().create("admin-only", Set.of(Scope.TOKENS_ADMIN, Scope.FLEET_READ), Duration.ofHours(1), "test").secret();
        CloudClient a = client(cp, admin);
        CloudClient.Response r = a.post("/api/v1/tokens", Map.of("name", "escalated", "scopes", List.of("fleet:read", "models:write")));
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.json().get("scope").asText()).isEqualTo("models:write");
        assertThat(a.post("/api/v1/tokens", Map.of("name", "narrow", "scopes", List.of("fleet:read"))).status()).isEqualTo(201);
    }

    @Test
    void mutating_calls_and_refusals_are_audited_with_actor_route_status_and_address() throws Exception {
        Instant since = NOW.get();
        CloudClient ops = client(cp, OPERATOR);
        assertThat(ops.put("/api/v1/fleets/plant-9/devices/cam-1", Map.of("tags", List.of("a"))).status()).isEqualTo(200);
        assertThat(client(cp, VIEWER).put("/api/v1/fleets/plant-9/devices/cam-2", Map.of()).status()).isEqualTo(403);
        assertThat(call("POST", "/api/v1/rollouts", Optional.empty(), Map.of()).statusCode()).isEqualTo(401);
        assertThat(call("GET", "/api/v1/models", Optional.of("not-a-token-0123456789"), Map.of()).statusCode()).isEqualTo(401);
        // behind a trusted proxy (this control plane trusts 127.0.0.1) the forwarded client is recorded
        assertThat(call("PUT", "/api/v1/fleets/plant-9/devices/cam-3", Optional.of(OPERATOR),
                Map.of("X-Forwarded-For", "198.51.100.4, 203.0.113.7")).statusCode()).isEqualTo(200);
        // reads that succeed are not audited
        assertThat(ops.get("/api/v1/devices").status()).isEqualTo(200);

        CloudClient.Response audit = ops.get("/api/v1/audit?since=" + since + "&limit=1000");
        assertThat(audit.status()).as(audit.text()).isEqualTo(200);
        List<String> rows = new ArrayList<>();
        for (JsonNode e : audit.json()) {
            rows.add(e.get("actorKind").asText() + ":" + e.get("actor").asText() + " " + e.get("method").asText() + " " + e.get("route").asText()
                    + " " + e.get("target").asText() + " " + e.get("status").asInt() + " " + e.get("remote").asText());
        }
        assertThat(rows).containsSubsequence(
                "token:ops PUT /api/v1/fleets/{f}/devices/{d} /api/v1/fleets/plant-9/devices/cam-3 200 203.0.113.7 via 127.0.0.1",
                "none:- GET /api/v1/models /api/v1/models 401 127.0.0.1",
                "none:- POST /api/v1/rollouts /api/v1/rollouts 401 127.0.0.1",
                "token:dash PUT /api/v1/fleets/{f}/devices/{d} /api/v1/fleets/plant-9/devices/cam-2 403 127.0.0.1",
                "token:ops PUT /api/v1/fleets/{f}/devices/{d} /api/v1/fleets/plant-9/devices/cam-1 200 127.0.0.1");
        assertThat(rows).noneMatch(r -> r.contains("GET /api/v1/devices /api/v1/devices 200"));
        JsonNode onlyDash = ops.get("/api/v1/audit?actor=dash&since=" + since).json();
        assertThat(onlyDash).isNotEmpty().allSatisfy(e -> assertThat(e.get("actor").asText()).isEqualTo("dash"));
        assertThat(Instant.parse(audit.json().get(0).get("at").asText())).isEqualTo(NOW.get());
        // the audit needs its own scope
        assertThat(client(cp, VIEWER).get("/api/v1/audit").status()).isEqualTo(403);
        assertThat(ops.get("/api/v1/audit?limit=0").status()).isEqualTo(400);
    }

    private static JsonNode find(JsonNode tokens, String name) {
        JsonNode last = null; // the newest of that name (a revoked name can be reused)
        for (JsonNode t : tokens) {
            if (t.get("name").asText().equals(name)) {
                last = t;
            }
        }
        if (last == null) {
            throw new AssertionError("no token " + name + " in " + tokens);
        }
        return last;
    }

    static HttpResponse<String> call(String method, String path, Optional<String> token, Map<String, String> headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.port() + path)).timeout(Duration.ofSeconds(30));
        token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
        headers.forEach(b::header);
        HttpRequest.BodyPublisher body = method.equals("GET") ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString("{}");
        if (!method.equals("GET")) {
            b.header("Content-Type", "application/json");
        }
        return HTTP.send(b.method(method, body).build(), HttpResponse.BodyHandlers.ofString());
    }
}
