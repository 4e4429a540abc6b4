package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import com.fasterxml.jackson.dataformat.cbor.CBORParser;
import io.edgefleet.agent.coap.CoapTransfer;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.coap.CoapResources;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.OipCodec;
import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.BlockOption;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.config.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19's CoAP part against a real agent's UDP socket: one datagram up to coap.max-message-bytes
 * answered in one exchange (a 2.5 KB one used to vanish in Californium's 2048-byte receive buffer), a
 * larger one 4.13 with Size1 and Block1, CBOR with typed arrays (RFC 8746) answering what JSON answers,
 * block-wise transfers in 1024-byte blocks. Real ONNX Runtime and TFLite models.
 */
class AgentCoapTransferTest {
    @TempDir
    static Path dir;
    /** max-message-bytes 4096, as on loopback or a LAN. */
    static EdgeAgent lan;
    /** The defaults: 1024-byte datagrams and blocks. */
    static EdgeAgent plain;
    static final int SIZE = 256;

    @BeforeAll
    static void start() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.denseOnnx(dir, SIZE), models.resolve("dense.onnx"));
        Files.move(SyntheticModels.classifierTflite(dir), models.resolve("cls.tflite"));
        // the second agent takes the first one's verdict on the same model files instead of verifying them again in a child JVM
        io.edgefleet.engines.isolation.IsolationOptions shared = io.edgefleet.engines.isolation.IsolationOptions.defaults().withSharedVerdicts(true);
        plain = EdgeAgent.start(AgentConfig.defaults(dir.resolve("plain")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withIsolation(shared));
        lan = EdgeAgent.start(AgentConfig.defaults(dir.resolve("lan")).withModelsDir(models).withHttp("127.0.0.1", -1).withCoapPort(0)
                .withIsolation(shared).withCoapTransfer(new CoapTransfer(4096, 1024)));
    }

    @AfterAll
    static void stop() {
        if (lan != null) {
            lan.close();
        }
        if (plain != null) {
            plain.close();
        }
    }

    static float[] input() {
        float[] x = new float[SIZE];
        for (int i = 0; i < SIZE; i++) {
            x[i] = (i % 17) * 0.123456789f - 1;
        }
        return x;
    }

    static String json(float[] x) {
        StringBuilder sb = new StringBuilder("{\"inputs\":[{\"name\":\"x\",\"shape\":[1," + x.length + "],\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < x.length; i++) {
            sb.append(i == 0 ? "" : ",").append(x[i]);
        }
        return sb.append("]}]}").toString();
    }

    /** {@code {"inputs":[{"name":"x","shape":[1,n],"datatype":"FP32","data":85(h'...')}]}}; tag -1: an untagged byte string. */
    static byte[] cbor(float[] x, int tag, int dropBytes) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : x) {
            b.putFloat(v);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CBORGenerator g = new CBORFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("inputs");
            g.writeStartObject();
            g.writeStringField("name", "x");
            g.writeArrayFieldStart("shape");
            g.writeNumber(1);
            g.writeNumber(x.length);
            g.writeEndArray();
            g.writeStringField("datatype", "FP32");
            g.writeFieldName("data");
            if (tag >= 0) {
                g.writeTag(tag);
            }
            g.writeBinary(b.array(), 0, b.capacity() - dropBytes);
            g.writeEndObject();
            g.writeEndArray();
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    /** The first output of a CBOR answer: its tag and its floats. */
    record Output(String name, int tag, float[] data) {
    }

    static Output firstOutput(byte[] body) throws Exception {
        try (CBORParser p = new CBORFactory().createParser(body)) {
            String name = null;
            while (p.nextToken() != null) {
                if (p.currentToken() == JsonToken.FIELD_NAME && p.currentName().equals("name") && name == null) {
                    p.nextToken();
                    name = p.getText();
                } else if (p.currentToken() == JsonToken.VALUE_EMBEDDED_OBJECT) {
                    int tag = p.getCurrentTag();
                    ByteBuffer b = ByteBuffer.wrap(p.getBinaryValue()).order(ByteOrder.LITTLE_ENDIAN);
                    float[] f = new float[b.remaining() / 4];
                    b.asFloatBuffer().get(f);
                    return new Output(name, tag, f);
                }
            }
        }
        throw new AssertionError("no byte string in the answer");
    }

    static String uri(EdgeAgent a, String path) {
        return "coap://127.0.0.1:" + a.coapPort().getAsInt() + "/" + path;
    }

    /** A client whose own single-datagram limit is {@code maxMessageBytes}, recording what it sends; 4.13 failover as asked. */
    static CoapClient client(EdgeAgent a, String path, int maxMessageBytes, boolean failover, List<Message> sent, List<Message> received) {
        Configuration c = Configuration.createStandardWithoutFile();
        c.set(CoapConfig.MAX_MESSAGE_SIZE, maxMessageBytes);
        c.set(CoapConfig.PREFERRED_BLOCK_SIZE, 1024);
        c.set(CoapConfig.BLOCKWISE_ENTITY_TOO_LARGE_AUTO_FAILOVER, failover);
        // the client's own receive buffer (Californium: 2048 bytes) must hold the agent's larger answers too
        c.set(org.eclipse.californium.elements.config.UdpConfig.UDP_DATAGRAM_SIZE, maxMessageBytes + 256);
        CoapEndpoint e = new CoapEndpoint.Builder().setConfiguration(c).build();
        e.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void sendRequest(Request request) {
                sent.add(request);
            }

            @Override
            public void receiveResponse(Response response) {
                received.add(response);
            }
        });
        CoapClient client = new CoapClient(uri(a, path));
        client.setEndpoint(e);
        client.setTimeout(10_000L);
        return client;
    }

    /** Sends one raw datagram and returns the one answer, parsed. */
    static Response exchange(EdgeAgent a, byte[] payload, int format) throws Exception {
        return exchange(a, payload, format, r -> { });
    }

    /** Sends one raw datagram, its options completed by {@code options}, and returns the one answer, parsed. */
    static Response exchange(EdgeAgent a, byte[] payload, int format, java.util.function.Consumer<Request> options) throws Exception {
        Request r = Request.newPost();
        r.setMID(4711);
        r.setToken(Token.fromProvider(new byte[] {1, 2, 3, 4}));
        r.setURI(uri(a, "infer/dense"));
        r.getOptions().setContentFormat(format);
        r.setPayload(payload);
        InetSocketAddress agent = new InetSocketAddress("127.0.0.1", a.coapPort().getAsInt());
        r.setDestinationContext(new AddressEndpointContext(agent));
        options.accept(r);
        byte[] datagram = new UdpDataSerializer().serializeRequest(r).getBytes();
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            s.setSoTimeout(10_000);
            s.send(new DatagramPacket(datagram, datagram.length, agent));
            DatagramPacket in = new DatagramPacket(new byte[70_000], 70_000);
            s.receive(in);
            byte[] got = java.util.Arrays.copyOf(in.getData(), in.getLength());
            Message m = new UdpDataParser().parseMessage(got);
            assertThat(m).isInstanceOf(Response.class);
            assertThat(m.getMID()).isEqualTo(4711);
            return (Response) m;
        }
    }

    @Test
    void a_2_5_kb_request_in_one_datagram_is_answered_in_one_exchange() throws Exception {
        byte[] body = json(input()).getBytes(StandardCharsets.UTF_8);
        assertThat(body.length).isBetween(2048, 4096); // over Californium's default 2048-byte receive buffer: the lost datagram

        Response raw = exchange(lan, body, CoapResources.FORMAT_JSON);
        assertThat(raw.getCode()).isEqualTo(ResponseCode.CONTENT);
        assertThat(raw.getOptions().hasBlock2()).isFalse();
        InferResponse r = OipCodec.create().decodeResponse(raw.getPayload(), OptionalInt.empty());
        assertThat(r.outputs().get(0).shape()).containsExactly(1, SIZE);

        List<Message> sent = new CopyOnWriteArrayList<>();
        List<Message> received = new CopyOnWriteArrayList<>();
        CoapClient c = client(lan, "infer/dense", 4096, false, sent, received);
        try {
            CoapResponse viaClient = c.post(body, CoapResources.FORMAT_JSON);
            assertThat(viaClient.getCode()).isEqualTo(ResponseCode.CONTENT);
            assertThat(OipCodec.create().decodeResponse(viaClient.getPayload(), OptionalInt.empty())).isEqualTo(r);
            assertThat(sent).hasSize(1);
            assertThat(received).hasSize(1);
        } finally {
            c.shutdown();
        }
    }

    @Test
    void a_single_datagram_over_max_message_bytes_gets_4_13_with_size1_and_block1_and_the_agent_keeps_serving() throws Exception {
        byte[] body = json(input()).getBytes(StandardCharsets.UTF_8);
        assertThat(body.length).isGreaterThan(2048);

        Response tooLarge = exchange(plain, body, CoapResources.FORMAT_JSON);
        assertThat(tooLarge.getCode()).isEqualTo(ResponseCode.REQUEST_ENTITY_TOO_LARGE);
        assertThat(tooLarge.getOptions().getSize1()).isEqualTo(plain.config().maxPayloadBytes());
        assertThat(tooLarge.getOptions().getBlock1().getSzx()).isEqualTo(6);
        assertThat(tooLarge.getPayloadString()).contains("at most 1152 bytes", "block-wise");

        byte[] big = new byte[20_000];
        java.util.Arrays.fill(big, (byte) ' ');
        Response huge = exchange(lan, big, CoapResources.FORMAT_JSON);
        assertThat(huge.getCode()).isEqualTo(ResponseCode.REQUEST_ENTITY_TOO_LARGE);
        assertThat(huge.getOptions().getSize1()).isEqualTo(lan.config().maxPayloadBytes());

        // counted as a client error of the model, as HTTP's 413 is (the registry is the JVM's: at least this one)
        java.net.http.HttpResponse<String> metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + plain.httpPort() + "/observe/metrics")).header("Accept", "text/plain").build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.body().lines().filter(l -> l.startsWith(
                "edgefleet_agent_requests_total{model=\"dense\",outcome=\"client_error\",reason=\"payload_too_large\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum()).isGreaterThanOrEqualTo(1);

        // Californium's client takes the hint and sends the same request block-wise
        List<Message> sent = new CopyOnWriteArrayList<>();
        CoapClient c = client(plain, "infer/dense", 8192, true, sent, new CopyOnWriteArrayList<>());
        try {
            CoapResponse r = c.post(body, CoapResources.FORMAT_JSON);
            assertThat(r.getCode()).isEqualTo(ResponseCode.CONTENT);
            assertThat(sent.get(0).getOptions().hasBlock1()).isFalse();
            assertThat(sent.get(1).getOptions().getBlock1().getSzx()).isEqualTo(6);
        } finally {
            c.shutdown();
        }
    }

    @Test
    void block_wise_transfers_use_1024_byte_blocks_both_ways() throws Exception {
        byte[] body = json(input()).getBytes(StandardCharsets.UTF_8);
        List<Message> sent = new CopyOnWriteArrayList<>();
        List<Message> received = new CopyOnWriteArrayList<>();
        CoapClient c = client(plain, "infer/dense", 1024, false, sent, received);
        try {
            CoapResponse r = c.post(body, CoapResources.FORMAT_JSON);
            assertThat(r.getCode()).isEqualTo(ResponseCode.CONTENT);
            assertThat(OipCodec.create().decodeResponse(r.getPayload(), OptionalInt.empty()).outputs().get(0).shape()).containsExactly(1, SIZE);
            List<BlockOption> block1 = sent.stream().map(m -> m.getOptions().getBlock1()).filter(b -> b != null).toList();
            assertThat(block1).hasSize((body.length + 1023) / 1024).allSatisfy(b -> assertThat(b.getSize()).isEqualTo(1024));
            List<BlockOption> block2 = received.stream().map(m -> m.getOptions().getBlock2()).filter(b -> b != null).toList();
            assertThat(block2).hasSize((r.getPayloadSize() + 1023) / 1024).allSatisfy(b -> assertThat(b.getSize()).isEqualTo(1024));
        } finally {
            c.shutdown();
        }
    }

    @Test
    void cbor_typed_arrays_answer_what_json_answers_in_one_datagram_each_way() throws Exception {
        float[] x = input();
        List<Message> sent = new CopyOnWriteArrayList<>();
        List<Message> received = new CopyOnWriteArrayList<>();
        CoapClient c = client(lan, "infer/dense", 4096, false, sent, received);
        try {
            CoapResponse viaJson = c.post(json(x), CoapResources.FORMAT_JSON);
            assertThat(viaJson.getCode()).isEqualTo(ResponseCode.CONTENT);
            InferResponse expected = OipCodec.create().decodeResponse(viaJson.getPayload(), OptionalInt.empty());
            sent.clear();
            received.clear();
            for (int tag : new int[] {85, -1}) {
                byte[] body = cbor(x, tag, 0);
                assertThat(body.length).isLessThan(SIZE * 4 + 64);
                CoapResponse viaCbor = c.post(body, CoapResources.FORMAT_CBOR);
                assertThat(viaCbor.getCode()).as(viaCbor.getResponseText()).isEqualTo(ResponseCode.CONTENT);
                assertThat(viaCbor.getOptions().getContentFormat()).isEqualTo(CoapResources.FORMAT_CBOR);
                Output out = firstOutput(viaCbor.getPayload());
                assertThat(out.name()).isEqualTo("y");
                assertThat(out.tag()).isEqualTo(85);
                assertThat(out.data()).containsExactly(expected.outputs().get(0).data().toFloatArray());
            }
            assertThat(sent).hasSize(2);
            assertThat(received).hasSize(2);
        } finally {
            c.shutdown();
        }
    }

    /** RFC 7252 section 5.10.4: the answer in the Accept option's format, or 4.06; the Accept option was ignored before. */
    @Test
    void the_accept_option_chooses_the_answer_format_and_an_unsupported_one_gets_4_06() throws Exception {
        float[] x = input();
        Response viaJson = exchange(lan, json(x).getBytes(StandardCharsets.UTF_8), CoapResources.FORMAT_JSON);
        assertThat(viaJson.getCode()).isEqualTo(ResponseCode.CONTENT);
        float[] expected = OipCodec.create().decodeResponse(viaJson.getPayload(), OptionalInt.empty()).outputs().get(0).data().toFloatArray();

        // a CBOR request that accepts JSON: a JSON answer with the same numbers
        Response cborToJson = exchange(lan, cbor(x, 85, 0), CoapResources.FORMAT_CBOR, r -> r.getOptions().setAccept(CoapResources.FORMAT_JSON));
        assertThat(cborToJson.getCode()).as(cborToJson.getPayloadString()).isEqualTo(ResponseCode.CONTENT);
        assertThat(cborToJson.getOptions().getContentFormat()).isEqualTo(CoapResources.FORMAT_JSON);
        assertThat(OipCodec.create().decodeResponse(cborToJson.getPayload(), OptionalInt.empty()).outputs().get(0).data().toFloatArray())
                .containsExactly(expected);

        // a JSON request that accepts CBOR: a CBOR answer (numbers as an array: no binary output was asked for)
        Response jsonToCbor = exchange(lan, json(x).getBytes(StandardCharsets.UTF_8), CoapResources.FORMAT_JSON,
                r -> r.getOptions().setAccept(CoapResources.FORMAT_CBOR));
        assertThat(jsonToCbor.getCode()).as(jsonToCbor.getPayloadString()).isEqualTo(ResponseCode.CONTENT);
        assertThat(jsonToCbor.getOptions().getContentFormat()).isEqualTo(CoapResources.FORMAT_CBOR);
        com.fasterxml.jackson.databind.JsonNode tree = new com.fasterxml.jackson.databind.ObjectMapper(new CBORFactory()).readTree(jsonToCbor.getPayload());
        com.fasterxml.jackson.databind.JsonNode data = tree.get("outputs").get(0).get("data");
        assertThat(data.isArray()).as("%s", tree).isTrue();
        float[] got = new float[data.size()];
        for (int i = 0; i < got.length; i++) {
            got[i] = (float) data.get(i).asDouble();
        }
        assertThat(got).containsExactly(expected);

        // a format the agent cannot answer in: 4.06 naming it, and the agent keeps serving
        Response xml = exchange(lan, json(x).getBytes(StandardCharsets.UTF_8), CoapResources.FORMAT_JSON, r -> r.getOptions().setAccept(41));
        assertThat(xml.getCode()).isEqualTo(ResponseCode.NOT_ACCEPTABLE);
        assertThat(xml.getPayloadString()).contains("41", "JSON (50)", "CBOR (60)");
        assertThat(exchange(lan, json(x).getBytes(StandardCharsets.UTF_8), CoapResources.FORMAT_JSON).getCode()).isEqualTo(ResponseCode.CONTENT);
    }

    @Test
    void a_get_on_a_model_gets_4_05_saying_to_post() throws Exception {
        CoapClient c = new CoapClient(uri(lan, "infer/dense"));
        try {
            CoapResponse r = c.get();
            assertThat(r.getCode()).isEqualTo(ResponseCode.METHOD_NOT_ALLOWED);
            assertThat(r.getResponseText()).contains("POST", "/infer/dense");
        } finally {
            c.shutdown();
        }
    }

    @Test
    void cbor_on_tflite_block_wise_at_the_default_size_answers_what_json_answers() throws Exception {
        CoapClient c = new CoapClient(uri(plain, "infer/cls"));
        try {
            float[] x = {1, 2, 3, 4};
            CoapResponse r = c.post(cborSmall(x), CoapResources.FORMAT_CBOR);
            assertThat(r.getCode()).as(r.getResponseText()).isEqualTo(ResponseCode.CONTENT);
            assertThat(firstOutput(r.getPayload()).data()).containsExactly(SyntheticModels.classify(x), org.assertj.core.api.Assertions.within(1e-5f));
        } finally {
            c.shutdown();
        }
    }

    static byte[] cborSmall(float[] x) throws Exception {
        return cbor(x, 85, 0);
    }

    @Test
    void bad_cbor_gets_4_00_with_the_reason_and_the_agent_keeps_serving() throws Exception {
        CoapClient c = client(lan, "infer/dense", 4096, false, new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
        CoapClient unknown = new CoapClient(uri(lan, "infer/nope"));
        try {
            CoapResponse garbage = c.post(new byte[] {(byte) 0xbf, 0x61}, CoapResources.FORMAT_CBOR);
            assertThat(garbage.getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
            assertThat(garbage.getResponseText()).startsWith("$: malformed input");

            CoapResponse shortData = c.post(cbor(input(), 85, 4), CoapResources.FORMAT_CBOR);
            assertThat(shortData.getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
            assertThat(shortData.getResponseText()).startsWith("$.inputs[0]");

            CoapResponse bigEndian = c.post(cbor(input(), 81, 0), CoapResources.FORMAT_CBOR);
            assertThat(bigEndian.getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
            assertThat(bigEndian.getResponseText()).isEqualTo(
                    "$.inputs[0].data: CBOR tag 81 is not a little-endian typed array of FP32 (RFC 8746 tag 85, or an untagged byte string)");

            CoapResponse shape = c.post(cbor(new float[] {1, 2}, 85, 0), CoapResources.FORMAT_CBOR);
            assertThat(shape.getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
            assertThat(shape.getResponseText()).isEqualTo("model 'dense' input 'x': expected shape [-1,256], got [1,2]");

            byte[] valid = cbor(input(), 85, 0);
            byte[] trailing = java.util.Arrays.copyOf(valid, valid.length + 1);
            trailing[valid.length] = 0x01; // a second CBOR item after the request map
            CoapResponse extra = c.post(trailing, CoapResources.FORMAT_CBOR);
            assertThat(extra.getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
            assertThat(extra.getResponseText()).isEqualTo("$: malformed input: data after the CBOR map (a request is one map)");

            CoapResponse notFound = unknown.post(cbor(input(), 85, 0), CoapResources.FORMAT_CBOR);
            assertThat(notFound.getCode()).isEqualTo(ResponseCode.NOT_FOUND);
            assertThat(notFound.getResponseText()).startsWith("model 'nope' is not served here");

            assertThat(c.post(cbor(input(), 85, 0), CoapResources.FORMAT_CBOR).getCode()).isEqualTo(ResponseCode.CONTENT);
        } finally {
            c.shutdown();
            unknown.shutdown();
        }
    }

    @Test
    void libcoap_sends_a_cbor_typed_array_and_gets_cbor_back() throws Exception {
        String bin = List.of("/usr/bin/coap-client-notls", "/usr/bin/coap-client").stream().filter(p -> Files.isExecutable(Path.of(p)))
                .findFirst().orElseThrow(() -> new AssertionError("coap-client-notls missing: apt-get install libcoap3-bin"));
        Path body = Files.write(dir.resolve("req.cbor"), cbor(input(), 85, 0));
        Path out = dir.resolve("resp.cbor");
        Process p = new ProcessBuilder(bin, "-m", "post", "-t", "60", "-f", body.toString(), "-o", out.toString(), "-B", "10",
                uri(plain, "infer/dense")).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(Files.exists(out)).as(log).isTrue();
        assertThat(firstOutput(Files.readAllBytes(out)).data()).hasSize(SIZE);
    }

    @Test
    void the_sizes_come_from_agent_coap_in_the_yaml_and_bad_ones_are_refused_naming_the_setting() throws Exception {
        Path yaml = Files.writeString(dir.resolve("coap.yaml"), "agent:\n  coap:\n    max-message-bytes: 8192\n    block-size-bytes: 512\n");
        assertThat(AgentSettings.load(yaml).coapTransfer()).isEqualTo(new CoapTransfer(8192, 512));
        assertThat(AgentSettings.load(Files.writeString(dir.resolve("none.yaml"), "agent:\n  coap:\n    port: 0\n")).coapTransfer())
                .isEqualTo(CoapTransfer.defaults());
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "agent:\n  coap:\n    block-size-bytes: 1000\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AgentSettings.load(bad)).hasMessageContaining("coap.block-size-bytes")
                .hasMessageContaining("1000");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new CoapTransfer(20_000, 1024).requireDtlsFit())
                .hasMessageContaining("over DTLS must be at most 16000");
    }
}
