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
import io.edgefleet.agent.shadow.ShadowRunner;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.MosquittoExtension;
import java.io.File;
import java.math.BigDecimal;
import java.math.MathContext;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
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
 * The console's shadow sections and A/B experiment pages (docs/shadow.md, docs/ab.md) in a real browser (Debian's
 * {@code chromium} and {@code chromium-driver}, as {@link ConsoleBrowserTest}) against a control plane with every role, a
 * real Mosquitto and two real agents serving a 2-class ONNX classifier, with live traffic: a candidate disagreeing on
 * about 30 % is stopped in its shadow wave (real shadow readings through the real ingest path), and the rollout page shows
 * the shadow wave as its own row, the readings against the shadowGates, the failing verdict and the per-device readings;
 * then an experiment with a surer candidate shows "not judged yet" before traffic, its arms, differences and
 * significance once both arms have their requests, and an operator stops it from the page (a viewer gets no button). Skipped, saying so, without chromium or chromium-driver.
 */
@Tag("slow") // two real agents, a shadow wave, an experiment, a browser: about a minute
class ConsoleShadowAbBrowserTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    static final Path SHOTS = Path.of("target", "console-screenshots");
    @TempDir
    Path dir;

    private ChromeDriver browser;
    private final Random random = new Random(29);

    private InferRequest request() {
        return InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 2}, (float) random.nextGaussian(), (float) random.nextGaussian())));
    }

    /** A number as the console's num() shows it: integers with thousands separators, others to 3 significant digits. */
    static String num(double x) {
        if (x == Math.rint(x) && Math.abs(x) < 1e15) {
            return String.format(java.util.Locale.ROOT, "%,d", (long) x);
        }
        return new BigDecimal(x).round(new MathContext(3)).stripTrailingZeros().toPlainString();
    }

    static String pct(double x) {
        return num(x * 100) + " %";
    }

    @Test
    void the_console_shows_a_stopped_shadow_wave_and_an_experiments_arms_and_differences() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(ConsoleBrowserTest.CHROMIUM)) && Files.isExecutable(Path.of(ConsoleBrowserTest.CHROMEDRIVER)),
                "needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver");
        Files.createDirectories(SHOTS);
        int port = io.edgefleet.testkit.Ports.freePort();
        List<EdgeAgent> agents = new ArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        Thread traffic = null;
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withHttp("127.0.0.1", port)
                .withRoles(EnumSet.allOf(Role.class)).withMqtt(MQTT.broker().url()).withRolloutTick(Duration.ofMillis(100))
                .withBucket(Duration.ofSeconds(1)), java.time.Clock.systemUTC(), io.edgefleet.cloud.pki.Revocations.none(),
                io.edgefleet.transport.tracing.Tracing.off())) {
            CloudClient ops = client(cp, OPERATOR);
            Path cands = Files.createDirectories(dir.resolve("candidates"));
            for (var c : Map.of("bad", SyntheticModels.rotatedClassifierOnnx(cands, "bad.onnx", 0.3 * Math.PI, 1),
                    "sharp", SyntheticModels.rotatedClassifierOnnx(cands, "sharp.onnx", 0, 4)).entrySet()) {
                CloudClient.Response r = ops.pushModel("clf", c.getKey(), List.of(c.getValue()), List.of(), Map.of(), n -> { });
                assertThat(r.status()).as(r.text()).isEqualTo(201);
            }
            JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
            AgentConfig.Sync sync = new AgentConfig.Sync(URI.create("http://127.0.0.1:" + port),
                    Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
            for (int i = 0; i < 2; i++) {
                Path models = Files.createDirectories(dir.resolve("models-" + i));
                SyntheticModels.rotatedClassifierOnnx(models, "clf.onnx", 0, 1);
                EdgeAgent a = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent-" + i)).withModelsDir(models).withHttp("127.0.0.1", 0)
                        .withCoapPort(-1).withIdentity("cs", "d-" + i).withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                        .withMqtt(MQTT.broker().url()).withSync(sync).withTls(CloudTestSupport.agentToken()).withTelemetry(Duration.ofMillis(250), 10_000)
                        .withMaxLatencyFactor(Double.MAX_VALUE));
                a.shadow().configure(ShadowRunner.Settings.defaults().withShare(1.0).withCpuShare(1.0)); // samples in seconds
                agents.add(a);
            }
            java.util.concurrent.CompletableFuture<ChromeDriver> starting = java.util.concurrent.CompletableFuture.supplyAsync(() -> ConsoleBrowsers.start(dir.resolve("chromium-profile"), "chromedriver-shadow-ab.log"));
            String activeVersion = agents.get(0).slots().activeVersions().get("clf");
            await(Duration.ofSeconds(30), "both agents online with their version", () -> cp.fleet().select(
                    io.edgefleet.cloud.fleet.Selector.parse("fleet=cs,status=online")).stream().filter(d -> d.activeVersion("clf").isPresent()).count() == 2);
            traffic = Thread.ofPlatform().name("console-test-traffic").daemon().start(() -> {
                Random r = new Random(28);
                while (running.get()) {
                    for (EdgeAgent a : agents) {
                        try {
                            a.inference().infer("clf", Optional.empty(), InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 2},
                                    (float) r.nextGaussian(), (float) r.nextGaussian()))));
                        } catch (RuntimeException e) {
                            // a swap under way is no answer
                        }
                    }
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });

            // a shadow wave at 50 % and a normal wave at 50 %: two rows, never one bar
            CloudClient.Response created = ops.raw("POST", "/api/v1/rollouts", "application/json", """
                    {"model": "clf", "version": "bad", "selector": "fleet=cs",
                     "waves": [{"percent": 50, "mode": "shadow"}, {"percent": 50}, {"percent": 100}],
                     "shadowGates": {"minSamples": 150}, "commandTimeout": "60s", "telemetryWait": "60s"}
                    """.getBytes());
            assertThat(created.status()).as(created.text()).isEqualTo(201);
            String id = created.json().get("rollout").get("id").asText();
            await(Duration.ofSeconds(90), "the rollout rolled back", () -> ops.get("/api/v1/rollouts/" + id).json().get("rollout").get("state")
                    .asText().equals("rolled-back"));
            running.set(false);
            traffic.join(5000);
            JsonNode st = ops.get("/api/v1/rollouts/" + id).json();
            String shadowDevice = null;
            for (JsonNode d : st.get("devices")) {
                if (d.get("wave").asInt() == 1) {
                    shadowDevice = d.get("fleet").asText() + "/" + d.get("device").asText();
                }
            }
            assertThat(shadowDevice).as("the shadow wave's device").isNotNull();

            browser = starting.join();
            browser.get("http://127.0.0.1:" + cp.port() + "/ui/");
            browser.findElement(By.id("token")).sendKeys(VIEWER);
            browser.findElement(By.cssSelector("#signin button[type=submit]")).click();
            waitFor(d -> d.findElement(By.id("who")).getText().endsWith("(viewer)"));
            ((JavascriptExecutor) browser).executeScript("location.hash = arguments[0]", "#/rollouts/" + id);
            waitFor(d -> !d.findElements(By.cssSelector("#shadow-wave-1 tr[data-reading=samples]")).isEmpty());
            // late windows may still land after the rollback: compare the page with the API once both agree on the samples
            JsonNode[] totals = new JsonNode[1];
            waitFor(d -> {
                totals[0] = ops.get("/api/v1/rollouts/" + id).json().get("shadow").get("totals");
                return ConsoleBrowsers.text(browser, "#shadow-wave-1 tr[data-reading=samples]").endsWith(" " + num(totals[0].get("samples").asLong()) + " met");
            });
            JsonNode t = totals[0];
            assertThat(t.get("samples").asLong()).isGreaterThanOrEqualTo(150);
            assertThat(t.get("agreement").asDouble()).as(t.toString()).isBetween(0.55, 0.85);
            assertThat(browser.findElement(By.id("wave-1")).getAttribute("data-mode")).isEqualTo("shadow");
            assertThat(browser.findElement(By.id("wave-2")).getAttribute("data-mode")).isEqualTo("normal");
            assertThat(ConsoleBrowsers.text(browser, "#wave-2")).as("the normal wave after the stopped shadow wave never started: not one bar with it")
                    .contains("no device yet").contains("not started").doesNotContain("rolled-back");
            assertThat(ConsoleBrowsers.text(browser, "#wave-1")).contains("shadow").contains("no device answers with the candidate").contains("none (shadow)");
            assertThat(ConsoleBrowsers.text(browser, "#shadow-wave-1-note")).startsWith("No device answers with version bad during this wave.");
            assertThat(ConsoleBrowsers.text(browser, "#shadow-wave-1-verdict")).startsWith("Verdict: fail").contains("stopped in its shadow wave")
                    .contains("agreed with the active version on"); // at the judging tick: later windows may have added samples since
            String agreement = ConsoleBrowsers.text(browser, "#shadow-wave-1 tr[data-reading=agreement]");
            assertThat(agreement).contains(pct(t.get("agreement").asDouble())).contains("min 95 %")
                    .contains(pct(t.get("agreementLow").asDouble()) + " – " + pct(t.get("agreementHigh").asDouble()))
                    .contains("fails: at most " + pct(t.get("agreementHigh").asDouble()) + " at 99.9 % confidence");
            assertThat(browser.findElement(By.cssSelector("#shadow-wave-1 tr[data-reading=agreement]")).getAttribute("class")).contains("gate-fail");
            assertThat(ConsoleBrowsers.text(browser, "#shadow-wave-1 tr[data-reading=latencyRatio]")).contains("max 2×").contains(num(t.get("latencyRatio").asDouble()) + "×");
            assertThat(ConsoleBrowsers.text(browser, "#shadow-wave-1 tr[data-reading=nonFinite]")).contains("max 0").endsWith("within");
            assertThat(ConsoleBrowsers.text(browser, "#shadow-wave-1 tr[data-reading=confidenceDiff]")).contains(num(t.get("confidenceDiff").asDouble()));
            JsonNode perDevice = ops.get("/api/v1/rollouts/" + id).json().get("shadow").get("devices");
            assertThat(perDevice).as("per-device readings in the status").hasSize(1);
            assertThat(perDevice.get(0).get("device").asText()).isEqualTo(shadowDevice);
            assertThat(ConsoleBrowsers.text(browser, "#shadow-wave-1 tr[data-device='" + shadowDevice + "']")).startsWith(shadowDevice)
                    .contains(pct(t.get("agreement").asDouble()));
            ConsoleBrowsers.screenshot(browser, "shadow-rollout");
            ((JavascriptExecutor) browser).executeScript("document.getElementById('shadow-wave-1').scrollIntoView()");
            ConsoleBrowsers.screenshot(browser, "shadow-section");

            // an A/B experiment: not judged before traffic, then arms and differences
            CloudClient.Response started = ops.raw("POST", "/api/v1/experiments", "application/json", """
                    {"model": "clf", "candidate": "sharp", "share": 0.5, "selector": "fleet=cs"}""".getBytes());
            assertThat(started.status()).as(started.text()).isEqualTo(201);
            String ex = started.json().get("id").asText();
            await(Duration.ofSeconds(60), "both agents split", () -> agents.stream().allMatch(a -> a.splits().running("clf").isPresent()));
            browser.findElement(By.cssSelector("#nav a[data-section=experiments]")).click();
            String row = "#experiments-live tr[data-experiment='" + ex + "']";
            waitFor(d -> !d.findElements(By.cssSelector(row)).isEmpty());
            assertThat(ConsoleBrowsers.text(browser, row)).contains("clf").contains(activeVersion).contains("sharp").contains("50 % to B, per request").contains("running")
                    .contains("not yet");
            browser.findElement(By.cssSelector(row + " a")).click();
            waitFor(d -> d.getCurrentUrl().endsWith("#/experiments/" + ex) && !ConsoleBrowsers.text(browser, "#experiment-judged").isEmpty());
            assertThat(ConsoleBrowsers.text(browser, "#experiment-judged")).contains("Not judged yet: 0 of 200 requests per arm");
            assertThat(ConsoleBrowsers.text(browser, "#experiment-end")).contains("edgefleet experiment stop " + ex).contains("rollout of version sharp");
            assertThat(browser.findElements(By.id("experiment-stop"))).as("a viewer gets no stop button").isEmpty();

            int perAgent = 300;
            for (EdgeAgent a : agents) {
                for (int i = 0; i < perAgent; i++) {
                    a.inference().infer("clf", Optional.empty(), request());
                }
            }
            await(Duration.ofSeconds(60), "every request counted in the comparison", () -> {
                JsonNode c = ops.get("/api/v1/experiments/" + ex).json().get("comparison");
                return c.get("a").get("requests").asLong() + c.get("b").get("requests").asLong() == 2 * perAgent;
            });
            JsonNode c = ops.get("/api/v1/experiments/" + ex).json().get("comparison");
            assumeTrue(c.get("judged").asBoolean(), "an arm got fewer than 200 of 600 requests at a 50 % share (about 1e-16): " + c);
            waitFor(d -> "true".equals(d.findElement(By.cssSelector("#experiment-judged p")).getAttribute("data-judged")));
            for (String arm : List.of("a", "b")) {
                JsonNode x = c.get(arm);
                assertThat(ConsoleBrowsers.text(browser, "#experiment-arms tr[data-arm=" + arm + "]")).startsWith(arm.toUpperCase())
                        .contains(arm.equals("a") ? activeVersion : "sharp").contains(num(x.get("requests").asLong()))
                        .contains(pct(x.get("errorRate").get("value").asDouble()))
                        .contains(num(x.get("confidence").get("value").asDouble()) + " [" + num(x.get("confidence").get("low").asDouble()) + ", "
                                + num(x.get("confidence").get("high").asDouble()) + "]");
            }
            JsonNode conf = c.get("difference").get("confidence");
            assertThat(conf.get("significant").asBoolean()).as("arm B is surer: " + c).isTrue();
            assertThat(ConsoleBrowsers.text(browser, "#experiment-differences tr[data-measure=confidence]")).contains("+" + num(conf.get("value").asDouble()))
                    .contains("[+" + num(conf.get("low").asDouble())).endsWith("yes: the interval excludes 0");
            assertThat(ConsoleBrowsers.text(browser, "#experiment-differences tr[data-measure=errorRate]")).endsWith("no: the interval holds 0");
            assertThat(ConsoleBrowsers.text(browser, "#experiment-differences tr[data-measure=latencyMs]")).contains(" ms");
            // accuracy only where the comparison carries it (labels through the feedback call)
            assertThat(browser.findElements(By.cssSelector("#experiment-differences tr[data-measure=accuracy]")).isEmpty())
                    .isEqualTo(!c.get("difference").has("accuracy"));
            ConsoleBrowsers.screenshot(browser, "experiment");

            // an operator stops it from the page (the rollout page's pattern: a write with the signed-in token, confirmed first)
            browser.findElement(By.id("signout")).click();
            waitFor(d -> !d.findElements(By.id("token")).isEmpty());
            browser.findElement(By.id("token")).sendKeys(OPERATOR);
            browser.findElement(By.cssSelector("#signin button[type=submit]")).click();
            waitFor(d -> d.findElement(By.id("who")).getText().endsWith("(operator)"));
            waitFor(d -> !d.findElements(By.id("experiment-stop")).isEmpty());
            browser.findElement(By.id("experiment-stop")).click();
            browser.switchTo().alert().accept();
            waitFor(d -> ConsoleBrowsers.text(browser, "#experiment-state").equals("stopped"));
            assertThat(ops.get("/api/v1/experiments/" + ex).json().get("state").asText()).isEqualTo("stopped");
            assertThat(ConsoleBrowsers.text(browser, "#experiment-end")).startsWith("Stopped at ").contains("every device was sent back to arm A only");
            assertThat(browser.findElements(By.id("experiment-stop"))).isEmpty();
            await(Duration.ofSeconds(60), "both agents back on arm A", () -> agents.stream().allMatch(a -> a.splits().running("clf").isEmpty()));
            assertThat(browser.manage().logs().get(LogType.BROWSER).getAll())
                    .filteredOn(e -> e.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()).isEmpty();
        } catch (Throwable e) {
            if (browser != null) {
                ConsoleBrowsers.screenshot(browser, "FAILED-shadow-ab");
                Files.writeString(SHOTS.resolve("FAILED-shadow-ab.log"), browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                        .map(Object::toString).collect(Collectors.joining("\n")));
            }
            throw e;
        } finally {
            running.set(false);
            if (browser != null) {
                browser.quit();
            }
            agents.forEach(EdgeAgent::close);
        }
    }

    private <T> T waitFor(Function<WebDriver, T> condition) {
        return ConsoleBrowsers.waitFor(browser, Duration.ofSeconds(20), condition);
    }
}
