package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.telemetry.Observation;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.coap.CoapResources;
import io.edgefleet.protocols.oip.OipCodec;
import io.helidon.http.HeaderNames;
import io.helidon.webclient.api.HttpClientResponse;
import io.helidon.webclient.api.WebClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests that once killed the agent (an empty Silero VAD batch: ONNX Runtime aborted the JVM)
 * or came back as a 500 counted against the model, over real HTTP and CoAP sockets: each is a 400
 * whose body names model, input and rule and nothing of the runtime, no model error is recorded,
 * and the agent answers the next request.
 */
class AgentBadInputTest {
    /** The shared real models, beside the repository; tests run in the module folder. */
    static final Path MODELS = io.edgefleet.testkit.SharedModels.dir();
    @TempDir
    static Path dir;
    static EdgeAgent agent;
    static WebClient client;
    static final List<Observation> seen = new CopyOnWriteArrayList<>();
    static final OipCodec CODEC = OipCodec.create();

    @BeforeAll
    static void start() throws IOException {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierTflite(dir), models.resolve("cls.tflite"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls-onnx.onnx"));
        Path vad = MODELS.resolve("silero_vad/silero_vad_fp32.onnx");
        Path hello = MODELS.resolve("hello_world/hello_world_float.tflite");
        if (Files.isRegularFile(vad) && Files.isRegularFile(hello)) {
            Files.copy(vad, models.resolve("vad.onnx"));
            Files.copy(hello, models.resolve("hello.tflite"));
        }
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(0));
        agent.addObservationListener(seen::add);
        client = WebClient.builder().baseUri("http://127.0.0.1:" + agent.httpPort()).build();
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    @BeforeEach
    void forget() {
        seen.clear();
    }

    record Reply(int status, String body) {
    }

    static Reply post(String model, String json) {
        try (HttpClientResponse r = client.post("/v2/models/" + model + "/infer").header(HeaderNames.CONTENT_TYPE, "application/json")
                .submit(json.getBytes(StandardCharsets.UTF_8))) {
            return new Reply(r.status().code(), r.entity().hasEntity() ? r.as(String.class) : "");
        }
    }

    static String vad(int batch, int samples, int stateBatch) {
        return io.edgefleet.testkit.SharedModels.sileroRequestJson(batch, samples, stateBatch);
    }

    static void noModelErrorRecorded() {
        assertThat(seen).as("observations recorded for client mistakes").noneMatch(Observation::error);
    }

    private static void needsRealModels() {
        // skips without the shared models, fails where they are required (CI)
        io.edgefleet.testkit.SharedModels.require("silero_vad/silero_vad_fp32.onnx");
        io.edgefleet.testkit.SharedModels.require("hello_world/hello_world_float.tflite");
        assertThat(agent.slots().activeVersions()).containsKeys("vad", "hello");
    }

    @Test
    void silero_vad_empty_batch_is_a_400_and_the_agent_keeps_serving_over_http_and_coap() throws Exception {
        needsRealModels();
        Reply empty = post("vad", vad(0, 512, 0));
        assertThat(empty.status()).as(empty.body()).isEqualTo(400);
        assertThat(CODEC.decodeError(empty.body().getBytes(StandardCharsets.UTF_8))).isEqualTo("model 'vad' input 'input': dimension 0 is 0 "
                + "in [0,512] (expected [-1,-1]); empty tensors are refused: there is nothing to compute");
        CoapClient coap = new CoapClient("coap://127.0.0.1:" + agent.coapPort().getAsInt() + "/infer/vad");
        try {
            CoapResponse r = coap.post(vad(0, 512, 0), CoapResources.FORMAT_JSON);
            assertThat(r).as("CoAP answer").isNotNull();
            assertThat(r.getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
            assertThat(r.getResponseText()).contains("dimension 0 is 0");
        } finally {
            coap.shutdown();
        }
        Reply ok = post("vad", vad(1, 576, 1));
        assertThat(ok.status()).as(ok.body()).isEqualTo(200);
        assertThat(ok.body()).contains("\"name\":\"output\"", "\"name\":\"stateN\"");
        noModelErrorRecorded();
    }

    /** Once a 500 whose body named ONNX Runtime's nodes ('If_0', '/stft/Conv'). */
    @Test
    void a_wrong_length_frame_is_a_400_without_runtime_internals_and_no_model_error() {
        needsRealModels();
        for (String bad : List.of(vad(1, 100, 1), vad(2, 576, 1))) {
            Reply r = post("vad", bad);
            assertThat(r.status()).as(r.body()).isEqualTo(400);
            assertThat(r.body()).startsWith("{\"error\":\"model 'vad' cannot compute inputs of shapes input [")
                    .doesNotContain("node", "If_0", "Conv", "LSTM", "ORT_", "Status Message", "onnxruntime");
        }
        assertThat(post("vad", vad(1, 576, 1)).status()).isEqualTo(200);
        noModelErrorRecorded();
    }

    /** Once a 500 counted as a model error, feeding the watchdog and the rollout gates. */
    @Test
    void hello_world_tflite_empty_batch_is_a_400_not_a_model_error() {
        needsRealModels();
        String in;
        try (var lease = agent.slots().lease("hello", java.util.Optional.empty())) {
            in = lease.model().signature().inputs().get(0).name();
        }
        Reply r = post("hello", "{\"inputs\":[{\"name\":\"" + in + "\",\"shape\":[0,1],\"datatype\":\"FP32\",\"data\":[]}]}");
        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.body()).contains("dimension 0 is 0 in [0,1]");
        Reply ok = post("hello", "{\"inputs\":[{\"name\":\"" + in + "\",\"shape\":[1,1],\"datatype\":\"FP32\",\"data\":[1.5]}]}");
        assertThat(ok.status()).as(ok.body()).isEqualTo(200);
        noModelErrorRecorded();
        assertThat(seen).as("the good request is observed as served").filteredOn(o -> o.clientError().isEmpty()).hasSize(1);
        assertThat(seen).as("the empty batch is counted as the client's mistake").filteredOn(o -> o.clientError().isPresent())
                .extracting(o -> o.clientError().get().name()).containsExactly("INVALID_INPUT");
    }

    /** The same on the synthetic models, so a clone without the shared models still proves the rule on both runtimes. */
    @Test
    void zero_sized_dimensions_are_400_on_both_runtimes_and_never_model_errors() {
        for (String model : List.of("cls", "cls-onnx")) {
            Reply r = post(model, "{\"inputs\":[{\"name\":\"x\",\"shape\":[0,4],\"datatype\":\"FP32\",\"data\":[]}]}");
            assertThat(r.status()).as(r.body()).isEqualTo(400);
            assertThat(CODEC.decodeError(r.body().getBytes(StandardCharsets.UTF_8))).isEqualTo("model '" + model + "' input 'x': "
                    + "dimension 0 is 0 in [0,4] (expected [-1,4]); empty tensors are refused: there is nothing to compute");
            Reply ok = post(model, "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}");
            assertThat(ok.status()).as(ok.body()).isEqualTo(200);
        }
        noModelErrorRecorded();
        assertThat(seen).as("the two good requests are observed as served").filteredOn(o -> o.clientError().isEmpty()).hasSize(2);
        assertThat(seen).as("the two empty batches are counted as the client's mistakes").filteredOn(o -> o.clientError().isPresent())
                .extracting(o -> o.clientError().get().name()).containsExactly("INVALID_INPUT", "INVALID_INPUT");
    }
}
