package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.ReplySpace;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.transport.tracing.Tracing;
import io.edgefleet.transport.tracing.TracingSettings;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * OpenTelemetry tracing on a real agent: W3C {@code traceparent} over real HTTP and in MQTT 5 user
 * properties through a real Mosquitto, spans recorded by the SDK's in-memory exporter; and one
 * export over OTLP/HTTP to a receiver this test runs, decoded with the OTLP protobuf classes.
 */
class AgentTracingTest {
    static final ReplySpace REPLIES = new ReplySpace("tr", "tester");
    static final MessageCodec JSON = MessageCodec.json();
    static final String BODY = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";

    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    static Path dir;
    static final InMemorySpanExporter SPANS = InMemorySpanExporter.create();
    static Tracing tracing;
    static EdgeAgent agent;
    static MqttClient cloud;
    static final BlockingQueue<MqttMessage> acks = new LinkedBlockingQueue<>();
    static final BlockingQueue<MqttMessage> replies = new LinkedBlockingQueue<>();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(SPANS)).build();
        tracing = Tracing.of(OpenTelemetrySdk.builder().setTracerProvider(provider).build(), provider::close);
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls.onnx"));
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withIdentity("tr", "dev-1").withMqtt(MQTT.broker().url()), tracing);
        await("the agent subscribed", () -> agent.mqtt().orElseThrow().isSubscribed());
        cloud = new MqttClient(MQTT.broker().url(), "tracing-test", new MemoryPersistence());
        cloud.setCallback(io.edgefleet.testkit.MqttCallbacks.onMessage((topic, m) -> (topic.endsWith("/cmd/ack") ? acks : replies).add(m)));
        cloud.connect();
        cloud.subscribe(REPLIES.filter(), 1);
        cloud.subscribe(Topic.commandAck("tr", "dev-1").value(), 1);
    }

    @AfterAll
    static void stop() throws Exception {
        if (cloud != null) {
            cloud.disconnect();
            cloud.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (tracing != null) {
            tracing.close();
        }
    }

    @BeforeEach
    void clear() {
        SPANS.reset();
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("timed out waiting for " + what).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    /** A new random sampled {@code traceparent}: version 00, trace id, parent span id, flags 01. */
    static String[] traceparent() {
        java.util.Random r = new java.util.Random();
        byte[] t = new byte[16];
        byte[] s = new byte[8];
        r.nextBytes(t);
        r.nextBytes(s);
        String traceId = HexFormat.of().formatHex(t);
        String spanId = HexFormat.of().formatHex(s);
        return new String[] {"00-" + traceId + "-" + spanId + "-01", traceId, spanId};
    }

    static List<SpanData> trace(String traceId) {
        return SPANS.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList();
    }

    static SpanData named(List<SpanData> spans, String name) {
        return spans.stream().filter(s -> s.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no span " + name + " in " + spans.stream().map(SpanData::getName).toList()));
    }

    static HttpResponse<String> infer(String model, Optional<String> traceparent) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + "/v2/models/" + model + "/infer"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(BODY));
        traceparent.ifPresent(t -> b.header("traceparent", t));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void a_traceparent_over_http_parents_the_request_span_and_its_decode_queue_and_engine_spans() throws Exception {
        String[] tp = traceparent();
        HttpResponse<String> r = infer("cls", Optional.of(tp[0]));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        await("the request's server span", () -> trace(tp[1]).stream().anyMatch(s -> s.getKind() == SpanKind.SERVER));
        List<SpanData> spans = trace(tp[1]);
        SpanData server = named(spans, "POST /v2/models/{m}/infer");
        assertThat(server.getKind()).isEqualTo(SpanKind.SERVER);
        assertThat(server.getParentSpanId()).as("the caller's span").isEqualTo(tp[2]);
        assertThat(server.getAttributes().asMap()).extractingByKeys(
                io.opentelemetry.api.common.AttributeKey.stringKey("http.request.method"),
                io.opentelemetry.api.common.AttributeKey.stringKey("http.route"),
                io.opentelemetry.api.common.AttributeKey.longKey("http.response.status_code"))
                .containsExactly("POST", "/v2/models/{m}/infer", 200L);
        for (String child : List.of("decode", "queue", "engine.infer")) {
            assertThat(named(spans, child).getParentSpanId()).as(child + " under the request span").isEqualTo(server.getSpanId());
        }
        SpanData engine = named(spans, "engine.infer");
        assertThat(engine.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("edgefleet.engine"))).isEqualTo("onnxruntime");
        // the queue ends where the native call begins
        assertThat(named(spans, "queue").getEndEpochNanos()).isLessThanOrEqualTo(engine.getStartEpochNanos());
    }

    @Test
    void a_request_without_traceparent_starts_a_trace_and_a_bad_one_is_ignored_not_refused() throws Exception {
        assertThat(infer("cls", Optional.empty()).statusCode()).isEqualTo(200);
        assertThat(infer("cls", Optional.of("00-nothex-xyz-01")).statusCode()).isEqualTo(200);
        await("two server spans", () -> SPANS.getFinishedSpanItems().stream().filter(s -> s.getKind() == SpanKind.SERVER).count() == 2);
        assertThat(SPANS.getFinishedSpanItems().stream().filter(s -> s.getKind() == SpanKind.SERVER))
                .allSatisfy(s -> assertThat(s.getParentSpanContext().isValid()).as("a root span").isFalse());
    }

    @Test
    void a_traceparent_in_mqtt_user_properties_parents_the_request_and_the_command_whose_acks_carry_the_trace() throws Exception {
        String[] tp = traceparent();
        MqttMessage m = new MqttMessage(BODY.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        MqttProperties p = new MqttProperties();
        p.setResponseTopic(REPLIES.topic() + "/c1");
        p.setCorrelationData("c1".getBytes(StandardCharsets.UTF_8));
        p.setUserProperties(List.of(new UserProperty("traceparent", tp[0])));
        m.setProperties(p);
        cloud.publish(Topic.infer("tr", "dev-1", "cls").value(), m);
        assertThat(replies.poll(20, TimeUnit.SECONDS)).as("an answer").isNotNull();
        await("the request's process span", () -> trace(tp[1]).stream().anyMatch(s -> s.getKind() == SpanKind.CONSUMER));
        List<SpanData> spans = trace(tp[1]);
        SpanData process = named(spans, "process ef/v1/{fleet}/{device}/infer/{model}");
        assertThat(process.getParentSpanId()).isEqualTo(tp[2]);
        assertThat(process.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("messaging.destination.name")))
                .isEqualTo("ef/v1/tr/dev-1/infer/cls");
        for (String child : List.of("decode", "queue", "engine.infer")) {
            assertThat(named(spans, child).getParentSpanId()).as(child).isEqualTo(process.getSpanId());
        }

        String[] cmdTrace = traceparent();
        MqttMessage cmd = new MqttMessage(JSON.encode(Command.configure("cmd-t1", "cls", Map.of("escalation.threshold", "0.6"), Instant.now())));
        cmd.setQos(1);
        MqttProperties cp = new MqttProperties();
        cp.setUserProperties(List.of(new UserProperty("traceparent", cmdTrace[0])));
        cmd.setProperties(cp);
        acks.clear();
        cloud.publish(Topic.command("tr", "dev-1").value(), cmd);
        List<MqttMessage> both = new CopyOnWriteArrayList<>();
        for (int i = 0; i < 2; i++) {
            MqttMessage a = acks.poll(20, TimeUnit.SECONDS);
            assertThat(a).as("ack " + i).isNotNull();
            both.add(a);
        }
        await("the command's span", () -> trace(cmdTrace[1]).stream().anyMatch(s -> s.getName().endsWith("/cmd")));
        SpanData command = named(trace(cmdTrace[1]), "process ef/v1/{fleet}/{device}/cmd");
        assertThat(command.getParentSpanId()).isEqualTo(cmdTrace[2]);
        assertThat(command.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("edgefleet.command.id"))).isEqualTo("cmd-t1");
        assertThat(both).allSatisfy(a -> {
            assertThat(JSON.decode(a.getPayload(), CommandAck.class).commandId()).isEqualTo("cmd-t1");
            String carried = a.getProperties().getUserProperties().stream().filter(u -> u.getKey().equals("traceparent"))
                    .map(UserProperty::getValue).findFirst().orElseThrow(() -> new AssertionError("an ack without traceparent"));
            assertThat(carried).isEqualTo("00-" + cmdTrace[1] + "-" + command.getSpanId() + "-01");
        });
    }

    @Test
    void a_traceparent_in_the_coap_option_parents_the_request_span() throws Exception {
        String[] tp = traceparent();
        org.eclipse.californium.core.coap.Request post = org.eclipse.californium.core.coap.Request.newPost();
        post.setURI("coap://127.0.0.1:" + agent.coapPort().getAsInt() + "/infer/cls");
        post.getOptions().setContentFormat(io.edgefleet.protocols.coap.CoapResources.FORMAT_JSON)
                .addOtherOption(io.edgefleet.agent.coap.CoapApi.TRACEPARENT.create(tp[0]));
        post.setPayload(BODY);
        org.eclipse.californium.core.CoapClient client = new org.eclipse.californium.core.CoapClient();
        try {
            org.eclipse.californium.core.CoapResponse r = client.advanced(post);
            assertThat(r).as("a CoAP answer").isNotNull();
            assertThat(r.getCode()).as(r.getResponseText()).isEqualTo(org.eclipse.californium.core.coap.CoAP.ResponseCode.CONTENT);
        } finally {
            client.shutdown();
        }
        await("the CoAP request's span", () -> trace(tp[1]).stream().anyMatch(s -> s.getKind() == SpanKind.SERVER));
        List<SpanData> spans = trace(tp[1]);
        SpanData server = named(spans, "POST /infer/{model}");
        assertThat(server.getParentSpanId()).isEqualTo(tp[2]);
        for (String child : List.of("decode", "queue", "engine.infer")) {
            assertThat(named(spans, child).getParentSpanId()).as(child).isEqualTo(server.getSpanId());
        }
    }

    @Test
    void spans_go_over_otlp_http_to_a_receiver_as_protobuf() throws Exception {
        BlockingQueue<byte[]> bodies = new LinkedBlockingQueue<>();
        List<String> contentTypes = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/v1/traces", x -> {
            try (x) {
                contentTypes.add(x.getRequestMethod() + " " + x.getRequestHeaders().getFirst("Content-Type"));
                bodies.add(x.getRequestBody().readAllBytes());
                x.sendResponseHeaders(200, -1);
            }
        });
        receiver.start();
        try {
            TracingSettings settings = TracingSettings.off("edgefleet-agent")
                    .enabledTo(URI.create("http://127.0.0.1:" + receiver.getAddress().getPort()));
            assertThat(settings.otlpTracesEndpoint().getPath()).isEqualTo("/v1/traces");
            Tracing otlp = Tracing.create(settings, EdgeAgent.VERSION, "tr/otlp-1");
            String[] tp = traceparent();
            Path models = Files.createDirectories(dir.resolve("otlp-models"));
            Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("otlp"))), models.resolve("cls.onnx"));
            try (EdgeAgent other = EdgeAgent.start(AgentConfig.defaults(dir.resolve("otlp-data")).withModelsDir(models).withHttp("127.0.0.1", 0)
                    .withCoapPort(-1).withIdentity("tr", "otlp-1"), otlp)) {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + other.httpPort() + "/v2/models/cls/infer"))
                        .header("traceparent", tp[0]).POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
            } finally {
                otlp.close(); // flushes the batch processor: the export happens here at the latest
            }
            byte[] body = bodies.poll(10, TimeUnit.SECONDS);
            assertThat(body).as("an OTLP export").isNotNull();
            assertThat(contentTypes.get(0)).isEqualTo("POST application/x-protobuf");
            ExportTraceServiceRequest export = ExportTraceServiceRequest.parseFrom(body);
            var resource = export.getResourceSpans(0).getResource().getAttributesList();
            assertThat(resource).anySatisfy(kv -> {
                assertThat(kv.getKey()).isEqualTo("service.name");
                assertThat(kv.getValue().getStringValue()).isEqualTo("edgefleet-agent");
            });
            List<io.opentelemetry.proto.trace.v1.Span> spans = export.getResourceSpansList().stream()
                    .flatMap(rs -> rs.getScopeSpansList().stream()).flatMap(ss -> ss.getSpansList().stream()).toList();
            assertThat(spans).extracting(io.opentelemetry.proto.trace.v1.Span::getName)
                    .contains("POST /v2/models/{m}/infer", "decode", "queue", "engine.infer");
            assertThat(spans).allSatisfy(s -> assertThat(HexFormat.of().formatHex(s.getTraceId().toByteArray())).isEqualTo(tp[1]));
        } finally {
            receiver.stop(0);
        }
    }
}
