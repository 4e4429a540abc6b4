package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.VIEWER;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.cloud.drift.DriftRepository.WindowScore;
import io.edgefleet.cloud.drift.DriftSettings;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.MosquittoExtension;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.StringJoiner;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
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
 * The console's drift view in a real browser (Debian's {@code chromium} and {@code chromium-driver}, as
 * {@link ConsoleBrowserTest}) against a real control plane, a real Mosquitto and a real agent serving a real ONNX
 * classifier (x[N,4]): the agent's drift sketches learn the reference from its first windows of traffic, then two of the
 * four features shift by 1.5 standard deviations until the alarm is raised. The list page shows the version in alarm;
 * its page shows the alarm, the PSI of every feature with the two shifted ones over the threshold and the other two
 * within, the judged windows and their chart. Skipped, saying so, without chromium or chromium-driver.
 */
@Tag("slow") // a real agent and real-time windows, then a browser: about 40 s
class ConsoleDriftBrowserTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    static final Path SHOTS = Path.of("target", "console-screenshots");
    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private ChromeDriver browser;

    private static void post(EdgeAgent a, Random rnd, double shift) throws Exception {
        StringJoiner data = new StringJoiner(",");
        for (int r = 0; r < 8; r++) {
            for (int f = 0; f < 4; f++) {
                data.add(String.format(Locale.ROOT, "%.5f", rnd.nextGaussian() + (f < 2 ? shift : 0)));
            }
        }
        String json = "{\"inputs\":[{\"name\":\"x\",\"shape\":[8,4],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}";
        int status = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.httpPort() + "/v2/models/cls/infer"))
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        assertThat(status).isEqualTo(200);
    }

    @Test
    void the_drift_view_shows_a_version_in_alarm_with_the_shifted_features_over_the_threshold() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(ConsoleBrowserTest.CHROMIUM)) && Files.isExecutable(Path.of(ConsoleBrowserTest.CHROMEDRIVER)),
                "needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver");
        Files.createDirectories(SHOTS);
        DriftSettings drift = new DriftSettings(10, 0.2, 2, 100, 3, Duration.ZERO, 4096, Duration.ZERO);
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMqtt(MQTT.broker().url()), Clock.systemUTC(),
                io.edgefleet.cloud.pki.Revocations.none(), io.edgefleet.transport.tracing.Tracing.off(), drift)) {
            Path models = Files.createDirectories(dir.resolve("models"));
            Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("src"))), models.resolve("cls.onnx"));
            try (EdgeAgent a = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent")).withModelsDir(models).withHttp("127.0.0.1", 0)
                    .withCoapPort(-1).withIdentity("dv", "d1").withMqtt(MQTT.broker().url()).withTelemetry(Duration.ofMillis(500), 10_000))) {
                java.util.concurrent.CompletableFuture<ChromeDriver> starting = java.util.concurrent.CompletableFuture.supplyAsync(() -> ConsoleBrowsers.start(dir.resolve("chromium-profile"), "chromedriver-drift.log"));
                await(Duration.ofSeconds(15), "agent connected", () -> a.mqtt().orElseThrow().isConnected());
                String version = a.slots().activeVersions().get("cls");
                Random rnd = new Random(5);
                for (int round = 0; round < 400 && cp.drift().repository().reference("cls", version).isEmpty(); round++) {
                    for (int i = 0; i < 20; i++) {
                        post(a, rnd, 0);
                    }
                    cp.drift().runOnce();
                }
                assertThat(cp.drift().repository().reference("cls", version)).as("reference learned").isPresent();
                for (int round = 0; round < 400 && !cp.drift().repository().recent("cls", version, 1).stream().anyMatch(WindowScore::alarm); round++) {
                    for (int i = 0; i < 20; i++) {
                        post(a, rnd, 1.5);
                    }
                    cp.drift().runOnce();
                }
                assertThat(cp.drift().repository().recent("cls", version, 1).get(0).alarm()).as("alarm raised").isTrue();
                Map<String, Double> psi = cp.drift().lastFeaturePsi("cls", version);
                assertThat(psi).containsOnlyKeys("x[0]", "x[1]", "x[2]", "x[3]");
                assertThat(psi.get("x[0]")).isGreaterThan(0.2);
                assertThat(psi.get("x[1]")).isGreaterThan(0.2);
                // the unshifted features must read within, or the view below could not show the difference
                assumeTrue(psi.get("x[2]") <= 0.2 && psi.get("x[3]") <= 0.2, "an unshifted feature breached by chance: " + psi);

                browser = starting.join();
                String base = "http://127.0.0.1:" + cp.port();
                browser.get(base + "/ui/");
                browser.findElement(By.id("token")).sendKeys(VIEWER);
                browser.findElement(By.cssSelector("#signin button[type=submit]")).click();
                waitFor(d -> d.findElement(By.id("who")).getText().endsWith("(viewer)"));
                browser.findElement(By.cssSelector("#nav a[data-section=drift]")).click();
                String row = "#drift-live tr[data-version='cls/" + version + "']";
                waitFor(d -> !d.findElements(By.cssSelector(row)).isEmpty());
                assertThat(browser.findElement(By.cssSelector(row + " [data-alarm]")).getText()).isEqualTo("alarm");
                assertThat(browser.findElement(By.cssSelector(row)).getText()).contains("learned from traffic").contains("x[");
                ConsoleBrowsers.screenshot(browser, "drift-list");

                browser.findElement(By.cssSelector(row + " a")).click();
                waitFor(d -> d.getCurrentUrl().endsWith("#/drift/cls/" + version));
                waitFor(d -> d.findElements(By.cssSelector("#drift-features tr[data-feature]")).size() == 4);
                assertThat(ConsoleBrowsers.text(browser, "#drift-alarm")).startsWith("alarm").contains("clears after 2 clean ones");
                for (String f : List.of("x[0]", "x[1]")) {
                    WebElement tr = browser.findElement(By.cssSelector("#drift-features tr[data-feature='" + f + "']"));
                    assertThat(tr.getAttribute("class")).contains("gate-fail");
                    assertThat(tr.getText()).contains("over 0.2");
                }
                for (String f : List.of("x[2]", "x[3]")) {
                    WebElement tr = browser.findElement(By.cssSelector("#drift-features tr[data-feature='" + f + "']"));
                    assertThat(tr.getText()).endsWith("within");
                }
                assertThat(ConsoleBrowsers.text(browser, "#drift-features-window")).as("which window the features are of: this one process judged them all")
                        .startsWith("Window starting").doesNotContain("not the newest");
                assertThat(ConsoleBrowsers.text(browser, "#drift-windows")).contains("alarm");
                waitFor(d -> !d.findElements(By.cssSelector("#drift-charts .uplot canvas")).isEmpty());
                assertThat(ConsoleBrowsers.text(browser, "#drift-charts")).contains("PSI per judged window");
                ConsoleBrowsers.screenshot(browser, "drift-version");

                // a version without any drift state: the API's empty answer reads as such, not as an error
                ((JavascriptExecutor) browser).executeScript("location.hash = arguments[0]", "#/drift/cls/no-such-version");
                waitFor(d -> ConsoleBrowsers.text(browser, "#drift-features").contains("Not judged") && ConsoleBrowsers.text(browser, "#drift-windows").contains("No judged window"));
                assertThat(ConsoleBrowsers.text(browser, "#drift-reference")).isEqualTo("none");
                assertThat(browser.manage().logs().get(LogType.BROWSER).getAll())
                        .filteredOn(e -> e.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()).isEmpty();
            } catch (Throwable t) {
                if (browser != null) {
                    ConsoleBrowsers.screenshot(browser, "FAILED-drift");
                    Files.writeString(SHOTS.resolve("FAILED-drift.log"), browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                            .map(Object::toString).collect(Collectors.joining("\n")));
                }
                throw t;
            } finally {
                if (browser != null) {
                    browser.quit();
                }
            }
        }
    }

    private <T> T waitFor(Function<WebDriver, T> condition) {
        return ConsoleBrowsers.waitFor(browser, Duration.ofSeconds(20), condition);
    }
}
