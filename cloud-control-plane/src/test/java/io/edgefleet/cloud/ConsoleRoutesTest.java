package io.edgefleet.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console's files and the read routes it added, over real HTTP without a browser (the
 * browser scenarios are {@link ConsoleBrowserTest}'s): the redirect from {@code /}, the files and
 * the uPlot webjar with the content types browsers insist on for modules and styles, the security
 * headers, {@code whoami} for each role and without a credential, a device's command history.
 */
class ConsoleRoutesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    @TempDir
    static Path dir;
    static ControlPlane cp;

    @BeforeAll
    static void start() {
        cp = ControlPlane.start(CloudTestSupport.config(dir));
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    static HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.port() + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static String type(HttpResponse<?> r) {
        return r.headers().firstValue("Content-Type").orElse("");
    }

    @Test
    void the_root_redirects_to_the_console_which_serves_its_page_with_a_strict_content_security_policy() throws Exception {
        HttpResponse<String> root = get("/", null);
        assertThat(root.statusCode()).isEqualTo(302);
        assertThat(root.headers().firstValue("Location")).contains("/ui/");
        assertThat(get("/ui", null).headers().firstValue("Location")).contains("/ui/");

        HttpResponse<String> page = get("/ui/", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(type(page)).startsWith("text/html");
        assertThat(page.body()).contains("<title>EdgeFleet console</title>").contains("js/app.js").doesNotContain("http://", "https://");
        assertThat(page.headers().firstValue("Content-Security-Policy")).get().asString().contains("default-src 'self'")
                .contains("script-src 'self'").contains("frame-ancestors 'none'");
        assertThat(page.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
    }

    @Test
    void modules_styles_and_the_uplot_webjar_come_with_the_types_browsers_need() throws Exception {
        for (String js : new String[] {"/ui/js/app.js", "/ui/js/pages/rollout.js", "/ui/lib/uplot/uPlot.esm.js"}) {
            HttpResponse<String> r = get(js, null);
            assertThat(r.statusCode()).as(js).isEqualTo(200);
            assertThat(type(r)).as(js).startsWith("text/javascript");
        }
        assertThat(get("/ui/lib/uplot/uPlot.esm.js", null).body()).contains("export { uPlot as default }");
        HttpResponse<String> css = get("/ui/lib/uplot/uPlot.min.css", null);
        assertThat(css.statusCode()).isEqualTo(200);
        assertThat(type(css)).startsWith("text/css");
        assertThat(type(get("/ui/console.css", null))).startsWith("text/css");
        assertThat(type(get("/ui/favicon.svg", null))).startsWith("image/svg+xml");
        assertThat(get("/ui/js/nothing-here.js", null).statusCode()).isEqualTo(404);
        assertThat(get("/ui/lib/uplot/../../../../edgefleet-console/index.html", null).statusCode()).isIn(400, 404);
    }

    @Test
    void whoami_names_the_caller_its_role_and_scopes_and_refuses_a_missing_or_bad_token_with_problem_json() throws Exception {
        HttpResponse<String> none = get("/api/v1/whoami", null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(type(none)).startsWith("application/problem+json");
        assertThat(JSON.readTree(none.body()).get("detail").asText()).contains("Authorization: Bearer");
        assertThat(get("/api/v1/whoami", "not-a-token").statusCode()).isEqualTo(401);

        JsonNode viewer = JSON.readTree(get("/api/v1/whoami", CloudTestSupport.VIEWER).body());
        assertThat(viewer.get("name").asText()).isEqualTo("dash");
        assertThat(viewer.get("kind").asText()).isEqualTo("token");
        assertThat(viewer.get("role").asText()).isEqualTo("viewer");
        assertThat(viewer.get("scopes").toString()).contains("rollouts:read").doesNotContain("rollouts:write");

        JsonNode ops = JSON.readTree(get("/api/v1/whoami", CloudTestSupport.OPERATOR).body());
        assertThat(ops.get("name").asText()).isEqualTo("ops");
        assertThat(ops.get("role").asText()).isEqualTo("operator");
        assertThat(ops.get("scopes").toString()).contains("rollouts:write", "audit:read");
    }

    @Test
    void a_device_without_rollouts_has_an_empty_command_history_and_device_telemetry_can_come_as_a_series() throws Exception {
        HttpResponse<String> r = get("/api/v1/fleets/f1/devices/d1/commands", CloudTestSupport.VIEWER);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).get("commands")).isEmpty();
        assertThat(get("/api/v1/fleets/f1/devices/d1/commands?limit=0", CloudTestSupport.VIEWER).statusCode()).isEqualTo(400);

        HttpResponse<String> t = get("/api/v1/telemetry/fleets/f1/devices/d1?from=-5m&series=true", CloudTestSupport.VIEWER);
        assertThat(t.statusCode()).as(t.body()).isEqualTo(200);
        assertThat(JSON.readTree(t.body()).get("series")).isEmpty();
        assertThat(JSON.readTree(t.body()).get("bucketSeconds").asLong()).isPositive();
    }
}
