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
                    .withHttp("127.0.0.1", 0).withCoapPort(-1)
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

    static int firstEscalated(boolean[] e) {
        for (int i = 0; i < e.length; i++) {
            if (e[i]) {
                return i;
            }
        }
        throw new AssertionError("no input under the threshold");
    }

}
