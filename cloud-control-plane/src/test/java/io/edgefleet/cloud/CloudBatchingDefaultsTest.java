package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.inference.BatchingSettings;
import io.edgefleet.engines.synth.SyntheticModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Batching's defaults on the real cloud inference role (real HTTP, real ONNX Runtime on CPU): off
 * for a model on the CPU provider alone, because a batched call costs there what its rows cost one
 * by one (docs/benchmarks.md, "Cloud batching on a convolutional model"); on where a GPU provider
 * runs the model; explicit settings apply on CPU too.
 */
class CloudBatchingDefaultsTest {
    @TempDir
    Path dir;

    static final int SIZE = 64;

    static byte[] request() {
        return ("{\"inputs\":[{\"name\":\"x\",\"shape\":[1," + SIZE + "],\"datatype\":\"FP32\",\"data\":["
                + String.join(",", Collections.nCopies(SIZE, "0.25")) + "]}]}").getBytes(StandardCharsets.UTF_8);
    }

    /** Pushes a dynamic-batch model, sends 16 concurrent requests over HTTP (all must be 200), returns the role. */
    private static void serve(ControlPlane cp, Path model) throws Exception {
        CloudClient ops = client(cp, OPERATOR);
        assertThat(ops.pushModel("dense", "1", List.of(model), List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<CloudClient.Response>> fs = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                fs.add(pool.submit(() -> ops.raw("POST", "/v2/models/dense/infer", "application/json", request())));
            }
            for (Future<CloudClient.Response> f : fs) {
                CloudClient.Response r = f.get();
                assertThat(r.status()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
                assertThat(r.json().at("/outputs/0/shape").toString()).isEqualTo("[1," + SIZE + "]");
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void by_default_a_model_on_cpu_runs_unbatched() throws Exception {
        Path model = SyntheticModels.denseOnnx(Files.createDirectories(dir.resolve("m")), SIZE);
        assertThat(BatchingSettings.defaults().onCpu()).isFalse();
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withRoles(EnumSet.allOf(Role.class)))) {
            assertThat(cp.inference().batching()).isEqualTo(BatchingSettings.defaults());
            serve(cp, model);
            var served = cp.inference().served("dense", Optional.empty());
            assertThat(served.loaded().stats().providers()).as("this test runs on a CPU-only ONNX Runtime").containsExactly("CPU");
            assertThat(served.batcher().settings().maxBatch()).isEqualTo(1);
            assertThat(served.batcher().batchable()).isFalse();
            assertThat(cp.inference().stats().get("largestBatch")).as("no model call ran more than one request's row").isEqualTo(1L);
            assertThat(cp.inference().stats().get("runs")).as("one call per request").isGreaterThanOrEqualTo(16L);
        }
    }

    @Test
    void explicit_settings_batch_on_cpu_too() throws Exception {
        Path model = SyntheticModels.denseOnnx(Files.createDirectories(dir.resolve("m")), SIZE);
        BatchingSettings explicit = new BatchingSettings(32, Duration.ofMillis(2), 256, Duration.ofSeconds(10));
        assertThat(explicit.onCpu()).isTrue();
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withRoles(EnumSet.allOf(Role.class))
                .withBatching(explicit))) {
            serve(cp, model);
            var served = cp.inference().served("dense", Optional.empty());
            assertThat(served.batcher().settings()).isEqualTo(explicit);
            assertThat(served.batcher().batchable()).isTrue();
        }
    }

    @Test
    void the_defaults_batch_where_a_gpu_provider_runs_the_model() {
        BatchingSettings d = BatchingSettings.defaults();
        assertThat(d.forProviders(List.of("CUDA", "CPU"))).isEqualTo(d);
        assertThat(d.forProviders(List.of("CPU"))).isEqualTo(d.unbatched());
        assertThat(d.forProviders(List.of("XNNPACK"))).as("TFLite's CPU delegate is CPU").isEqualTo(d.unbatched());
        assertThat(d.unbatched().maxBatch()).isEqualTo(1);
        assertThat(d.unbatched().queueCapacity()).isEqualTo(d.queueCapacity());
    }
}
