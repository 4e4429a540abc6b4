package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.cloud.drift.DriftRepository.WindowScore;
import io.edgefleet.cloud.drift.DriftSettings;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.testkit.Promtool;
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
import java.util.Random;
import java.util.StringJoiner;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Drift through the whole path: a real agent serving a real ONNX classifier (x[N,4]) computes the drift sketches from
 * the requests it answers; its telemetry crosses a real Mosquitto into the control plane, whose monitor learns the
 * reference from the first windows of traffic, then raises the alarm (event, API, Prometheus) once the inputs' first two
 * features shift by one standard deviation. Windows are real time (the agent's 500 ms telemetry window); the test waits
 * for states, never asserts durations.
 */
@Tag("slow") // a real agent, broker and control plane over real-time windows: about 30 s
class DriftEndToEndTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    Path dir;

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** One request of 8 rows (the agent takes at most 8 rows a request), features 0 and 1 shifted by {@code shift}. */
    private static int post(EdgeAgent a, Random rnd, double shift) throws Exception {
        StringJoiner data = new StringJoiner(",");
        for (int r = 0; r < 8; r++) {
            for (int f = 0; f < 4; f++) {
                data.add(String.format(Locale.ROOT, "%.5f", rnd.nextGaussian() + (f < 2 ? shift : 0)));
            }
        }
        String json = "{\"inputs\":[{\"name\":\"x\",\"shape\":[8,4],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}";
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.httpPort() + "/v2/models/cls/infer"))
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void a_shifted_input_stream_from_a_real_agent_raises_the_alarm_after_a_reference_learned_from_its_traffic() throws Exception {
        // small windows of real traffic: 100 values a window are enough to judge; 3 windows make the reference; 2 in a row alarm
        DriftSettings drift = new DriftSettings(10, 0.2, 2, 100, 3, Duration.ZERO, 4096, Duration.ZERO);
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMqtt(MQTT.broker().url()), Clock.systemUTC(),
                io.edgefleet.cloud.pki.Revocations.none(), io.edgefleet.transport.tracing.Tracing.off(), drift)) {
            Path models = Files.createDirectories(dir.resolve("models"));
            Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("src"))), models.resolve("cls.onnx"));
            try (EdgeAgent a = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent")).withModelsDir(models).withHttp("127.0.0.1", 0)
                    .withCoapPort(-1).withIdentity("dr", "d1").withMqtt(MQTT.broker().url()).withTelemetry(Duration.ofMillis(500), 10_000))) {
                await(Duration.ofSeconds(15), "agent connected", () -> a.mqtt().orElseThrow().isConnected());
                String version = a.slots().activeVersions().get("cls");
                Random rnd = new Random(11);
                for (int round = 0; round < 400 && cp.drift().repository().reference("cls", version).isEmpty(); round++) {
                    for (int i = 0; i < 20; i++) {
                        assertThat(post(a, rnd, 0)).isEqualTo(200);
                    }
                    cp.drift().runOnce();
                }
                var ref = cp.drift().repository().reference("cls", version).orElseThrow();
                assertThat(ref.profile().source()).isEqualTo("traffic");
                assertThat(ref.profile().inputs().get("x")).hasSize(4);
                assertThat(ref.profile().confidence()).as("the classifier's confidence is profiled too").isPresent();

                for (int round = 0; round < 400 && !cp.drift().repository().recent("cls", version, 1).stream().anyMatch(WindowScore::alarm); round++) {
                    for (int i = 0; i < 20; i++) {
                        assertThat(post(a, rnd, 1.0)).isEqualTo(200);
                    }
                    cp.drift().runOnce();
                }
                List<WindowScore> recent = cp.drift().repository().recent("cls", version, 2);
                assertThat(recent.get(0).alarm()).isTrue();
                assertThat(recent).allSatisfy(w -> {
                    assertThat(w.maxPsi()).as("both windows of the run breach").isGreaterThan(0.2);
                    assertThat(w.worstFeature()).isIn("x[0]", "x[1]");
                });
                JsonNode state = client(cp, OPERATOR).get("/api/v1/models/cls/versions/" + version + "/drift").json();
                assertThat(state.path("alarm").asBoolean()).as(state.toString()).isTrue();
                assertThat(client(cp, OPERATOR).get("/api/v1/events?subject=cls/" + version).json().toString())
                        .contains("model.drift.alarm", "model.drift.reference");
                String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + cp.port() + "/observe/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                String labels = "\\{model=\"cls\",(scope=\"application\",)?version=\"" + version + "\",?\\}";
                assertThat(metrics).containsPattern("(?m)^edgefleet_model_input_drift_psi" + labels + " 0\\.[2-9]|^edgefleet_model_input_drift_psi"
                        + labels + " [1-9]");
                assertThat(metrics).containsPattern("(?m)^edgefleet_model_drift_alarm" + labels + " 1\\.0$");
                assertThat(metrics).containsPattern("(?m)^edgefleet_model_drift_alarms_total" + labels + " 1\\.0$");
                Promtool.Result check = Promtool.checkMetrics(metrics);
                assertThat(check.clean()).as("promtool check metrics said:%n%s", check.output()).isTrue();
            }
        }
    }
}
