package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.testkit.Promtool;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, "Prometheus done right" and "resource utilisation", against real parts: a control plane with every role, a
 * real Mosquitto, a real agent serving a real ONNX model and reporting its resources, a rollout waiting on a device, the
 * cloud answering an inference request. Both {@code /observe/metrics} endpoints pass Debian's {@code promtool check
 * metrics} with no problem printed, and carry the families the docs list; both health endpoints are JSON objects whose
 * details are plain values, never a Java map's text.
 */
class PrometheusMetricsTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/plain").build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int post(String url, String json) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void both_metrics_endpoints_pass_promtool_and_show_requests_latency_fleet_rollouts_registry_ingest_and_resources() throws Exception {
        assumeTrue(Promtool.available(), "promtool is not installed (Debian package 'prometheus'); CI installs it");
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMqtt(MQTT.broker().url())
                .withRoles(EnumSet.allOf(Role.class)).withRolloutTick(Duration.ofMillis(100)))) {
            CloudClient ops = client(cp, OPERATOR);
            Path onnx = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("src")));
            assertThat(ops.pushModel("cls", "1", List.of(onnx), List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
            // a rollout that waits: its only device is registered and never answers, its wave bakes for an hour
            assertThat(ops.raw("PUT", "/api/v1/fleets/ghost/devices/g1", "application/json", "{}".getBytes()).status()).isEqualTo(200);
            CloudClient.Response rollout = ops.raw("POST", "/api/v1/rollouts", "application/json", """
                    {"model": "cls", "version": "1", "selector": "fleet=ghost", "waves": [{"percent": 100, "bake": "1h"}]}
                    """.getBytes());
            assertThat(rollout.status()).as(rollout.text()).isEqualTo(201);
            String rolloutId = rollout.json().get("rollout").get("id").asText();
            String cloudInfer = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
            CloudClient.Response answered = ops.raw("POST", "/v2/models/cls/infer", "application/json", cloudInfer.getBytes());
            assertThat(answered.status()).as(answered.text()).isEqualTo(200);

            Path models = Files.createDirectories(dir.resolve("models"));
            Files.copy(onnx, models.resolve("cls.onnx"));
            try (EdgeAgent a = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent")).withModelsDir(models).withHttp("127.0.0.1", 0)
                    .withCoapPort(-1).withIdentity("mx", "d1").withMqtt(MQTT.broker().url()).withTelemetry(Duration.ofMillis(200), 10_000))) {
                String agent = "http://127.0.0.1:" + a.httpPort();
                await(Duration.ofSeconds(30), "agent connected", () -> a.mqtt().orElseThrow().isConnected());
                for (int i = 0; i < 5; i++) {
                    assertThat(post(agent + "/v2/models/cls/infer", cloudInfer)).isEqualTo(200);
                }
                for (int i = 0; i < 3; i++) { // INT8 to an FP32 model: the client's mistake
                    assertThat(post(agent + "/v2/models/cls/infer", cloudInfer.replace("FP32", "INT8"))).isEqualTo(400);
                }
                assertThat(post(agent + "/v2/models/nope/infer", cloudInfer)).isEqualTo(404);

                // the device JSON shows the resources the agent reported with its telemetry
                JsonNode[] device = new JsonNode[1];
                await(Duration.ofSeconds(60), "resources in the device JSON", () -> {
                    device[0] = ops.get("/api/v1/fleets/mx/devices/d1").json();
                    return device[0].hasNonNull("resources");
                });
                JsonNode res = device[0].get("resources");
                assertThat(res.get("process_rss_bytes").asLong()).isGreaterThan(10L << 20);
                assertThat(res.get("heap_used_bytes").asLong()).isPositive();
                assertThat(res.get("data_disk_free_bytes").asLong()).isPositive();
                assertThat(res.get("process_cpu_ratio").asDouble()).isBetween(0.0, 1.0);
                assertThat(res.get("host_cpu_ratio").asDouble()).isBetween(0.0, 1.0);
                assertThat(res.get("host_memory_available_bytes").asLong()).isPositive();
                assertThat(res.get("accelerators").isArray()).isTrue();
                assertThat(device[0].get("resourcesAt").asText()).isNotBlank();

                String cloud = "http://127.0.0.1:" + cp.port() + "/observe/metrics";
                String[] text = new String[1];
                await(Duration.ofSeconds(60), "the fleet gauges refreshed with the agent's resources and the rollout", () -> {
                    try {
                        cp.refreshFleetMeters(); // rather than waiting for the 5 s period
                        text[0] = get(cloud).body();
                    } catch (Exception e) {
                        return false;
                    }
                    return text[0].contains("edgefleet_cloud_device_process_rss_bytes{device=\"d1\",fleet=\"mx\"")
                            && text[0].contains("edgefleet_cloud_rollout_devices{rollout=\"" + rolloutId + "\"")
                            && text[0].contains("edgefleet_agent_requests_total{model=\"_unknown\"");
                });
                for (String url : List.of(cloud, agent + "/observe/metrics")) {
                    String scrape = get(url).body();
                    // kept for reading (docs/control-plane.md "Metrics" lists these families)
                    Files.writeString(Files.createDirectories(Path.of("target")).resolve(url.equals(cloud) ? "metrics-cloud.txt"
                            : "metrics-agent.txt"), scrape);
                    Promtool.Result check = Promtool.checkMetrics(scrape);
                    assertThat(check.clean()).as("promtool check metrics on %s said:%n%s", url, check.output()).isTrue();
                    assertThat(scrape).as("no camelCase meter names").doesNotContainPattern("(?m)^[a-z_]*[a-z][A-Z]");
                }
                String m = text[0];
                assertThat(m).contains(
                        "# TYPE edgefleet_agent_requests_total counter",
                        "edgefleet_agent_requests_total{model=\"cls\",outcome=\"ok\",reason=\"none\"",
                        "edgefleet_agent_requests_total{model=\"cls\",outcome=\"client_error\",reason=\"invalid_input\"",
                        "edgefleet_agent_requests_total{model=\"_unknown\",outcome=\"client_error\",reason=\"unknown_model\"",
                        "# TYPE edgefleet_agent_inference_duration_seconds histogram",
                        "edgefleet_agent_inference_duration_seconds_bucket{model=\"cls\"",
                        "# TYPE edgefleet_cloud_inference_duration_seconds histogram",
                        "edgefleet_cloud_inference_duration_seconds_bucket{model=\"cls\",route=\"/v2/models/{m}/infer\"",
                        "# TYPE edgefleet_cloud_ingest_applied_batches_total counter",
                        "# TYPE edgefleet_cloud_ingest_lag_seconds histogram",
                        "edgefleet_cloud_devices{agent_version=",
                        "status=\"online\"",
                        "edgefleet_cloud_rollouts{",
                        "state=\"running\"",
                        "edgefleet_cloud_rollout_wave{model=\"cls\",rollout=\"" + rolloutId + "\",",
                        "edgefleet_cloud_registry_models{",
                        "edgefleet_cloud_registry_versions{",
                        "edgefleet_cloud_fleet_process_rss_bytes{",
                        "edgefleet_cloud_fleet_data_disk_free_bytes{",
                        "# TYPE jvm_memory_used_bytes gauge",
                        "# TYPE jvm_gc_pause_seconds");
                assertThat(m).doesNotContain("outcome=\"server_error\"", "model=\"nope\"", "edgefleet_cloud_ingest_received ");

                for (String url : List.of("http://127.0.0.1:" + cp.port() + "/observe/health", agent + "/observe/health")) {
                    JsonNode health = JSON.readTree(get(url).body());
                    assertThat(health.get("status").asText()).isEqualTo("UP");
                    List<String> values = new ArrayList<>();
                    for (JsonNode check : health.get("checks")) {
                        for (Iterator<JsonNode> it = check.path("data").elements(); it.hasNext();) {
                            JsonNode v = it.next();
                            assertThat(v.isValueNode() || v.isContainerNode()).isTrue();
                            values.add(v.asText());
                        }
                    }
                    assertThat(values).as("health details of %s are JSON values, not Java toString maps", url)
                            .noneMatch(v -> v.matches("(?s)[\\[{].*=.*[}\\]]"));
                }
            }
        }
    }
}
