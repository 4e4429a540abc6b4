package io.edgefleet.cloud;

import io.edgefleet.cloud.access.Scope;
import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.cloud.api.ApiRoutes;
import io.helidon.webserver.http.HttpRouting;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The OpenAPI document the control plane serves at {@code /openapi}, checked against the real
 * routes: it documents exactly the routes the API registers (enumerated from {@link ApiRoutes}'s own
 * registration lists), with the scope each needs; each documented operation, called on a running
 * control plane with an operator token and a well-formed request, reaches its handler (neither
 * 405 nor the catch-all's 404) and answers one of the statuses the document lists for it. Also the
 * Swagger UI page from the webjar.
 */
class OpenApiDocumentTest {
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static JsonNode doc;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> METHODS = List.of("get", "post", "put", "delete", "patch");

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlane.start(CloudTestSupport.config(dir));
        HttpResponse<String> r = call("GET", "/openapi", Map.of("Accept", "application/vnd.oai.openapi"), null);
        assertThat(r.statusCode()).isEqualTo(200);
        doc = io.edgefleet.profiles.catalog.DeviceCatalog.yamlMapper().readTree(r.body());
        // the same document as JSON (Swagger UI reads it so); a value-less key in a YAML flow mapping once made it invalid JSON
        HttpResponse<String> json = call("GET", "/openapi", Map.of("Accept", "application/json"), null);
        assertThat(JSON.readTree(json.body())).isEqualTo(doc);
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    /** "METHOD template" → the scope's wire name, or "" for a route without one. */
    static Map<String, String> registered() {
        ApiRoutes api = new ApiRoutes(null, null, null, null, null, null, null, null, null, null, null, 1024, null);
        HttpRouting.Builder b = HttpRouting.builder();
        new io.edgefleet.cloud.pki.PkiRoutes(null).routing(b, api);
        new io.edgefleet.cloud.api.LogRoutes(null, null).routing(b, api);
        new io.edgefleet.cloud.drift.DriftRoutes(null, null, 1).routing(b, api);
        api.routing(b);
        Map<String, String> out = new TreeMap<>();
        // a route with no scope of its own (whoami) still needs a valid credential: documented with an empty bearer list
        api.routes().stream().filter(r -> !r.template().endsWith("/*")) // the catch-all's problem 404, not an operation
                .forEach(r -> out.put(r.method() + " " + r.template(), r.scope().map(Scope::wire).orElse("")));
        api.publicRoutes().forEach(r -> out.put(r.method() + " " + r.template(), ""));
        return out;
    }

    /** "METHOD template" → the bearer scope the document names ("" for none). */
    static Map<String, String> documented() {
        Map<String, String> out = new TreeMap<>();
        doc.get("paths").properties().forEach(p -> METHODS.forEach(m -> {
            JsonNode op = p.getValue().get(m);
            if (op != null) {
                JsonNode bearer = op.path("security").path(0).path("bearer");
                out.put(m.toUpperCase() + " " + p.getKey(), bearer.isArray() && !bearer.isEmpty() ? bearer.get(0).asText() : "");
            }
        }));
        return out;
    }

    @Test
    void the_document_describes_exactly_the_registered_routes_with_their_scopes() {
        assertThat(doc.get("openapi").asText()).startsWith("3.");
        assertThat(documented()).containsExactlyInAnyOrderEntriesOf(registered());
    }

    @Test
    void every_reference_resolves_and_every_operation_documents_its_errors() {
        List<String> refs = new ArrayList<>();
        collectRefs(doc, refs);
        assertThat(refs).isNotEmpty();
        for (String ref : refs) {
            assertThat(doc.at(ref.substring(1)).isMissingNode()).as(ref).isFalse();
        }
        documented().forEach((route, scope) -> {
            JsonNode op = operation(route);
            assertThat(op.path("operationId").asText()).as(route).isNotBlank();
            assertThat(op.path("responses").properties().iterator().next().getKey()).as(route).startsWith("2");
            if (!scope.isEmpty()) {
                assertThat(op.path("responses").has("401") && op.path("responses").has("403")).as(route + " documents 401 and 403").isTrue();
            }
            for (Matcher m = Pattern.compile("\\{(\\w+)}").matcher(route); m.find(); ) {
                String name = m.group(1);
                assertThat(parameters(route)).as(route + " declares path parameter " + name).contains(name);
            }
        });
        assertThat(doc.at("/components/schemas/Problem/required").toString()).contains("detail");
    }

    static Stream<String> operations() {
        return documented().keySet().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("operations")
    void each_documented_operation_reaches_its_handler_and_answers_a_documented_status(String route) throws Exception {
        String method = route.substring(0, route.indexOf(' '));
        String path = route.substring(route.indexOf(' ') + 1).replace("{m}", "nomodel").replace("{v}", "1").replace("{f}", "f1")
                .replace("{d}", "d1").replace("{id}", "none").replace("{op}", "pause").replace("{name}", "nobody");
        HttpResponse<String> r = call(method, path, Map.of("Authorization", "Bearer " + OPERATOR), method.equals("GET") ? null : "{}");
        assertThat(r.statusCode()).as(route + ": " + r.body()).isNotEqualTo(405);
        if (r.statusCode() == 404) {
            assertThat(JSON.readTree(r.body()).path("title").asText()).as("the catch-all answered " + route).isNotEqualTo("Not found");
        }
        assertThat(operation(route).path("responses").has(Integer.toString(r.statusCode())))
                .as(route + " answered " + r.statusCode() + ", which the document does not list: " + r.body()).isTrue();
        if (r.statusCode() >= 400) {
            assertThat(r.headers().firstValue("Content-Type")).hasValue(ApiRoutes.PROBLEM_JSON);
            JsonNode p = JSON.readTree(r.body());
            assertThat(p.path("detail").asText()).as(route).isNotBlank().doesNotContain("null").doesNotContainPattern("[A-Z]\\w+Exception");
        }
    }

    @Test
    void the_swagger_ui_page_is_served_from_the_webjar_and_loads_our_document() throws Exception {
        HttpResponse<String> page = call("GET", "/openapi/ui/", Map.of(), null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("swagger-ui-bundle.js", "swagger-initializer.js");
        HttpResponse<String> init = call("GET", "/openapi/ui/swagger-initializer.js", Map.of(), null);
        assertThat(init.body()).contains("url: \"/openapi\"").doesNotContain("petstore");
        HttpResponse<String> bundle = call("GET", "/openapi/ui/swagger-ui-bundle.js", Map.of(), null);
        assertThat(bundle.statusCode()).isEqualTo(200);
        assertThat(bundle.body().length()).isGreaterThan(100_000);
        HttpResponse<String> yaml = call("GET", "/openapi", Map.of(), null);
        assertThat(yaml.body()).startsWith("openapi: 3.");
    }

    private static JsonNode operation(String route) {
        int sp = route.indexOf(' ');
        return doc.get("paths").get(route.substring(sp + 1)).get(route.substring(0, sp).toLowerCase());
    }

    private static List<String> parameters(String route) {
        int sp = route.indexOf(' ');
        JsonNode item = doc.get("paths").get(route.substring(sp + 1));
        List<String> names = new ArrayList<>();
        for (JsonNode list : List.of(item.path("parameters"), operation(route).path("parameters"))) {
            for (JsonNode p : list) {
                JsonNode resolved = p.has("$ref") ? doc.at(p.get("$ref").asText().substring(1)) : p;
                if (resolved.path("in").asText().equals("path")) {
                    names.add(resolved.path("name").asText());
                }
            }
        }
        return names;
    }

    private static void collectRefs(JsonNode n, List<String> out) {
        if (n.isObject()) {
            n.properties().forEach(e -> {
                if (e.getKey().equals("$ref")) {
                    out.add(e.getValue().asText());
                } else {
                    collectRefs(e.getValue(), out);
                }
            });
        } else if (n.isArray()) {
            n.forEach(x -> collectRefs(x, out));
        }
    }

    @Test
    void a_wrong_method_on_an_endpoint_is_405_naming_the_allowed_ones_and_an_unknown_path_404() throws Exception {
        Map<String, String> auth = Map.of("Authorization", "Bearer " + OPERATOR);
        HttpResponse<String> r = call("DELETE", "/api/v1/logs", auth, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).hasValue("GET");
        assertThat(JSON.readTree(r.body()).get("detail").asText()).contains("DELETE /api/v1/logs").contains("GET");
        r = call("PATCH", "/api/v1/fleets/f1/devices/d1", auth, null);
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).hasValue("GET, PUT");
        r = call("GET", "/api/v1/no-such-thing", auth, null);
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(r.headers().firstValue("Allow")).isEmpty();
    }

    static HttpResponse<String> call(String method, String path, Map<String, String> headers, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.port() + path)).timeout(Duration.ofSeconds(30));
        headers.forEach(b::header);
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return HTTP.send(b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
