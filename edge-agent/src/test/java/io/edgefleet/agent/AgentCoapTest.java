package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.Json;
import io.edgefleet.protocols.coap.CoapResources;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.OipCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapObserveRelation;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's CoAP side with Californium's client and libcoap's coap-client. */
class AgentCoapTest {
    @TempDir
    static Path dir;
    static EdgeAgent agent;
    static final String REQUEST = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";

    @BeforeAll
    static void start() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierTflite(dir), models.resolve("cls.tflite"));
        Files.move(SyntheticModels.denseOnnx(dir, 256), models.resolve("dense.onnx"));
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(0));
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    static String uri(String path) {
        return "coap://127.0.0.1:" + agent.coapPort().getAsInt() + "/" + path;
    }

    @Test
    void json_and_cbor_requests_get_the_same_answer_in_their_own_format() throws Exception {
        CoapClient c = new CoapClient(uri("infer/cls"));
        try {
            CoapResponse json = c.post(REQUEST, CoapResources.FORMAT_JSON);
            assertThat(json.getCode()).isEqualTo(ResponseCode.CONTENT);
            assertThat(json.getOptions().getContentFormat()).isEqualTo(CoapResources.FORMAT_JSON);
            InferResponse r = OipCodec.create().decodeResponse(json.getPayload(), OptionalInt.empty());
            assertThat(r.outputs().get(0).data().toFloatArray()).containsExactly(SyntheticModels.classify(new float[] {1, 2, 3, 4}), within(1e-5f));

            ObjectMapper cbor = Json.cborMapper(DecodeLimits.DEFAULT);
            ObjectMapper jsonMapper = Json.jsonMapper(DecodeLimits.DEFAULT);
            byte[] cborBody = cbor.writeValueAsBytes(jsonMapper.readTree(REQUEST));
            CoapResponse viaCbor = c.post(cborBody, CoapResources.FORMAT_CBOR);
            assertThat(viaCbor.getCode()).isEqualTo(ResponseCode.CONTENT);
            assertThat(viaCbor.getOptions().getContentFormat()).isEqualTo(CoapResources.FORMAT_CBOR);
            byte[] asJson = jsonMapper.writeValueAsBytes(cbor.readTree(viaCbor.getPayload()));
            assertThat(OipCodec.create().decodeResponse(asJson, OptionalInt.empty())).isEqualTo(r);
        } finally {
            c.shutdown();
        }
    }

    @Test
    void a_large_input_goes_block_wise() throws Exception {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < 256; i++) {
            data.append(i == 0 ? "" : ",").append("0.5");
        }
        String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,256],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}";
        assertThat(body.length()).isGreaterThan(1024);
        CoapClient c = new CoapClient(uri("infer/dense"));
        try {
            CoapResponse r = c.post(body, CoapResources.FORMAT_JSON);
            assertThat(r.getCode()).isEqualTo(ResponseCode.CONTENT);
            assertThat(OipCodec.create().decodeResponse(r.getPayload(), OptionalInt.empty()).outputs().get(0).shape()).containsExactly(1, 256);
        } finally {
            c.shutdown();
        }
    }

    @Test
    void bad_requests_get_4xx_with_a_diagnostic_payload_and_the_agent_keeps_serving() throws Exception {
        CoapClient c = new CoapClient(uri("infer/cls"));
        CoapClient unknown = new CoapClient(uri("infer/nope"));
        try {
            CoapResponse bad = c.post("{\"inputs\":[", CoapResources.FORMAT_JSON);
            assertThat(bad.getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
            assertThat(bad.getResponseText()).startsWith("$: malformed input");
            CoapResponse shape = c.post(REQUEST.replace("[1,4]", "[1,2]").replace("[1,2,3,4]", "[1,2]"), CoapResources.FORMAT_JSON);
            assertThat(shape.getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
            assertThat(shape.getResponseText()).isEqualTo("model 'cls' input 'x': expected shape [-1,4], got [1,2]");
            CoapResponse notFound = unknown.post(REQUEST, CoapResources.FORMAT_JSON);
            assertThat(notFound.getCode()).isEqualTo(ResponseCode.NOT_FOUND);
            assertThat(notFound.getResponseText()).startsWith("model 'nope' is not served here");
            CoapResponse format = c.post("x", 0);
            assertThat(format.getCode()).isEqualTo(ResponseCode.UNSUPPORTED_CONTENT_FORMAT);
            assertThat(c.post(REQUEST, CoapResources.FORMAT_JSON).getCode()).isEqualTo(ResponseCode.CONTENT);
        } finally {
            c.shutdown();
            unknown.shutdown();
        }
    }

    @Test
    void models_is_observable_and_health_answers() throws Exception {
        CoapClient health = new CoapClient(uri("health"));
        CoapClient models = new CoapClient(uri("models"));
        try {
            CoapResponse h = health.get();
            assertThat(h.getCode()).isEqualTo(ResponseCode.CONTENT);
            assertThat(h.getResponseText()).isEqualTo("{\"status\":\"UP\",\"models\":2,\"notReady\":[]}");
            BlockingQueue<String> notes = new LinkedBlockingQueue<>();
            CoapObserveRelation rel = models.observe(new CoapHandler() {
                @Override
                public void onLoad(CoapResponse response) {
                    notes.add(response.getResponseText());
                }

                @Override
                public void onError() {
                }
            });
            assertThat(notes.poll(10, TimeUnit.SECONDS)).contains("\"cls\"", "\"dense\"");
            agent.slots().install("cls", "v9", SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v9"))));
            assertThat(notes.poll(10, TimeUnit.SECONDS)).contains("\"cls\":\"v9\"");
            rel.proactiveCancel();
        } finally {
            health.shutdown();
            models.shutdown();
        }
    }

    @Test
    void libcoap_coap_client_gets_an_answer() throws Exception {
        String bin = List.of("/usr/bin/coap-client-notls", "/usr/bin/coap-client").stream().filter(p -> Files.isExecutable(Path.of(p)))
                .findFirst().orElseThrow(() -> new AssertionError("coap-client-notls missing: apt-get install libcoap3-bin"));
        Path body = Files.writeString(dir.resolve("req.json"), REQUEST);
        Process p = new ProcessBuilder(bin, "-m", "post", "-t", "50", "-f", body.toString(), "-B", "10", uri("infer/cls"))
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(out).contains("\"model_name\":\"cls\"", "\"name\":\"probs\"");
        Process h = new ProcessBuilder(bin, "-m", "get", "-B", "10", uri("health")).redirectErrorStream(true).start();
        assertThat(h.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(h.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("\"status\":\"UP\"");
    }
}
