package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.cloud.store.Aggregate;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.MosquittoExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, finding 5, through the whole telemetry path: a real agent serving a real FP32 ONNX model
 * answers 150 INT8 requests 400; its batches cross a real Mosquitto into the control plane's SQLite
 * aggregates, and the telemetry API shows 150 client errors of kind invalid-input among the
 * requests, and no model error.
 */
class ClientErrorIngestTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static int post(EdgeAgent a, String json) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.httpPort() + "/v2/models/cls/infer"))
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void refused_requests_reach_the_aggregates_and_the_api_by_kind_and_never_as_model_errors() throws Exception {
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMqtt(MQTT.broker().url()))) {
            Path models = Files.createDirectories(dir.resolve("models"));
            Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("src"))), models.resolve("cls.onnx"));
            try (EdgeAgent a = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent")).withModelsDir(models).withHttp("127.0.0.1", 0)
                    .withCoapPort(-1).withIdentity("ce", "d1").withMqtt(MQTT.broker().url()).withTelemetry(Duration.ofMillis(200), 10_000))) {
                await(Duration.ofSeconds(15), "agent connected", () -> a.mqtt().orElseThrow().isConnected());
                String version = a.slots().activeVersions().get("cls");
                for (int i = 0; i < 150; i++) {
                    assertThat(post(a, "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"INT8\",\"data\":[1,2,3,4]}]}")).isEqualTo(400);
                }
                for (int i = 0; i < 20; i++) {
                    assertThat(post(a, "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}")).isEqualTo(200);
                }
                Instant from = Instant.now().minus(Duration.ofHours(1));
                Instant to = Instant.now().plus(Duration.ofHours(1));
                await(Duration.ofSeconds(60), "170 requests in the aggregates", () -> cp.telemetry().modelTotal("cls", version, from, to).count() >= 170);
                Thread.sleep(500); // a late duplicate would land now
                Aggregate total = cp.telemetry().modelTotal("cls", version, from, to);
                assertThat(total.count()).isEqualTo(170);
                assertThat(total.clientErrorCount()).isEqualTo(150);
                assertThat(total.clientErrors()).isEqualTo(Map.of("invalid-input", 150L));
                assertThat(total.errors()).isZero();
                assertThat(total.errorRate()).isZero();
                assertThat(total.p95Ms()).isPositive();

                JsonNode api = client(cp, OPERATOR).get("/api/v1/telemetry/models/cls/versions/" + version).json().get("total");
                assertThat(api.get("count").asLong()).isEqualTo(170);
                assertThat(api.get("clientErrorCount").asLong()).isEqualTo(150);
                assertThat(api.get("clientErrors").get("invalid-input").asLong()).isEqualTo(150);
                assertThat(api.get("clientErrorRate").asDouble()).isEqualTo(150.0 / 170);
                assertThat(api.get("errors").asLong()).isZero();
                JsonNode device = client(cp, OPERATOR).get("/api/v1/telemetry/fleets/ce/devices/d1").json().get("models").get(0);
                assertThat(device.get("clientErrors").toString()).isEqualTo("{\"invalid-input\":150}");
            }
        }
    }
}
