package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.inference.Batcher;
import io.edgefleet.cloud.inference.BatchingSettings;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadStats;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.ModelSignature;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The inference role: v2 over HTTP from the registry, dynamic batching that changes no answer, bounded queue, deadlines, hot swap. */
class CloudInferenceTest {
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static CloudClient ops;

    @BeforeAll
    static void start() throws Exception {
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withRoles(EnumSet.allOf(Role.class))
                .withBatching(new BatchingSettings(32, Duration.ofMillis(2), 256, Duration.ofSeconds(10))));
        ops = client(cp, OPERATOR);
        assertThat(ops.pushModel("cls", "1", List.of(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1")))), List.of(),
                Map.of(), n -> { }).status()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    static byte[] request(float... x) {
        StringBuilder sb = new StringBuilder("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < x.length; i++) {
            sb.append(i == 0 ? "" : ",").append(x[i]);
        }
        return sb.append("]}]}").toString().getBytes();
    }

    static float[] input(int i) {
        return new float[] {i * 0.1f, -i * 0.05f, (i % 7) * 0.3f, 1 - i * 0.01f};
    }

    static String probs(CloudClient.Response r) {
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json().get("outputs").get(0).get("data").toString();
    }

    @Test
    void sixty_four_concurrent_requests_get_exactly_the_answers_of_sixty_four_single_requests() throws Exception {
        List<String> single = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            single.add(probs(ops.raw("POST", "/v2/models/cls/infer", "application/json", request(input(i)))));
        }
        long rowsBefore = cp.inference().stats().get("rows");
        long runsBefore = cp.inference().stats().get("runs");
        ExecutorService pool = Executors.newFixedThreadPool(64);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<String>> answers = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            int k = i;
            answers.add(pool.submit(() -> {
                go.await();
                return probs(ops.raw("POST", "/v2/models/cls/infer", "application/json", request(input(k))));
            }));
        }
        go.countDown();
        for (int i = 0; i < 64; i++) {
            assertThat(answers.get(i).get(30, TimeUnit.SECONDS)).as("request %d", i).isEqualTo(single.get(i));
        }
        pool.shutdown();
        long rows = cp.inference().stats().get("rows") - rowsBefore;
        long runs = cp.inference().stats().get("runs") - runsBefore;
        assertThat(rows).isEqualTo(64);
        assertThat(runs).as("concurrent requests shared model calls").isLessThan(64);
        assertThat(cp.inference().stats().get("largestBatch")).isGreaterThan(1);
    }

    @Test
    void bad_input_unknown_models_and_bad_deadlines_get_precise_errors() {
        CloudClient.Response wrongShape = ops.raw("POST", "/v2/models/cls/infer", "application/json",
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}".getBytes());
        assertThat(wrongShape.status()).isEqualTo(400);
        assertThat(wrongShape.json().get("error").asText()).contains("x");
        assertThat(ops.raw("POST", "/v2/models/nope/infer", "application/json", request(1, 2, 3, 4)).status()).isEqualTo(404);
        assertThat(ops.raw("POST", "/v2/models/cls/versions/9/infer", "application/json", request(1, 2, 3, 4)).status()).isEqualTo(404);
        assertThat(ops.raw("POST", "/v2/models/cls/infer", "application/json", "{oops".getBytes()).status()).isEqualTo(400);
        assertThat(ops.get("/v2/models/cls").json().get("versions").get(0).asText()).isEqualTo("1");
        assertThat(ops.get("/v2/models/cls/ready").status()).isEqualTo(200);
        assertThat(probs(ops.raw("POST", "/v2/models/cls/infer", "application/json", request(1, 2, 3, 4)))).isNotEmpty();
    }

    @Test
    void metrics_show_queue_batch_sizes_and_latency_per_model() throws Exception {
        assertThat(probs(ops.raw("POST", "/v2/models/cls/infer", "application/json", request(1, 2, 3, 4)))).isNotEmpty();
        java.net.http.HttpResponse<String> m = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + cp.port() + "/observe/metrics")).header("Accept", "text/plain").build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(m.statusCode()).isEqualTo(200);
        assertThat(m.body()).contains("edgefleet_cloud_inference_queued").contains("edgefleet_cloud_inference_batch_size")
                .contains("edgefleet_cloud_inference_duration_seconds_bucket{model=\"cls\",route=\"/v2/models/{m}/infer\"");
    }

    /** A real model behind a gate, so the test decides when the worker is busy. */
    static final class Gated implements LoadedModel {
        final LoadedModel real;
        final CountDownLatch open = new CountDownLatch(1);
        final AtomicInteger calls = new AtomicInteger();

        Gated(LoadedModel real) {
            this.real = real;
        }

        @Override
        public ModelSignature signature() {
            return real.signature();
        }

        @Override
        public LoadStats stats() {
            return real.stats();
        }

        @Override
        public List<InferTensor> infer(List<InferTensor> inputs) {
            calls.incrementAndGet();
            try {
                open.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return real.infer(inputs);
        }

        @Override
        public void close() {
            real.close();
        }
    }

    static List<InferTensor> x(float... v) {
        return List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, v)));
    }

    @Test
    void a_full_queue_refuses_at_once_and_a_request_past_its_deadline_is_answered_not_computed() throws Exception {
        Path f = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("gated")));
        Gated model = new Gated(Engines.forFile(f).load(f, EngineOptions.defaults()));
        try (Batcher b = new Batcher("gated", model, new BatchingSettings(8, Duration.ZERO, 2, Duration.ofSeconds(10)), n -> { })) {
            CompletableFuture<List<InferTensor>> first = b.submit(x(1, 2, 3, 4), Duration.ofSeconds(10)); // the worker takes it and blocks
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (model.calls.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            CompletableFuture<List<InferTensor>> late = b.submit(x(1, 1, 1, 1), Duration.ofMillis(50));
            CompletableFuture<List<InferTensor>> third = b.submit(x(2, 2, 2, 2), Duration.ofSeconds(10));
            assertThatThrownBy(() -> b.submit(x(3, 3, 3, 3), Duration.ofSeconds(10))).isInstanceOf(Batcher.QueueFullException.class)
                    .hasMessageContaining("full");
            Thread.sleep(200); // the 50 ms deadline passes while it waits
            model.open.countDown();
            assertThat(first.get(10, TimeUnit.SECONDS).get(0).data().toFloatArray()).hasSize(3);
            assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(Batcher.DeadlineExceededException.class);
            assertThat(third.get(10, TimeUnit.SECONDS).get(0).data().toFloatArray()).hasSize(3);
            assertThat(model.calls.get()).as("the expired request was never computed").isEqualTo(2);
            assertThat(b.expired()).isEqualTo(1);
        }
    }

    @Test
    void registering_a_new_version_switches_traffic_with_no_failed_request() throws Exception {
        AtomicInteger failures = new AtomicInteger();
        List<Integer> failedStatuses = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger onOne = new AtomicInteger();
        AtomicInteger onTwo = new AtomicInteger();
        // when the first 200 arrived: any request sent after that must be served (a 404 then is a failure, not "not yet")
        java.util.concurrent.atomic.AtomicLong firstOkAt = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        var running = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<Future<?>> loops = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            loops.add(pool.submit(() -> {
                while (running.get()) {
                    long sentAt = System.nanoTime();
                    CloudClient.Response r = ops.raw("POST", "/v2/models/swap/infer", "application/json", request(1, 2, 3, 4));
                    if (r.status() == 404 && sentAt < firstOkAt.get()) {
                        continue; // sent before the first version was seen serving
                    }
                    if (r.status() != 200) {
                        failures.incrementAndGet();
                        failedStatuses.add(r.status());
                        continue;
                    }
                    firstOkAt.accumulateAndGet(System.nanoTime(), Math::min);
                    (r.json().get("model_version").asText().equals("2") ? onTwo : onOne).incrementAndGet();
                }
            }));
        }
        assertThat(ops.pushModel("swap", "1", List.of(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("s1")))), List.of(),
                Map.of(), n -> { }).status()).isEqualTo(201);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (onOne.get() < 20 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(onOne.get()).as("version 1 served before the switch").isGreaterThanOrEqualTo(20);
        JsonNode v2 = ops.pushModel("swap", "2", List.of(SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("s2")))), List.of(),
                Map.of(), n -> { }).json();
        assertThat(v2.get("version").asText()).isEqualTo("2");
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (onTwo.get() < 20 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        running.set(false);
        for (Future<?> l : loops) {
            l.get(10, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertThat(onTwo.get()).as("traffic reached version 2").isGreaterThanOrEqualTo(20);
        assertThat(failures.get()).as("no request failed across the switch (statuses %s)", failedStatuses).isZero();
    }
}
