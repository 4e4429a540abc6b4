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
import io.edgefleet.engines.Confidence;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.synth.OnnxGraph;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import io.edgefleet.testkit.Ports;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Joint inference with a real agent and a real cloud inference role: a weaker edge classifier
 * (true weights plus fixed-seed noise) and the exact one in the cloud, on a synthetic task whose
 * labels the true weights define.
 */
class JointInferenceTest {
    @TempDir
    Path dir;

    static final int N = 300;
    static final float[][] W = new float[4][3];
    static final float[][] EDGE = new float[4][3];

    static {
        Random r = new Random(42);
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 3; j++) {
                W[i][j] = (float) r.nextGaussian();
                EDGE[i][j] = W[i][j] + (float) (r.nextGaussian() * 0.8);
            }
        }
    }

    static Path classifier(Path dir, String name, float[][] w) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(12 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 3; j++) {
                b.putFloat(w[i][j]);
            }
        }
        byte[] model = OnnxGraph.create(name)
                .input("x", DataType.FP32, -1, 4)
                .initializer("W", DataType.FP32, new long[] {4, 3}, b.array())
                .node("MatMul", List.of("x", "W"), List.of("logits"))
                .node("Softmax", List.of("logits"), List.of("probs"), Map.of("axis", 1L))
                .output("probs", DataType.FP32, -1, 3)
                .toBytes();
        Files.createDirectories(dir);
        return Files.write(dir.resolve(name + ".onnx"), model);
    }

    static float[][] inputs() {
        Random r = new Random(7);
        float[][] x = new float[N][4];
        for (int i = 0; i < N; i++) {
            for (int k = 0; k < 4; k++) {
                x[i][k] = (float) r.nextGaussian();
            }
        }
        return x;
    }

    static int truth(float[] x) {
        int best = 0;
        double bestV = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < 3; j++) {
            double v = 0;
            for (int i = 0; i < 4; i++) {
                v += x[i] * W[i][j];
            }
            if (v > bestV) {
                bestV = v;
                best = j;
            }
        }
        return best;
    }

    static byte[] body(float[] x) {
        return ("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[" + x[0] + "," + x[1] + "," + x[2] + "," + x[3]
                + "]}]}").getBytes();
    }

    static int argmax(JsonNode data) {
        int best = 0;
        for (int j = 1; j < data.size(); j++) {
            if (data.get(j).asDouble() > data.get(best).asDouble()) {
                best = j;
            }
        }
        return best;
    }

    private ControlPlane cloud(int port) {
        return ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withHttp("127.0.0.1", port).withRoles(EnumSet.allOf(Role.class)));
    }

    @Test
    void escalation_happens_exactly_under_the_threshold_improves_accuracy_and_survives_a_dead_cloud() throws Exception {
        double threshold = 0.8;
        int port = Ports.freePort();
        ControlPlane cp = cloud(port);
        try {
            CloudClient ops = client(cp, OPERATOR);
            assertThat(ops.pushModel("pair", "1", List.of(classifier(dir.resolve("c"), "pair", W)), List.of(), Map.of(), n -> { }).status())
                    .isEqualTo(201);
            Path edgeFile = classifier(dir.resolve("models"), "pair", EDGE);
            float[][] xs = inputs();
            // What the edge model says on its own, for the expected escalations.
            boolean[] expectEscalated = new boolean[N];
            int edgeOnlyRight = 0;
            try (LoadedModel edge = Engines.forFile(edgeFile).load(edgeFile, EngineOptions.defaults())) {
                for (int i = 0; i < N; i++) {
                    List<InferTensor> out = edge.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, xs[i]))));
                    Confidence c = Confidence.of(out.get(0).data(), java.util.Optional.empty());
                    expectEscalated[i] = c.maxProbability() < threshold;
                    edgeOnlyRight += c.argmax() == truth(xs[i]) ? 1 : 0;
                }
            }
            try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent")).withModelsDir(dir.resolve("models"))
                    .withHttp("127.0.0.1", 0).withCoapPort(-1).withTelemetry(Duration.ofMillis(200), 100_000).withTls(CloudTestSupport.agentToken())
                    .withEscalation(new AgentConfig.Escalation(URI.create("http://127.0.0.1:" + port),
                            Map.of("pair", new EscalationPolicy(EscalationPolicy.Measure.MAX_PROBABILITY, threshold, 1.0, Duration.ofSeconds(2))),
                            3, Duration.ofSeconds(1))))) {
                CloudClient local = new CloudClient(URI.create("http://127.0.0.1:" + agent.httpPort()), java.util.Optional.empty());
                int jointRight = 0;
                int escalated = 0;
                for (int i = 0; i < N; i++) {
                    CloudClient.Response r = local.raw("POST", "/v2/models/pair/infer", "application/json", body(xs[i]));
                    assertThat(r.status()).as(r.text()).isEqualTo(200);
                    JsonNode p = r.json().get("parameters");
                    boolean cloudAnswered = p.get("edgefleet.source").asText().equals("cloud");
                    assertThat(cloudAnswered).as("input %d escalated iff the edge's max probability is under %s", i, threshold)
                            .isEqualTo(expectEscalated[i]);
                    escalated += cloudAnswered ? 1 : 0;
                    jointRight += argmax(r.json().get("outputs").get(0).get("data")) == truth(xs[i]) ? 1 : 0;
                }
                double edgeAcc = (double) edgeOnlyRight / N;
                double jointAcc = (double) jointRight / N;
                System.out.printf("edge-only accuracy %.3f, with escalation %.3f, escalated %d of %d (%.1f %%)%n", edgeAcc, jointAcc, escalated, N,
                        100.0 * escalated / N);
                assertThat(escalated).isPositive().isLessThan(N);
                assertThat(jointAcc).isGreaterThan(edgeAcc);
                // Telemetry counts the escalations and what the cloud did with them.
                int esc = escalated;
                await(Duration.ofSeconds(15), "telemetry windows with every escalation", () -> escalationTotals(agent)[0] >= esc);
                long[] totals = escalationTotals(agent);
                assertThat(totals[0]).isEqualTo(esc);
                assertThat(totals[1]).as("cloud answers").isEqualTo(esc);
                assertThat(totals[2]).as("cloud failures").isZero();

                // The cloud dies: answers continue from the edge, marked, and the breaker opens.
                cp.close();
                cp = null;
                int lowMarked = 0;
                for (int i = 0; i < N; i++) {
                    if (!expectEscalated[i]) {
                        continue;
                    }
                    CloudClient.Response r = local.raw("POST", "/v2/models/pair/infer", "application/json", body(xs[i]));
                    assertThat(r.status()).as(r.text()).isEqualTo(200);
                    JsonNode p = r.json().get("parameters");
                    assertThat(p.get("edgefleet.source").asText()).isEqualTo("edge");
                    assertThat(p.get("edgefleet.low_confidence").asBoolean()).isTrue();
                    assertThat(p.get("edgefleet.escalation").asText()).contains("cloud unavailable");
                    lowMarked++;
                    if (lowMarked == 10) {
                        break;
                    }
                }
                assertThat(lowMarked).isEqualTo(10);
                CloudClient.Response open = local.raw("POST", "/v2/models/pair/infer", "application/json", body(xs[firstEscalated(expectEscalated)]));
                assertThat(open.json().get("parameters").get("edgefleet.escalation").asText()).contains("circuit breaker is open");

                // The cloud comes back on the same address: after the open period one probe closes the breaker.
                cp = cloud(port);
                await(Duration.ofSeconds(20), "cloud answers escalations again", () -> local.raw("POST", "/v2/models/pair/infer", "application/json",
                        body(xs[firstEscalated(expectEscalated)])).json().get("parameters").get("edgefleet.source").asText().equals("cloud"));
            }
        } finally {
            if (cp != null) {
                cp.close();
            }
        }
    }

    @Test
    void a_policy_set_by_a_configure_command_turns_escalation_on_and_a_dead_cloud_without_local_model_is_a_503() throws Exception {
        int port = Ports.freePort();
        try (ControlPlane cp = cloud(port)) {
            CloudClient ops = client(cp, OPERATOR);
            assertThat(ops.pushModel("pair", "1", List.of(classifier(dir.resolve("c"), "pair", W)), List.of(), Map.of(), n -> { }).status())
                    .isEqualTo(201);
            assertThat(ops.pushModel("cloudonly", "1", List.of(classifier(dir.resolve("c2"), "cloudonly", W)), List.of(), Map.of(), n -> { })
                    .status()).isEqualTo(201);
            classifier(dir.resolve("models"), "pair", EDGE);
            float[][] xs = inputs();
            try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent")).withModelsDir(dir.resolve("models"))
                    .withHttp("127.0.0.1", 0).withCoapPort(-1).withTls(CloudTestSupport.agentToken())
                    .withEscalation(new AgentConfig.Escalation(URI.create("http://127.0.0.1:" + port), Map.of(), 3, Duration.ofSeconds(1))))) {
                CloudClient local = new CloudClient(URI.create("http://127.0.0.1:" + agent.httpPort()), java.util.Optional.empty());
                // No policy yet: everything is answered here.
                for (int i = 0; i < 20; i++) {
                    JsonNode p = local.raw("POST", "/v2/models/pair/infer", "application/json", body(xs[i])).json().get("parameters");
                    assertThat(p.has("edgefleet.source") && p.get("edgefleet.source").asText().equals("cloud")).isFalse();
                }
                new io.edgefleet.agent.commands.CommandHandler(agent.slots(), agent.store(), "agent", java.time.Clock.systemUTC()).handle(
                        io.edgefleet.protocols.messages.Command.configure("cfg-1", "pair", Map.of("escalation.measure", "margin",
                                "escalation.threshold", "1.0", "escalation.deadline-ms", "2000"), java.time.Instant.now()), a -> { });
                // Margin below 1.0 is every answer: all go to the cloud now.
                for (int i = 0; i < 20; i++) {
                    JsonNode p = local.raw("POST", "/v2/models/pair/infer", "application/json", body(xs[i])).json().get("parameters");
                    assertThat(p.get("edgefleet.source").asText()).isEqualTo("cloud");
                }
                // A model the agent does not have, with a policy: the cloud answers; with the cloud gone, a clear 503.
                new io.edgefleet.agent.commands.CommandHandler(agent.slots(), agent.store(), "agent", java.time.Clock.systemUTC()).handle(
                        io.edgefleet.protocols.messages.Command.configure("cfg-2", "cloudonly", Map.of("escalation.threshold", "0.5"),
                                java.time.Instant.now()), a -> { });
                CloudClient.Response viaCloud = local.raw("POST", "/v2/models/cloudonly/infer", "application/json", body(xs[0]));
                assertThat(viaCloud.status()).as(viaCloud.text()).isEqualTo(200);
                assertThat(viaCloud.json().get("parameters").get("edgefleet.source").asText()).isEqualTo("cloud");
                cp.close();
                CloudClient.Response none = local.raw("POST", "/v2/models/cloudonly/infer", "application/json", body(xs[0]));
                assertThat(none.status()).isEqualTo(503);
                assertThat(none.json().get("error").asText()).contains("cloud is unavailable");
            }
        }
    }

    /** Escalations, cloud answers and cloud failures in the agent's telemetry outbox so far. */
    static long[] escalationTotals(EdgeAgent agent) {
        long[] t = new long[3];
        for (var e : agent.store().peekOutbox(100_000)) {
            var b = io.edgefleet.protocols.messages.MessageCodec.json().decode(e.getValue(), io.edgefleet.protocols.messages.TelemetryBatch.class);
            for (var r : b.records()) {
                t[0] += r.escalations();
                t[1] += r.escalation().map(x -> x.cloudAnswers()).orElse(0L);
                t[2] += r.escalation().map(x -> x.cloudFailures()).orElse(0L);
            }
        }
        return t;
    }

    static int firstEscalated(boolean[] e) {
        for (int i = 0; i < e.length; i++) {
            if (e[i]) {
                return i;
            }
        }
        throw new AssertionError("no input under the threshold");
    }

}
