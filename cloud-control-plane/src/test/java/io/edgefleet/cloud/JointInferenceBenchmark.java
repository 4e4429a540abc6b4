package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.serving.EscalationPolicy;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.Confidence;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Edge-first versus cloud-only latency for the same request stream with 50 ms of round trip
 * added to the cloud (a delaying TCP proxy on loopback: 25 ms each way), and the accuracy that the
 * least-confident 5 / 10 / 20 % of escalations recover, with the test pair of
 * {@link JointInferenceTest}. Run: {@code ./mvnw -B -pl cloud-control-plane -am -Pslow
 * -Dtest=JointInferenceBenchmark -Dsurefire.failIfNoSpecifiedTests=false verify}.
 */
@Tag("slow")
class JointInferenceBenchmark {
    @TempDir
    Path dir;

    /** Forwards loopback TCP to {@code target}, holding every chunk {@code delayMs} in each direction. */
    static ServerSocket delayingProxy(int target, long delayMs) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress("127.0.0.1", 0));
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket in = server.accept();
                    in.setTcpNoDelay(true);
                    Socket out = new Socket("127.0.0.1", target);
                    out.setTcpNoDelay(true);
                    Thread.ofVirtual().start(() -> pump(in, out, delayMs));
                    Thread.ofVirtual().start(() -> pump(out, in, delayMs));
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server;
    }

    private static void pump(Socket from, Socket to, long delayMs) {
        byte[] buf = new byte[64 * 1024];
        try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
            int n;
            while ((n = i.read(buf)) > 0) {
                Thread.sleep(delayMs);
                o.write(buf, 0, n);
                o.flush();
            }
        } catch (IOException | InterruptedException e) {
            // connection over
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    static double percentile(List<Double> v, double p) {
        List<Double> s = new ArrayList<>(v);
        s.sort(Double::compare);
        return s.get(Math.min(s.size() - 1, (int) Math.floor(p * s.size())));
    }

    @Test
    void edge_first_versus_cloud_only_and_the_escalation_curve() throws Exception {
        float[][] xs = JointInferenceTest.inputs();
        int n = xs.length;
        Path edgeFile = JointInferenceTest.classifier(dir.resolve("models"), "pair", JointInferenceTest.EDGE);
        // The curve: escalate the least-confident share, the cloud model is exact on this task.
        double[] conf = new double[n];
        boolean[] edgeRight = new boolean[n];
        try (LoadedModel edge = Engines.forFile(edgeFile).load(edgeFile, EngineOptions.defaults())) {
            for (int i = 0; i < n; i++) {
                Confidence c = Confidence.of(edge.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, xs[i])))).get(0).data(),
                        Optional.empty());
                conf[i] = c.maxProbability();
                edgeRight[i] = c.argmax() == JointInferenceTest.truth(xs[i]);
            }
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(conf[a], conf[b]));
        long edgeOk = 0;
        for (boolean b : edgeRight) {
            edgeOk += b ? 1 : 0;
        }
        double edgeAcc = (double) edgeOk / n;
        System.out.printf("%nJoint inference benchmark: %d requests, edge accuracy %.3f, cloud accuracy 1.000%n", n, edgeAcc);
        System.out.printf("%-22s %10s %14s %18s%n", "escalated (cheapest)", "threshold", "accuracy", "gap recovered");
        for (double share : new double[] {0.05, 0.10, 0.20, 0.50}) {
            int k = (int) Math.round(share * n);
            boolean[] up = new boolean[n];
            for (int i = 0; i < k; i++) {
                up[order[i]] = true;
            }
            long ok = 0;
            for (int i = 0; i < n; i++) {
                ok += up[i] || edgeRight[i] ? 1 : 0;
            }
            double acc = (double) ok / n;
            System.out.printf("%-22s %10.3f %14.3f %17.1f%%%n", String.format("%.0f %% (%d)", share * 100, k), conf[order[Math.max(0, k - 1)]], acc,
                    100 * (acc - edgeAcc) / (1 - edgeAcc));
        }

        ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withRoles(EnumSet.allOf(Role.class)));
        try (ServerSocket proxy = delayingProxy(cp.port(), 25)) {
            CloudClient ops = client(cp, OPERATOR);
            assertThat(ops.pushModel("pair", "1", List.of(JointInferenceTest.classifier(dir.resolve("c"), "pair", JointInferenceTest.W)), List.of(),
                    Map.of(), x -> { }).status()).isEqualTo(201);
            double threshold = conf[order[(int) Math.round(0.10 * n) - 1]] + 1e-6; // escalate about 10 %
            try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("agent")).withModelsDir(dir.resolve("models"))
                    .withHttp("127.0.0.1", 0).withCoapPort(-1).withTls(CloudTestSupport.agentToken())
                    .withEscalation(new AgentConfig.Escalation(URI.create("http://127.0.0.1:" + proxy.getLocalPort()),
                            Map.of("pair", new EscalationPolicy(EscalationPolicy.Measure.MAX_PROBABILITY, threshold, 1.0, Duration.ofSeconds(2))),
                            3, Duration.ofSeconds(1))))) {
                CloudClient edge = new CloudClient(URI.create("http://127.0.0.1:" + agent.httpPort()), Optional.empty());
                CloudClient cloud = new CloudClient(URI.create("http://127.0.0.1:" + proxy.getLocalPort()), Optional.of(OPERATOR));
                for (int i = 0; i < 50; i++) { // warm both paths
                    edge.raw("POST", "/v2/models/pair/infer", "application/json", JointInferenceTest.body(xs[i]));
                    cloud.raw("POST", "/v2/models/pair/infer", "application/json", JointInferenceTest.body(xs[i]));
                }
                List<Double> edgeMs = new ArrayList<>();
                List<Double> cloudMs = new ArrayList<>();
                int escalated = 0;
                int edgeFirstRight = 0;
                for (int i = 0; i < n; i++) {
                    long t = System.nanoTime();
                    CloudClient.Response r = edge.raw("POST", "/v2/models/pair/infer", "application/json", JointInferenceTest.body(xs[i]));
                    edgeMs.add((System.nanoTime() - t) / 1e6);
                    escalated += r.json().get("parameters").get("edgefleet.source").asText().equals("cloud") ? 1 : 0;
                    edgeFirstRight += JointInferenceTest.argmax(r.json().get("outputs").get(0).get("data")) == JointInferenceTest.truth(xs[i]) ? 1 : 0;
                    t = System.nanoTime();
                    cloud.raw("POST", "/v2/models/pair/infer", "application/json", JointInferenceTest.body(xs[i]));
                    cloudMs.add((System.nanoTime() - t) / 1e6);
                }
                System.out.printf("%nsame %d requests, cloud behind +50 ms round trip; edge-first escalates %d (%.1f %%), accuracy %.3f%n", n,
                        escalated, 100.0 * escalated / n, (double) edgeFirstRight / n);
                System.out.printf("%-12s %10s %10s %10s%n", "path", "p50 ms", "p95 ms", "mean ms");
                System.out.printf("%-12s %10.2f %10.2f %10.2f%n", "edge-first", percentile(edgeMs, 0.5), percentile(edgeMs, 0.95),
                        edgeMs.stream().mapToDouble(Double::doubleValue).average().orElse(0));
                System.out.printf("%-12s %10.2f %10.2f %10.2f%n", "cloud-only", percentile(cloudMs, 0.5), percentile(cloudMs, 0.95),
                        cloudMs.stream().mapToDouble(Double::doubleValue).average().orElse(0));
                System.out.printf("edge-first / cloud-only mean latency: %.2f%n", edgeMs.stream().mapToDouble(Double::doubleValue).average().orElse(0)
                        / cloudMs.stream().mapToDouble(Double::doubleValue).average().orElse(1));
            }
        } finally {
            cp.close();
        }
    }
}
