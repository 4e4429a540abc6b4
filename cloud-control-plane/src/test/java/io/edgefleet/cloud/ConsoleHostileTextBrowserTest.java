package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.VIEWER;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.MosquittoExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The console's shadow and experiment views against hostile free text and ids that do not exist (real Chromium): an
 * operator's abort reason full of markup shows as text in the rollout page's shadow verdict (no element, no script run),
 * a shadow rollout without a device or a sample renders without a script error, and an experiment id that does not exist
 * says so in the problem banner. Skipped, saying so, without chromium or chromium-driver.
 */
@Tag("slow") // a browser
class ConsoleHostileTextBrowserTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    static final String HOSTILE = "<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>&amp; \"'</td>";
    @TempDir
    Path dir;

    @Test
    void markup_in_a_reason_is_text_and_a_missing_experiment_is_said_so() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(ConsoleBrowsers.CHROMIUM)) && Files.isExecutable(Path.of(ConsoleBrowsers.CHROMEDRIVER)),
                "needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver");
        Files.createDirectories(ConsoleBrowsers.SHOTS);
        int port = io.edgefleet.testkit.Ports.freePort();
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withHttp("127.0.0.1", port)
                .withRoles(EnumSet.allOf(Role.class)).withMqtt(MQTT.broker().url()).withRolloutTick(Duration.ofMillis(100)),
                java.time.Clock.systemUTC(), io.edgefleet.cloud.pki.Revocations.none(), io.edgefleet.transport.tracing.Tracing.off())) {
            CloudClient ops = client(cp, OPERATOR);
            Path cands = Files.createDirectories(dir.resolve("candidates"));
            CloudClient.Response pushed = ops.pushModel("clf", "bad", List.of(SyntheticModels.rotatedClassifierOnnx(cands, "bad.onnx", 0, 1)),
                    List.of(), Map.of(), n -> { });
            assertThat(pushed.status()).as(pushed.text()).isEqualTo(201);
            CloudClient.Response created = ops.raw("POST", "/api/v1/rollouts", "application/json", """
                    {"model": "clf", "version": "bad", "selector": "fleet=nobody", "waitForDevices": true,
                     "waves": [{"percent": 50, "mode": "shadow"}, {"count": 1}]}
                    """.getBytes());
            assertThat(created.status()).as(created.text()).isEqualTo(201);
            String id = created.json().get("rollout").get("id").asText();
            CloudClient.Response aborted = ops.raw("POST", "/api/v1/rollouts/" + id + "/abort", "application/json",
                    new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(Map.of("reason", HOSTILE)));
            assertThat(aborted.status()).as(aborted.text()).isEqualTo(200);

            ChromeDriver browser = ConsoleBrowsers.start(dir.resolve("chromium-profile"), "chromedriver-hostile.log");
            try {
                browser.get("http://127.0.0.1:" + cp.port() + "/ui/");
                browser.findElement(By.id("token")).sendKeys(VIEWER);
                browser.findElement(By.cssSelector("#signin button[type=submit]")).click();
                ConsoleBrowsers.waitFor(browser, Duration.ofSeconds(30), d -> d.findElement(By.id("who")).getText().endsWith("(viewer)"));
                JavascriptExecutor js = browser;
                js.executeScript("window.__errors = []; window.addEventListener('error', (e) => window.__errors.push(String(e.message)));"
                        + "window.addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason)));");
                js.executeScript("location.hash = arguments[0]", "#/rollouts/" + id);
                ConsoleBrowsers.waitFor(browser, Duration.ofSeconds(30), d -> !d.findElements(By.id("shadow-wave-1-verdict")).isEmpty());
                assertThat(ConsoleBrowsers.text(browser, "#shadow-wave-1-verdict")).as("the reason, as text").contains(HOSTILE);
                assertThat(ConsoleBrowsers.text(browser, "#shadow-wave-1")).contains("No device has reported shadow samples yet.");
                assertThat(browser.findElements(By.cssSelector("#main img, #main script"))).as("no element from the reason").isEmpty();
                assertThat(js.executeScript("return window.__xss === undefined")).isEqualTo(true);
                assertThat(ConsoleBrowsers.text(browser, "#problem")).as("no problem on a shadow rollout without devices").isEmpty();

                js.executeScript("location.hash = arguments[0]", "#/experiments/no-such-experiment");
                ConsoleBrowsers.waitFor(browser, Duration.ofSeconds(30), d -> ConsoleBrowsers.text(d, "#problem").contains("no-such-experiment"));
                assertThat(ConsoleBrowsers.text(browser, "#problem")).contains("No experiment").contains("404");
                js.executeScript("location.hash = arguments[0]", "#/experiments");
                ConsoleBrowsers.waitFor(browser, Duration.ofSeconds(30), d -> ConsoleBrowsers.text(d, "#experiments-live").contains("No experiment yet."));
                assertThat(ConsoleBrowsers.text(browser, "#problem")).as("the banner clears on a page that loads").isEmpty();
                assertThat(js.executeScript("return window.__errors")).as("script errors").isEqualTo(List.of());
                ConsoleBrowsers.screenshot(browser, "hostile-text");
            } finally {
                browser.quit();
            }
        }
    }
}
