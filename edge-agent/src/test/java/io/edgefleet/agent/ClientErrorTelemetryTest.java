package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.oip.Parameters;
import io.edgefleet.protocols.oip.RequestedOutput;
import io.edgefleet.protocols.oip.TensorData;
import io.helidon.http.HeaderNames;
import io.helidon.webclient.api.HttpClientResponse;
import io.helidon.webclient.api.WebClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, finding 5: a version whose input datatype changed got 150 client requests answered
 * 400, and telemetry said "1 request, 0 errors". A real agent with a real ONNX model is sent bad
 * requests over HTTP; its telemetry outbox must count every one as a request and as a client error
 * of its kind, per model and version, and none as a model error.
 */
class ClientErrorTelemetryTest {
    static final OipCodec CODEC = OipCodec.create();

    @TempDir
    Path dir;

    /** Sums of one (model, version) over every batch in the outbox. */
    record Totals(long count, long errors, Map<String, Long> clientErrors) {
    }

    @Test
    void refused_requests_are_counted_by_kind_per_model_and_version_and_never_as_model_errors() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls.onnx"));
        try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0)
                .withCoapPort(-1).withTelemetry(Duration.ofMillis(250), 10_000))) {
            WebClient client = WebClient.builder().baseUri("http://127.0.0.1:" + agent.httpPort()).build();
            String active = agent.slots().activeVersions().get("cls");
            byte[] int8 = CODEC.encodeRequest(InferRequest.of(new InferTensor("x",
                    TensorData.ofInt8(new long[] {1, 4}, (byte) 1, (byte) 2, (byte) 3, (byte) 4))), false).body();
            byte[] valid = CODEC.encodeRequest(InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, 1, 2, 3, 4))), false)
                    .body();
            for (int i = 0; i < 150; i++) {
                assertThat(post(client, "/v2/models/cls/infer", int8)).isEqualTo(400); // what the field saw: FP32 model, INT8 clients
            }
            assertThat(post(client, "/v2/models/cls/infer", "{\"inputs\":[".getBytes(StandardCharsets.UTF_8))).isEqualTo(400);
            assertThat(post(client, "/v2/models/cls/infer", "[]".getBytes(StandardCharsets.UTF_8))).isEqualTo(400);
            assertThat(post(client, "/v2/models/cls/infer", CODEC.encodeRequest(new InferRequest(Optional.empty(), Parameters.EMPTY,
                    InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, 1, 2, 3, 4))).inputs(),
                    List.of(new RequestedOutput("nope"))), false).body())).isEqualTo(400);
            assertThat(post(client, "/v2/models/cls/versions/9/infer", valid)).isEqualTo(404);
            assertThat(post(client, "/v2/models/nope/infer", valid)).isEqualTo(404);
            for (int i = 0; i < 3; i++) {
                assertThat(post(client, "/v2/models/cls/infer", valid)).isEqualTo(200);
            }

            Map<List<String>, Totals> totals = Map.of();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                totals = outbox(agent);
                Totals t = totals.get(List.of("cls", active));
                if (t != null && t.count() >= 156 && totals.containsKey(List.of("cls", "9")) && totals.containsKey(List.of("nope", "none"))) {
                    break;
                }
                Thread.sleep(50);
            }
            assertThat(totals.get(List.of("cls", active))).isEqualTo(new Totals(156, 0, Map.of("invalid-input", 151L, "bad-request", 2L)));
            assertThat(totals.get(List.of("cls", "9"))).isEqualTo(new Totals(1, 0, Map.of("unknown-model", 1L)));
            assertThat(totals.get(List.of("nope", "none"))).isEqualTo(new Totals(1, 0, Map.of("unknown-model", 1L)));
            assertThat(totals).hasSize(3);
            // the watchdog never saw a refused request as a sample of the version
            assertThat(agent.slots().activeVersions()).containsEntry("cls", active);
            try (HttpClientResponse r = client.get("/observe/metrics").header(HeaderNames.ACCEPT, "text/plain").request()) {
                // 4xx are client errors by reason, never server (model) errors; client-chosen names are not label values.
                // The registry is the JVM's (other tests of this fork count too): at least this test's requests.
                String text = r.as(String.class);
                assertThat(value(text, "edgefleet_agent_requests_total{model=\"cls\",outcome=\"client_error\",reason=\"invalid_input\""))
                        .isGreaterThanOrEqualTo(151);
                assertThat(value(text, "edgefleet_agent_requests_total{model=\"cls\",outcome=\"client_error\",reason=\"bad_request\""))
                        .isGreaterThanOrEqualTo(2);
                assertThat(value(text, "edgefleet_agent_requests_total{model=\"cls\",outcome=\"ok\",reason=\"none\"")).isGreaterThanOrEqualTo(3);
                assertThat(value(text, "edgefleet_agent_requests_total{model=\"cls\",outcome=\"client_error\",reason=\"unknown_model\""))
                        .isGreaterThanOrEqualTo(1);
                assertThat(value(text, "edgefleet_agent_requests_total{model=\"_unknown\",outcome=\"client_error\",reason=\"unknown_model\""))
                        .isGreaterThanOrEqualTo(1);
                assertThat(value(text, "edgefleet_agent_inference_duration_seconds_count{model=\"cls\"")).isGreaterThanOrEqualTo(3);
                assertThat(text).doesNotContain("model=\"cls\",outcome=\"server_error\"", "model=\"nope\"");
            }
        }
    }

    /** The value of the series whose line starts with {@code prefix} (Helidon appends a {@code scope} label); fails when absent. */
    static double value(String exposition, String prefix) {
        return exposition.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .orElseThrow(() -> new AssertionError("no series " + prefix + " in:\n" + exposition));
    }

    private static int post(WebClient client, String path, byte[] body) {
        try (HttpClientResponse r = client.post(path).header(HeaderNames.CONTENT_TYPE, "application/json").submit(body)) {
            return r.status().code();
        }
    }

    private static Map<List<String>, Totals> outbox(EdgeAgent agent) {
        Map<List<String>, Totals> out = new TreeMap<>(java.util.Comparator.comparing(Object::toString));
        for (Map.Entry<Long, byte[]> e : agent.store().peekOutbox(10_000)) {
            for (TelemetryRecord r : MessageCodec.json().decode(e.getValue(), TelemetryBatch.class).records()) {
                out.merge(List.of(r.model(), r.version()), new Totals(r.count(), r.errors(), r.clientErrors()), (a, b) -> {
                    Map<String, Long> kinds = new TreeMap<>(a.clientErrors());
                    b.clientErrors().forEach((k, v) -> kinds.merge(k, v, Long::sum));
                    return new Totals(a.count() + b.count(), a.errors() + b.errors(), kinds);
                });
            }
        }
        return out;
    }
}
