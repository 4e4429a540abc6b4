package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.testkit.Ports;
import io.edgefleet.testkit.Promtool;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code edgefleet agent} and {@code edgefleet cloud} as the real processes an operator runs, each scraped on its own
 * {@code /observe/metrics} (the agent over HTTP, the control plane over its default HTTPS) and piped into Debian's
 * {@code promtool check metrics}: exit 0, nothing printed. Separate processes, so each endpoint shows only its own meters.
 */
@Tag("slow") // two JVMs start
class MetricsProcessTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    Path dir;

    private static final String REQUEST = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";

    @Test
    void each_process_serves_metrics_that_promtool_passes() throws Exception {
        assumeTrue(Promtool.available(), "promtool is not installed (Debian package 'prometheus'); CI installs it");
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls.onnx"));
        int agentPort = Ports.freePort();
        int cloudPort = Ports.freePort();
        try (ChildJvm cloud = ChildJvm.start(dir.resolve("cloud.log"), "cloud", "--data-dir", dir.resolve("cloud").toString(), "--http-port",
                Integer.toString(cloudPort), "--mqtt", MQTT.broker().url());
                ChildJvm agent = ChildJvm.start(dir.resolve("agent.log"), "agent", "--data-dir", dir.resolve("agent").toString(),
                        "--http-port", Integer.toString(agentPort), "--coap-port", "0", "--models-dir", models.toString(), "--mqtt",
                        MQTT.broker().url())) {
            String base = "http://127.0.0.1:" + agentPort;
            agent.awaitOk(base + "/v2/health/ready");
            assertThat(ChildJvm.post(base + "/v2/models/cls/infer", REQUEST).statusCode()).isEqualTo(200);
            assertThat(ChildJvm.post(base + "/v2/models/cls/infer", REQUEST.replace("FP32", "INT8")).statusCode()).isEqualTo(400);
            String agentMetrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/observe/metrics"))
                    .header("Accept", "text/plain").build(), HttpResponse.BodyHandlers.ofString()).body();
            Promtool.Result a = Promtool.checkMetrics(agentMetrics);
            assertThat(a.clean()).as("promtool on the agent said:%n%s", a.output()).isTrue();
            assertThat(agentMetrics).contains("edgefleet_agent_requests_total{model=\"cls\",outcome=\"client_error\",reason=\"invalid_input\"",
                    "edgefleet_agent_inference_duration_seconds_bucket{model=\"cls\"", "jvm_memory_used_bytes").doesNotContain("edgefleet_cloud_");

            String cloudMetrics = cloudScrape(cloud, cloudPort);
            Promtool.Result c = Promtool.checkMetrics(cloudMetrics);
            assertThat(c.clean()).as("promtool on the control plane said:%n%s", c.output()).isTrue();
            assertThat(cloudMetrics).contains("edgefleet_cloud_ingest_received_messages_total", "edgefleet_cloud_registry_models",
                    "jvm_memory_used_bytes").doesNotContain("edgefleet_agent_");
        }
    }

    /** Waits for the control plane's HTTPS listener (trusting the CA it made) and scrapes it once its fleet gauges exist. */
    private String cloudScrape(ChildJvm cloud, int port) throws Exception {
        Path ca = dir.resolve("cloud/pki/ca.pem");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        String last = "";
        while (System.nanoTime() < deadline) {
            assertThat(cloud.process().isAlive()).as("control plane alive; log:%n%s", cloud.log()).isTrue();
            if (Files.exists(ca)) {
                try {
                    HttpClient https = HttpClient.newBuilder().sslContext(CloudClient.trusting(ca)).build();
                    HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/observe/metrics"))
                            .header("Accept", "text/plain").timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                    last = r.body();
                    if (r.statusCode() == 200 && last.contains("edgefleet_cloud_registry_models")) {
                        return last;
                    }
                } catch (IOException | RuntimeException e) {
                    // not listening yet, or the CA file is half written
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no metrics from the control plane; last scrape:\n" + last + "\nlog:\n" + cloud.log());
    }
}
