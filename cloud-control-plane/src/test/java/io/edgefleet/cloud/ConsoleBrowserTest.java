package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.VIEWER;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.slots.Watchdog;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.MosquittoExtension;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console in a real browser: Debian's {@code chromium}, headless, driven through its
 * {@code chromium-driver} ({@value #CHROMEDRIVER}; Selenium is never allowed to download a driver)
 * against a real control plane, a real Mosquitto and three real agents. One control plane, broker,
 * agent set and browser serve every scenario; each scenario owns its model, so they run in any
 * order. The page is never reloaded while a rollout is watched: what changes arrives by the
 * console's polling. Screenshots go to {@code target/console-screenshots/} (also of a failing
 * scenario, with the browser's console log next to it). Skipped, saying so, where chromium or
 * chromium-driver is not installed ({@code apt-get install chromium chromium-driver}).
 */
class ConsoleBrowserTest {
    static final String CHROMIUM = ConsoleBrowsers.CHROMIUM;
    static final String CHROMEDRIVER = ConsoleBrowsers.CHROMEDRIVER;
    static final Path SHOTS = ConsoleBrowsers.SHOTS;
    static final Duration ROLLOUT = Duration.ofSeconds(90);

    static ChromeDriver browser;
    static java.util.concurrent.CompletableFuture<ChromeDriver> starting;
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @RegisterExtension
    static final AfterEachCallback ON_FAILURE = context -> {
        if (context.getExecutionException().isPresent() && browser != null) {
            screenshot("FAILED-" + context.getRequiredTestMethod().getName());
            String log = browser.manage().logs().get(LogType.BROWSER).getAll().stream().map(Object::toString).collect(Collectors.joining("\n"));
            Files.writeString(SHOTS.resolve("FAILED-" + context.getRequiredTestMethod().getName() + ".log"), log);
        }
    };
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;
    static final List<EdgeAgent> agents = new ArrayList<>();
    static String base;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(CHROMIUM)) && Files.isExecutable(Path.of(CHROMEDRIVER)),
                "ConsoleBrowserTest needs Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER
                        + "): apt-get install chromium chromium-driver");
        Files.createDirectories(SHOTS);
        // Chromium starts while the control plane, the models and the agents get ready.
        starting = java.util.concurrent.CompletableFuture.supplyAsync(ConsoleBrowserTest::chromium);
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMqtt(MQTT.broker().url())
                .withRolloutTick(Duration.ofMillis(100)).withBucket(Duration.ofSeconds(1)));
        ops = client(cp, OPERATOR);
        base = "http://127.0.0.1:" + cp.port();
        Path good = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("good2")));
        Path bad = SyntheticModels.nanOnnx(Files.createDirectories(dir.resolve("bad7")));
        java.util.concurrent.CompletableFuture.allOf(java.util.concurrent.CompletableFuture.runAsync(() -> push("good", "2", good)),
                java.util.concurrent.CompletableFuture.runAsync(() -> push("watch", "2", good)),
                java.util.concurrent.CompletableFuture.runAsync(() -> push("bad", "7", bad))).join();
        Path baseFile = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("base")));
        JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
        AgentConfig.Sync sync = new AgentConfig.Sync(URI.create(base), Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
        for (int i = 0; i < 3; i++) {
            agents.add(agent(sync, baseFile, "ui-" + i, List.of("good", "watch", "bad", "chart")));
        }
        await(Duration.ofSeconds(60), "3 agents online", () -> cp.fleet().select(io.edgefleet.cloud.fleet.Selector.parse("status=online")).size() == 3);
        browser = starting.join();
    }

    private static ChromeDriver chromium() {
        return ConsoleBrowsers.start(dir.resolve("chromium-profile"), "chromedriver.log");
    }

    private static void push(String model, String version, Path file) {
        CloudClient.Response r = ops.pushModel(model, version, List.of(file), List.of(), Map.of(), n -> { });
        assertThat(r.status()).as(r.text()).isEqualTo(201);
    }

    private static EdgeAgent agent(AgentConfig.Sync sync, Path baseFile, String device, List<String> models) throws Exception {
        Path modelsDir = Files.createDirectories(dir.resolve("m-" + device));
        for (String m : models) {
            Files.copy(baseFile, modelsDir.resolve(m + ".onnx"));
        }
        return EdgeAgent.start(AgentConfig.defaults(dir.resolve("a-" + device)).withModelsDir(modelsDir).withHttp("127.0.0.1", 0)
                .withCoapPort(-1).withIdentity("ui", device).withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                .withMqtt(MQTT.broker().url()).withSync(sync).withTls(CloudTestSupport.agentToken()).withTelemetry(Duration.ofMillis(200), 10_000)
                .withIsolation(io.edgefleet.engines.isolation.IsolationOptions.defaults().withSharedVerdicts(true))
                // The cloud's gates are under test here, not the agent's own watchdog or latency self-check.
                .withWatchdog(new Watchdog.Limits(Duration.ofMinutes(10), 1_000_000, 1.0, 1.0, 1000.0))
                .withMaxLatencyFactor(Double.MAX_VALUE));
    }

    @AfterAll
    static void stop() {
        if (browser == null && starting != null) { // the set-up failed after chromium was started
            try {
                browser = starting.join();
            } catch (java.util.concurrent.CompletionException e) {
                // it did not start either
            }
        }
        if (browser != null) {
            browser.quit();
        }
        agents.forEach(EdgeAgent::close);
        if (cp != null) {
            cp.close();
        }
    }

    // ---- browser helpers ----------------------------------------------------------------------------

    /** Opens the console signed in with {@code token} (signed out first: the token lives in the tab's session storage). */
    static void signIn(String token, String expectedRole) {
        browser.get(base + "/ui/");
        ((JavascriptExecutor) browser).executeScript("sessionStorage.clear()");
        browser.get(base + "/");
        WebElement input = waitFor(d -> d.findElement(By.id("token")));
        input.sendKeys(token);
        browser.findElement(By.cssSelector("#signin button[type=submit]")).click();
        waitFor(d -> d.findElement(By.id("who")).getText().endsWith("(" + expectedRole + ")"));
    }

    static void go(String hash) {
        ((JavascriptExecutor) browser).executeScript("location.hash = arguments[0]", hash);
    }

    static <T> T waitFor(Function<WebDriver, T> condition) {
        return waitFor(Duration.ofSeconds(20), condition);
    }

    static <T> T waitFor(Duration timeout, Function<WebDriver, T> condition) {
        return ConsoleBrowsers.waitFor(browser, timeout, condition);
    }

    static String text(String css) {
        return ConsoleBrowsers.text(browser, css);
    }

    static void screenshot(String name) throws java.io.IOException {
        ConsoleBrowsers.screenshot(browser, name);
    }

    /** The cells of the gate table's row for {@code gate}: threshold, value, judgement. */
    static List<String> gateRow(String gate) {
        return browser.findElements(By.cssSelector("#gate-table tr[data-gate='" + gate + "'] td")).stream().map(WebElement::getText).toList();
    }

    static String createViaApi(String spec) {
        CloudClient.Response r = ops.raw("POST", "/api/v1/rollouts", "application/json", spec.getBytes());
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        return r.json().get("rollout").get("id").asText();
    }

    // ---- scenarios ----------------------------------------------------------------------------------

    @Test
    void a_rollout_started_from_the_console_advances_live_with_its_wave_progress_and_gate_values() throws Exception {
        browser.manage().logs().get(LogType.BROWSER); // drains what earlier scenarios logged
        signIn(OPERATOR, "operator");
        go("#/rollouts");
        browser.findElement(By.cssSelector("#new-rollout summary")).click();
        WebElement spec = waitFor(d -> d.findElement(By.id("rollout-spec")));
        spec.clear();
        spec.sendKeys("""
                {"model": "good", "version": "2", "selector": "fleet=ui",
                 "waves": [{"count": 1, "bake": "1s"}, {"percent": 100}],
                 "commandTimeout": "60s", "gates": {"maxInstallFailures": 0}}""");
        browser.findElement(By.id("start-rollout")).click();
        String url = waitFor(d -> d.getCurrentUrl().matches(".*#/rollouts/ro-[0-9a-f]+$") ? d.getCurrentUrl() : null);
        String id = url.substring(url.lastIndexOf('/') + 1);
        // A marker the page would lose on a reload: everything below must arrive by polling.
        ((JavascriptExecutor) browser).executeScript("window.consoleTestMarker = 'kept'");
        waitFor(d -> text("#rollout-state").equals("running") || text("#rollout-state").equals("succeeded"));
        screenshot("rollout-started");

        waitFor(ROLLOUT, d -> text("#rollout-state").equals("succeeded"));
        screenshot("rollout-succeeded");
        assertThat(((JavascriptExecutor) browser).executeScript("return window.consoleTestMarker")).isEqualTo("kept");
        JsonNode api = ops.get("/api/v1/rollouts/" + id).json();
        assertThat(api.get("rollout").get("state").asText()).isEqualTo("succeeded");
        // Wave progress: one canary, then the other two, each shown activated.
        assertThat(browser.findElement(By.id("wave-1")).getAttribute("data-activated")).isEqualTo("1");
        assertThat(browser.findElement(By.id("wave-2")).getAttribute("data-activated")).isEqualTo("2");
        assertThat(text("#wave-1")).contains("1 activated").contains("done");
        assertThat(text("#wave-2")).contains("2 activated");
        // Gate values next to their thresholds, from the evaluation that passed the last wave.
        assertThat(gateRow("maxInstallFailures")).containsExactly("maxInstallFailures", "0", "0", "within");
        assertThat(text("#gate-evaluated")).contains("wave 2").contains("pass");
        assertThat(text("#rollout-timeline")).contains("gate-passed").contains("wave-started").contains("succeeded");
        assertThat(agents).allSatisfy(a -> assertThat(a.slots().activeVersions().get("good")).isEqualTo("2"));

        // The device page lists the rollout in the device's command history.
        go("#/devices/ui/ui-0");
        waitFor(d -> text("#device-commands").contains(id));
        assertThat(text("#device-commands")).contains("good").contains("activated");
        assertThat(text("#device-state")).contains("online");
        // No script error, refused module or failed call on the way.
        assertThat(browser.manage().logs().get(LogType.BROWSER).getAll()).filteredOn(e -> e.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue())
                .isEmpty();
    }

    @Test
    void a_viewer_sees_the_rollout_but_no_action_buttons_where_an_operator_sees_them() throws Exception {
        String id = createViaApi("""
                {"model": "watch", "version": "2", "selector": "fleet=ui",
                 "waves": [{"count": 1, "bake": "10m"}, {"percent": 100}],
                 "commandTimeout": "60s", "gates": {"maxInstallFailures": 0}}""");
        try {
            signIn(VIEWER, "viewer");
            go("#/rollouts/" + id);
            waitFor(d -> text("#rollout-state").equals("running"));
            waitFor(d -> !text("#gate-table").isEmpty());
            // What the wave waits for: its canary installed, the 10-minute bake (the time left is shown).
            waitFor(ROLLOUT, d -> text("#rollout-waiting").contains("bake"));
            screenshot("viewer-rollout");
            assertThat(browser.findElements(By.cssSelector("#rollout-actions, button[data-op], #op-reason"))).isEmpty();
            assertThat(text("main")).doesNotContain("Pause").doesNotContain("Abort").doesNotContain("Roll back");
            go("#/rollouts");
            waitFor(d -> text("#rollouts-live").contains(id));
            assertThat(browser.findElements(By.id("new-rollout"))).isEmpty();
            assertThat(browser.findElements(By.cssSelector("#nav a[data-section=audit]")).get(0).isDisplayed()).isFalse();

            // The same page for an operator: the buttons are there, so their absence above is the role's doing.
            signIn(OPERATOR, "operator");
            go("#/rollouts/" + id);
            waitFor(d -> d.findElement(By.id("op-pause")).isDisplayed());
            assertThat(browser.findElement(By.id("op-abort")).isDisplayed()).isTrue();
            assertThat(browser.findElement(By.id("op-resume")).isDisplayed()).isFalse();
            // An operation needs a reason; with one, it is applied and the page follows.
            browser.findElement(By.id("op-pause")).click();
            assertThat(text("#op-error")).contains("reason");
            browser.findElement(By.id("op-reason")).sendKeys("checking the canary by hand");
            browser.findElement(By.id("op-pause")).click();
            waitFor(d -> text("#rollout-state").equals("paused"));
            assertThat(text("#rollout-reason")).isEqualTo("checking the canary by hand");
            waitFor(d -> d.findElement(By.id("op-resume")).isDisplayed());
            screenshot("operator-paused");
        } finally {
            ops.post("/api/v1/rollouts/" + id + "/abort", Map.of("reason", "end of test"));
        }
    }

    @Test
    void a_failing_gate_shows_its_value_over_the_threshold_and_the_reason() throws Exception {
        String id = createViaApi("""
                {"model": "bad", "version": "7", "selector": "fleet=ui",
                 "waves": [{"count": 1}, {"percent": 100}],
                 "commandTimeout": "60s", "onFailure": "pause",
                 "gates": {"maxInstallFailures": 0}}""");
        signIn(VIEWER, "viewer");
        go("#/rollouts/" + id);
        waitFor(ROLLOUT, d -> text("#rollout-state").equals("paused"));
        waitFor(d -> !text("#gate-failures").isEmpty());
        screenshot("failing-gate");
        assertThat(text("#rollout-reason")).contains("install failures").contains("self-test");
        assertThat(text("#gate-failures")).contains("install failures 1 > 0");
        assertThat(gateRow("maxInstallFailures")).containsExactly("maxInstallFailures", "0", "1", "over the limit");
        assertThat(browser.findElement(By.cssSelector("#gate-table tr[data-gate='maxInstallFailures']")).getAttribute("class")).contains("gate-fail");
        assertThat(text("#rollout-waiting")).contains("operator");
        assertThat(text("#wave-1")).contains("1 failed");
    }

    @Test
    void a_device_page_draws_its_recent_telemetry_and_an_api_problem_is_shown_to_the_user() throws Exception {
        EdgeAgent a = agents.get(2);
        HttpClient http = HttpClient.newHttpClient();
        byte[] body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,-2,3,4]}]}".getBytes();
        for (int i = 0; i < 20; i++) {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.httpPort() + "/v2/models/chart/infer"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
            assertThat(r.statusCode()).isEqualTo(200);
        }
        signIn(VIEWER, "viewer");
        go("#/devices/ui/ui-2");
        // Ingest is asynchronous (agent window, MQTT, aggregates): waited for, not assumed.
        waitFor(Duration.ofSeconds(60), d -> d.findElements(By.cssSelector("#device-charts .uplot canvas")).size() >= 3);
        assertThat(text("#device-charts")).contains("Requests per 1 s").contains("p95 latency").contains("chart@");
        screenshot("device-telemetry");

        // An unknown device: the API's problem (404, its title and detail) reaches the user.
        go("#/devices/ui/no-such-device");
        waitFor(d -> d.findElement(By.id("problem")).isDisplayed());
        assertThat(text("#problem")).contains("Unknown device").contains("404").contains("ui/no-such-device");
        // A viewer asking for the audit gets the API's refusal, shown the same way.
        go("#/audit");
        waitFor(d -> text("#problem").contains("403"));
        assertThat(text("#problem")).contains("audit:read");
    }

    @Test
    void a_warning_an_agent_logged_is_found_on_the_logs_page_by_its_device() throws Exception {
        // The agents of this class share the test's JVM and forward its WARN records (central logs), each as itself.
        String marker = "console-logs-marker-" + java.util.UUID.randomUUID();
        System.getLogger("io.edgefleet.test.console").log(System.Logger.Level.WARNING, marker);
        signIn(VIEWER, "viewer");
        go("#/logs?device=ui/ui-1");
        // forwarded through the agent's outbox and MQTT, stored by the control plane: waited for, the page polls
        waitFor(Duration.ofSeconds(60), d -> text("#logs-live").contains(marker));
        assertThat(text("#logs-live")).contains("ui/ui-1").contains("WARN");
        screenshot("logs");
    }
}
