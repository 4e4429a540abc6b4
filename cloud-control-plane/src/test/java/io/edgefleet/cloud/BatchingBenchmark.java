package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.inference.BatchingSettings;
import io.edgefleet.engines.synth.SyntheticModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cloud inference role throughput with dynamic batching versus unbatched, at concurrency 1, 8 and
 * 32, on CPU, over HTTP (JSON v2), in one run. Run: {@code ./mvnw -B -pl cloud-control-plane -am -Pslow
 * -Dtest=BatchingBenchmark -Dsurefire.failIfNoSpecifiedTests=false verify}; figures in docs/benchmarks.md.
 */
@Tag("slow")
class BatchingBenchmark {
    @TempDir
    Path dir;

    static final int SIZE = 1024;
    static final Duration MEASURE = Duration.ofSeconds(4);

    @Test
    void batched_versus_unbatched_throughput() throws Exception {
        Path model = SyntheticModels.denseOnnx(Files.createDirectories(dir.resolve("m")), SIZE);
        StringBuilder sb = new StringBuilder("{\"inputs\":[{\"name\":\"x\",\"shape\":[1," + SIZE + "],\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < SIZE; i++) {
            sb.append(i == 0 ? "" : ",").append((i % 13) * 0.01);
        }
        byte[] body = sb.append("]}]}").toString().getBytes();
        System.out.printf("%nBatching benchmark: dense %dx%d ONNX (fp32, CPU), JSON v2 over HTTP, %d s per run, each point the mean of two alternated runs%n", SIZE, SIZE, MEASURE.toSeconds());
        System.out.printf("%-12s %5s %12s %12s %8s %10s%n", "mode", "conc", "requests/s", "p50 ms", "ratio", "avg batch");
        BatchingSettings batched = new BatchingSettings(32, Duration.ofMillis(1), 1024, Duration.ofSeconds(10));
        for (int conc : new int[] {1, 8, 32}) {
            // Alternated and averaged (u, b, b, u): on two shared cores the first run of a pair is often slower.
            double[] u1 = run(model, body, batched.unbatched(), conc, "unbatched-a-" + conc);
            double[] b1 = run(model, body, batched, conc, "batched-a-" + conc);
            double[] b2 = run(model, body, batched, conc, "batched-b-" + conc);
            double[] u2 = run(model, body, batched.unbatched(), conc, "unbatched-b-" + conc);
            double[] u = mean(u1, u2);
            double[] b = mean(b1, b2);
            System.out.printf("%-12s %5d %12.0f %12.2f %8s %10.2f%n", "unbatched", conc, u[0], u[1], "1.00", u[2]);
            System.out.printf("%-12s %5d %12.0f %12.2f %8.2f %10.2f%n", "batched", conc, b[0], b[1], b[0] / u[0], b[2]);
        }
    }

    private static double[] mean(double[] a, double[] b) {
        double[] m = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            m[i] = (a[i] + b[i]) / 2;
        }
        return m;
    }

    private double[] run(Path model, byte[] body, BatchingSettings settings, int conc, String name) throws Exception {
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve(name)).withRoles(EnumSet.allOf(Role.class))
                .withBatching(settings))) {
            CloudClient ops = client(cp, OPERATOR);
            assertThat(ops.pushModel("dense", "1", List.of(model), List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
            URI uri = URI.create("http://127.0.0.1:" + cp.port() + "/v2/models/dense/infer");
            HttpClient http = HttpClient.newBuilder().executor(Executors.newVirtualThreadPerTaskExecutor()).build();
            for (int i = 0; i < 200; i++) { // warm-up: load, JIT
                http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + CloudTestSupport.OPERATOR).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
            }
            long runs0 = cp.inference().stats().get("runs");
            long rows0 = cp.inference().stats().get("rows");
            AtomicLong done = new AtomicLong();
            List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
            ExecutorService pool = Executors.newFixedThreadPool(conc);
            CountDownLatch go = new CountDownLatch(1);
            long end = System.nanoTime() + MEASURE.toNanos() + 100_000_000L;
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < conc; c++) {
                fs.add(pool.submit(() -> {
                    go.await();
                    while (System.nanoTime() < end) {
                        long t = System.nanoTime();
                        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + CloudTestSupport.OPERATOR).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                                HttpResponse.BodyHandlers.discarding());
                        if (r.statusCode() != 200) {
                            throw new IllegalStateException("status " + r.statusCode());
                        }
                        latencies.add(System.nanoTime() - t);
                        done.incrementAndGet();
                    }
                    return null;
                }));
            }
            long t0 = System.nanoTime();
            go.countDown();
            for (Future<?> f : fs) {
                f.get();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            pool.shutdown();
            List<Long> sorted = new ArrayList<>(latencies);
            java.util.Collections.sort(sorted);
            long runs = cp.inference().stats().get("runs") - runs0;
            long rows = cp.inference().stats().get("rows") - rows0;
            return new double[] {done.get() / seconds, sorted.get(sorted.size() / 2) / 1e6, runs == 0 ? 0 : (double) rows / runs};
        }
    }
}
