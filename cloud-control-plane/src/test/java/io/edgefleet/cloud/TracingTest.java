package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.serving.EscalationPolicy;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.transport.tracing.Tracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * One trace across a real agent and a real control plane, each with its own OpenTelemetry SDK and
 * in-memory exporter (so the trace can only cross on the wire): an escalation from the agent to the
 * cloud's inference role over HTTP, and a rollout's command and its acknowledgements through a real
 * Mosquitto.
 */
class TracingTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    static Path dir;
    static final InMemorySpanExporter AGENT_SPANS = InMemorySpanExporter.create();
    static final InMemorySpanExporter CLOUD_SPANS = InMemorySpanExporter.create();
    static Tracing agentTracing;
    static Tracing cloudTracing;
    static ControlPlane cp;
    static CloudClient ops;
    static EdgeAgent agent;
    static final byte[] BODY = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[0.2,-0.1,0.3,0.1]}]}".getBytes();

    static Tracing inMemory(InMemorySpanExporter exporter) {
        SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
        return Tracing.of(OpenTelemetrySdk.builder().setTracerProvider(provider).build(), provider::close);
    }

    @BeforeAll
    static void start() throws Exception {
        agentTracing = inMemory(AGENT_SPANS);
        cloudTracing = inMemory(CLOUD_SPANS);
        int port = io.edgefleet.testkit.Ports.freePort();
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withHttp("127.0.0.1", port).withRoles(EnumSet.allOf(Role.class))
                .withMqtt(MQTT.broker().url()).withRolloutTick(Duration.ofMillis(100)).withBucket(Duration.ofSeconds(1)),
                java.time.Clock.systemUTC(), io.edgefleet.cloud.pki.Revocations.none(), cloudTracing);
        ops = client(cp, OPERATOR);
        Path pair = JointInferenceTest.classifier(dir.resolve("cloud-models"), "pair", JointInferenceTest.W);
        assertThat(ops.pushModel("pair", "1", List.of(pair), List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
        CloudClient.Response v2 = ops.pushModel("tr", "2", List.of(SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("tr2")))),
                List.of(), Map.of(), n -> { });
        assertThat(v2.status()).as(v2.text()).isEqualTo(201);
        Path models = Files.createDirectories(dir.resolve("models"));
        JointInferenceTest.classifier(models, "pair", JointInferenceTest.EDGE);
        Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("base"))), models.resolve("tr.onnx"));
        JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
        AgentConfig.Sync sync = new AgentConfig.Sync(URI.create("http://127.0.0.1:" + port),
                Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(-1)
                .withIdentity("tr", "t-0").withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                .withMqtt(MQTT.broker().url()).withSync(sync).withTls(CloudTestSupport.agentToken()).withTelemetry(Duration.ofMillis(200), 10_000)
                .withMaxLatencyFactor(Double.MAX_VALUE)
                // every answer is less sure than 1.0: every request of "pair" goes to the cloud
                .withEscalation(new AgentConfig.Escalation(URI.create("http://127.0.0.1:" + port),
                        Map.of("pair", new EscalationPolicy(EscalationPolicy.Measure.MAX_PROBABILITY, 1.0, 1.0, Duration.ofSeconds(20))),
                        100, Duration.ofSeconds(1))), agentTracing);
        await(Duration.ofSeconds(30), "the agent online", () -> cp.fleet().select(io.edgefleet.cloud.fleet.Selector.parse("status=online")).size() == 1);
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
        if (cp != null) {
            cp.close();
        }
        if (agentTracing != null) {
            agentTracing.close();
        }
        if (cloudTracing != null) {
            cloudTracing.close();
        }
    }

    static List<SpanData> trace(InMemorySpanExporter e, String traceId) {
        return e.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList();
    }

    static SpanData named(List<SpanData> spans, String name) {
        return spans.stream().filter(s -> s.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no span " + name + " in " + spans.stream().map(SpanData::getName).toList()));
    }

    static String attr(SpanData s, String key) {
        return s.getAttributes().get(AttributeKey.stringKey(key));
    }

    @Test
    void an_escalated_request_is_one_trace_from_the_agent_through_the_cloud_batch_and_model_call() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        byte[] t = new byte[16];
        new java.util.Random().nextBytes(t);
        String traceId = HexFormat.of().formatHex(t);
        String caller = "00f067aa0ba902b7";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + "/v2/models/pair/infer"))
                .header("traceparent", "00-" + traceId + "-" + caller + "-01").POST(HttpRequest.BodyPublishers.ofByteArray(BODY)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).as("answered by the cloud").contains("\"edgefleet.source\":\"cloud\"");
        await(Duration.ofSeconds(10), "the agent's request span", () -> trace(AGENT_SPANS, traceId).stream().anyMatch(s -> s.getKind() == SpanKind.SERVER));
        await(Duration.ofSeconds(10), "the cloud's batch span", () -> trace(CLOUD_SPANS, traceId).stream().anyMatch(s -> s.getName().equals("batch")));
        // the cloud's server span ends after its response is written, so possibly after the agent already has the answer
        await(Duration.ofSeconds(10), "the cloud's server span", () -> trace(CLOUD_SPANS, traceId).stream().anyMatch(s -> s.getKind() == SpanKind.SERVER));

        List<SpanData> edge = trace(AGENT_SPANS, traceId);
        SpanData request = named(edge, "POST /v2/models/{m}/infer");
        assertThat(request.getParentSpanId()).isEqualTo(caller);
        SpanData escalate = named(edge, "escalate");
        assertThat(escalate.getParentSpanId()).isEqualTo(request.getSpanId());
        assertThat(attr(escalate, "edgefleet.escalation.reason")).isEqualTo("low_confidence");
        SpanData out = edge.stream().filter(s -> s.getKind() == SpanKind.CLIENT).findFirst().orElseThrow();
        assertThat(out.getParentSpanId()).isEqualTo(escalate.getSpanId());
        assertThat(out.getAttributes().get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(200L);
        assertThat(named(edge, "engine.infer").getParentSpanId()).as("the local try").isEqualTo(request.getSpanId());

        List<SpanData> cloud = trace(CLOUD_SPANS, traceId);
        SpanData served = cloud.stream().filter(s -> s.getKind() == SpanKind.SERVER).findFirst().orElseThrow();
        assertThat(served.getName()).isEqualTo("POST /v2/models/{m}/infer");
        assertThat(served.getParentSpanId()).as("the agent's outgoing call").isEqualTo(out.getSpanId());
        SpanData batch = named(cloud, "batch");
        assertThat(batch.getParentSpanId()).isEqualTo(served.getSpanId());
        assertThat(batch.getLinks()).anySatisfy(l -> assertThat(l.getSpanContext().getSpanId()).isEqualTo(served.getSpanId()));
        assertThat(named(cloud, "model.infer").getParentSpanId()).isEqualTo(batch.getSpanId());
    }

    @Test
    void a_rollout_command_its_run_on_the_device_and_its_acks_share_one_trace() {
        CloudClient.Response created = ops.raw("POST", "/api/v1/rollouts", "application/json", """
                {"model": "tr", "version": "2", "selector": "fleet=tr", "waves": [{"percent": 100}],
                 "commandTimeout": "60s", "telemetryWait": "1s", "onTelemetryWait": "proceed"}
                """.getBytes());
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        String id = created.json().get("rollout").get("id").asText();
        await(Duration.ofSeconds(60), "an activated ack applied in a span", () -> CLOUD_SPANS.getFinishedSpanItems().stream()
                .anyMatch(s -> s.getName().endsWith("/cmd/ack") && id.equals(attr(s, "edgefleet.rollout.id"))
                        && "activated".equals(attr(s, "edgefleet.ack.phase"))));

        SpanData ack = CLOUD_SPANS.getFinishedSpanItems().stream().filter(s -> s.getName().endsWith("/cmd/ack")
                && id.equals(attr(s, "edgefleet.rollout.id")) && "activated".equals(attr(s, "edgefleet.ack.phase"))).findFirst().orElseThrow();
        assertThat(ack.getKind()).isEqualTo(SpanKind.CONSUMER);
        // the device's command span ends after it published its last ack, so possibly after the cloud applied that ack
        await(Duration.ofSeconds(10), "the device's command span", () -> trace(AGENT_SPANS, ack.getTraceId()).stream()
                .anyMatch(s -> s.getName().equals("process ef/v1/{fleet}/{device}/cmd")));
        SpanData onDevice = named(trace(AGENT_SPANS, ack.getTraceId()), "process ef/v1/{fleet}/{device}/cmd");
        assertThat(ack.getParentSpanId()).as("the ack is a child of the device's command span").isEqualTo(onDevice.getSpanId());
        assertThat(attr(onDevice, "edgefleet.rollout.id")).isEqualTo(id);
        List<SpanData> cloud = trace(CLOUD_SPANS, ack.getTraceId());
        SpanData sent = cloud.stream().filter(s -> s.getKind() == SpanKind.PRODUCER).findFirst()
                .orElseThrow(() -> new AssertionError("no publish span in the ack's trace: " + cloud.stream().map(SpanData::getName).toList()));
        assertThat(onDevice.getParentSpanId()).as("the device's command span is a child of the publish").isEqualTo(sent.getSpanId());
        assertThat(attr(sent, "edgefleet.command.id")).isEqualTo(attr(ack, "edgefleet.command.id"));
        assertThat(attr(sent, "messaging.destination.name")).isEqualTo("ef/v1/tr/t-0/cmd");
        Set<String> phases = cloud.stream().filter(s -> s.getName().endsWith("/cmd/ack")).map(s -> attr(s, "edgefleet.ack.phase"))
                .collect(Collectors.toSet());
        assertThat(phases).as("every ack of the command in its trace").contains("received", "activated");
    }
}
