package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.agent.slots.SlotException;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.transport.net.PortUnavailableException;
import io.edgefleet.protocols.oip.OipCodec;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standalone agent whose models folder holds files it cannot load: it serves every model it
 * can, and says over HTTP (v2 ready, metadata, infer), health and CoAP which model is not ready
 * and why; in strict mode it refuses to start and leaves nothing bound.
 */
class ModelsFolderTest {
    /** The real models beside the repository; overridable with -Dedgefleet.shared.models. */
    static final Path SHARED = io.edgefleet.testkit.SharedModels.dir();
    static final String REQUEST = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
    static final OipCodec CODEC = OipCodec.create();

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A folder with a good model, a truncated ONNX file, and a real TFLite file that needs a newer op version (CAST v3). */
    private Path folder() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("synth"))), models.resolve("cls.onnx"));
        byte[] good = Files.readAllBytes(models.resolve("cls.onnx"));
        Files.write(models.resolve("truncated.onnx"), Arrays.copyOf(good, good.length / 2));
        Path newerOps = io.edgefleet.testkit.SharedModels.require("micro_speech/audio_preprocessor_int8.tflite"); // skips, or fails in CI
        Files.copy(newerOps, models.resolve("preproc.tflite"));
        return models;
    }

    private HttpResponse<String> get(EdgeAgent agent, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> infer(EdgeAgent agent, String model) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + "/v2/models/" + model + "/infer"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(REQUEST)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void the_models_that_load_are_served_and_each_refused_one_is_not_ready_with_its_reason() throws Exception {
        try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(folder())
                .withHttp("127.0.0.1", 0).withCoapPort(0))) {
            assertThat(agent.slots().activeVersions()).containsOnlyKeys("cls");
            assertThat(agent.slots().notReady()).containsOnlyKeys("preproc", "truncated");
            assertThat(agent.slots().notReady().get("preproc")).startsWith("preproc.tflite did not load: ").contains("CAST", "version '3'");
            assertThat(agent.slots().notReady().get("truncated")).startsWith("truncated.onnx did not load: ");
            assertThat(agent.slots().notReady().values()).as("no host paths").noneMatch(r -> r.contains(dir.toString()));

            assertThat(get(agent, "/v2/health/ready").statusCode()).as("the agent serves what it could load").isEqualTo(200);
            HttpResponse<String> ok = infer(agent, "cls");
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
            assertThat(get(agent, "/v2/models/cls/ready").statusCode()).isEqualTo(200);

            for (String model : new String[] {"preproc", "truncated"}) {
                String reason = agent.slots().notReady().get(model);
                for (HttpResponse<String> r : java.util.List.of(get(agent, "/v2/models/" + model + "/ready"),
                        get(agent, "/v2/models/" + model), infer(agent, model))) {
                    assertThat(r.statusCode()).as(r.uri() + " " + r.body()).isEqualTo(503);
                    assertThat(r.headers().firstValue("Retry-After")).as("not ready until an operator acts").isEmpty();
                    assertThat(CODEC.decodeError(r.body().getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                            .isEqualTo("model '" + model + "' is not ready: " + reason);
                }
            }
            assertThat(get(agent, "/v2/models/nope/ready").statusCode()).as("unknown stays unknown").isEqualTo(404);

            HttpResponse<String> health = get(agent, "/observe/health");
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"not_ready.preproc\"", "\"not_ready.truncated\"", "CAST");

            CoapClient coap = new CoapClient("coap://127.0.0.1:" + agent.coapPort().getAsInt() + "/health");
            try {
                CoapResponse h = coap.get();
                assertThat(h.getCode()).isEqualTo(ResponseCode.CONTENT);
                assertThat(h.getResponseText()).isEqualTo("{\"status\":\"UP\",\"models\":1,\"notReady\":[\"preproc\",\"truncated\"]}");
            } finally {
                coap.shutdown();
            }
        }
    }

    @Test
    void a_refused_model_becomes_ready_once_a_version_of_it_is_activated() throws Exception {
        try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(folder())
                .withHttp("127.0.0.1", 0).withCoapPort(-1))) {
            assertThat(get(agent, "/v2/models/truncated/ready").statusCode()).isEqualTo(503);
            agent.slots().install("truncated", "fixed", dir.resolve("models/cls.onnx"));
            assertThat(get(agent, "/v2/models/truncated/ready").statusCode()).isEqualTo(200);
            assertThat(agent.slots().notReady()).containsOnlyKeys("preproc");
        }
    }

    @Test
    void strict_mode_refuses_to_start_naming_the_file_and_leaves_its_port_free() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        AgentConfig strict = AgentConfig.defaults(dir.resolve("data")).withModelsDir(folder(), true).withHttp("127.0.0.1", port).withCoapPort(-1);
        assertThatThrownBy(() -> EdgeAgent.start(strict)).isInstanceOf(SlotException.class).hasMessageContaining("preproc");
        // nothing was left listening: the port binds again
        PortUnavailableException.requireTcp("HTTP", "127.0.0.1", port, "test");
    }

    @Test
    void a_taken_http_port_is_refused_with_the_port_and_the_setting() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            AgentConfig c = AgentConfig.defaults(dir.resolve("data")).withHttp("127.0.0.1", taken.getLocalPort()).withCoapPort(-1);
            assertThatThrownBy(() -> EdgeAgent.start(c)).isInstanceOf(PortUnavailableException.class)
                    .hasMessageContaining("HTTP port " + taken.getLocalPort()).hasMessageContaining(EdgeAgent.HTTP_PORT_SETTING);
        }
    }
}
