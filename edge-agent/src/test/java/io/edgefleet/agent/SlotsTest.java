package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.agent.serving.OverloadedException;
import io.edgefleet.agent.slots.ModelNotServedException;
import io.edgefleet.agent.slots.SelfTest;
import io.edgefleet.agent.slots.SlotException;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model slots: install, atomic swap under load, rollback, refusal of a bad candidate, restart. */
class SlotsTest {
    @TempDir
    Path dir;

    private static InferRequest one(float... x) {
        return InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, x)));
    }

    /** An agent whose watchdog stays out of the way: these tests are about the slots, not about local safety. */
    private EdgeAgent agent() {
        return EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withWatchdog(new io.edgefleet.agent.slots.Watchdog.Limits(java.time.Duration.ofMinutes(2), 20, 0.2, 0.0, 1000.0)));
    }

    @Test
    void a_swap_under_load_fails_no_request_and_requests_move_to_the_new_version() throws Exception {
        Path v1 = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1")));
        Path v2 = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")));
        try (EdgeAgent agent = agent()) {
            agent.slots().install("cls", "1", v1);
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger failures = new AtomicInteger();
            Set<String> versions = ConcurrentHashMap.newKeySet();
            AtomicInteger answered = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            List<Future<?>> loops = new ArrayList<>();
            CountDownLatch warmed = new CountDownLatch(3);
            for (int t = 0; t < 3; t++) {
                loops.add(pool.submit(() -> {
                    int n = 0;
                    while (running.get()) {
                        try {
                            InferResponse r = agent.inference().infer("cls", Optional.empty(), one(1, 2, 3, 4));
                            versions.add(r.modelVersion().orElseThrow());
                            answered.incrementAndGet();
                        } catch (OverloadedException e) {
                            // a full queue is an answer too, not a failure of the swap
                        } catch (RuntimeException e) {
                            failures.incrementAndGet();
                        }
                        if (++n == 20) {
                            warmed.countDown();
                        }
                    }
                }));
            }
            warmed.await();
            agent.slots().install("cls", "2", v2);
            int after = answered.get();
            while (answered.get() < after + 200) {
                Thread.sleep(5);
            }
            running.set(false);
            for (Future<?> f : loops) {
                f.get();
            }
            pool.shutdown();
            assertThat(failures.get()).isZero();
            assertThat(versions).containsExactlyInAnyOrder("1", "2");
            assertThat(agent.slots().activeVersions()).containsEntry("cls", "2");
            assertThat(agent.inference().infer("cls", Optional.empty(), one(1, 2, 3, 4)).modelVersion()).contains("2");
        }
    }

    @Test
    void rollback_returns_to_the_previous_version_in_one_step_and_survives_a_restart() throws IOException {
        Path v1 = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1")));
        Path v2 = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")));
        try (EdgeAgent agent = agent()) {
            agent.slots().install("cls", "1", v1);
            assertThatThrownBy(() -> agent.slots().rollback("cls")).isInstanceOf(SlotException.class)
                    .hasMessage("model 'cls' has no previous version to roll back to");
            agent.slots().install("cls", "2", v2);
            assertThat(agent.slots().rollback("cls")).isEqualTo("1");
            assertThat(agent.slots().activeVersions()).containsEntry("cls", "1");
            assertThat(agent.slots().record("cls").orElseThrow().previous().orElseThrow().version()).isEqualTo("2");
        }
        // the source files are gone: the agent serves from its own data folder
        Files.delete(v1);
        Files.delete(v2);
        try (EdgeAgent again = agent()) {
            assertThat(again.slots().activeVersions()).isEqualTo(Map.of("cls", "1"));
            assertThat(again.inference().infer("cls", Optional.empty(), one(1, 2, 3, 4)).outputs()).hasSize(1);
            assertThat(again.slots().rollback("cls")).isEqualTo("2");
        }
    }

    @Test
    void a_bad_candidate_is_refused_and_the_active_version_keeps_serving() throws IOException {
        Path v1 = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1")));
        Path nan = SyntheticModels.nanOnnx(Files.createDirectories(dir.resolve("nan")));
        Path junk = Files.write(dir.resolve("junk.onnx"), new byte[] {8, 1, 2, 3, 4, 5});
        try (EdgeAgent agent = agent()) {
            agent.slots().install("cls", "1", v1);
            assertThatThrownBy(() -> agent.slots().install("cls", "2", junk)).isInstanceOf(SlotException.class)
                    .hasMessageStartingWith("model 'cls' version 2 refused: model file " + junk + ": ");
            assertThatThrownBy(() -> agent.slots().install("cls", "3", nan)).isInstanceOf(SlotException.class)
                    .hasMessage("model 'cls' version 3 failed its self-test: output 'y' holds NaN on zero inputs");
            assertThat(agent.slots().activeVersions()).containsEntry("cls", "1");
            assertThat(agent.inference().infer("cls", Optional.empty(), one(1, 2, 3, 4)).modelVersion()).contains("1");
            assertThat(agent.slots().record("cls").orElseThrow().previous()).isEmpty();
        }
    }

    @Test
    void a_ten_times_slower_candidate_fails_its_self_test_and_the_active_version_keeps_serving() throws Exception {
        // fast takes about 2 ms on any machine, slow about ten times as long: far above the 2 ms floor
        int batch = SlotRig.calibratedBatch(dir.resolve("calibration"), 64, 1024, 256, 8, 2.0);
        Path fast = SyntheticModels.mlpOnnx(Files.createDirectories(dir.resolve("fast")), batch, 256, 8);
        Path slow = SyntheticModels.mlpOnnx(Files.createDirectories(dir.resolve("slow")), batch, 256, 80);
        // no time budget: each round times exactly its minimum of 30 pairs
        SelfTest.Limits limits = new SelfTest.Limits(3.0, 2.0, 60, 30, java.time.Duration.ZERO);
        try (SlotRig rig = new SlotRig(dir.resolve("data"), limits, io.edgefleet.agent.slots.Watchdog.Limits.defaults())) {
            rig.slots.install("mlp", "1", fast);
            assertThatThrownBy(() -> rig.slots.install("mlp", "2", slow)).isInstanceOf(SlotException.class)
                    .hasMessageStartingWith("model 'mlp' version 2 failed its self-test: latency more than ")
                    .hasMessageContaining(" ms longer than the active version in ")
                    .hasMessageContaining(" of 30 paired runs of ").hasMessageContaining(" time (23 needed; median ")
                    .hasMessageEndingWith(", in two rounds");
            assertThat(rig.slots.activeVersions()).containsEntry("mlp", "1");
            assertThat(rig.slots.record("mlp").orElseThrow().previous()).isEmpty();
            assertThat(rig.send("mlp", 3, SlotRig.floats(batch, 256))).isEqualTo(3);
        }
    }

    @Test
    void a_rollback_is_never_refused_for_speed() throws Exception {
        Path fast = SyntheticModels.mlpOnnx(Files.createDirectories(dir.resolve("fast")), 128, 256, 8);
        Path slow = SyntheticModels.mlpOnnx(Files.createDirectories(dir.resolve("slow")), 128, 256, 80);
        try (SlotRig rig = new SlotRig(dir.resolve("data"), SelfTest.Limits.defaults(), io.edgefleet.agent.slots.Watchdog.Limits.defaults())) {
            rig.slots.install("mlp", "1", slow);
            rig.slots.install("mlp", "2", fast); // faster than the active version: passes
            assertThat(rig.slots.rollback("mlp")).isEqualTo("1"); // ten times slower than the active one, and served before
            assertThat(rig.slots.activeVersions()).containsEntry("mlp", "1");
        }
    }

    @Test
    void a_full_queue_is_refused_at_once_and_never_waits_unbounded() throws Exception {
        Path big = SyntheticModels.denseOnnx(Files.createDirectories(dir.resolve("big")), 1024);
        try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withHttp("127.0.0.1", 0).withCoapPort(0).withQueue(1, 1))) {
            agent.slots().install("dense", "1", big);
            InferRequest heavy = InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {256, 1024}, new float[256 * 1024])));
            ExecutorService pool = Executors.newFixedThreadPool(12);
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                results.add(pool.submit(() -> {
                    try {
                        agent.inference().infer("dense", Optional.empty(), heavy);
                        return "ok";
                    } catch (OverloadedException e) {
                        return e.queueFull() ? "full" : "late";
                    }
                }));
            }
            List<String> outcomes = new ArrayList<>();
            for (Future<String> f : results) {
                outcomes.add(f.get());
            }
            pool.shutdown();
            assertThat(outcomes).contains("ok", "full").doesNotContain("late");
        }
    }

    @Test
    void shutdown_drains_requests_already_accepted() throws Exception {
        Path big = SyntheticModels.denseOnnx(Files.createDirectories(dir.resolve("big")), 1024);
        EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withHttp("127.0.0.1", 0).withCoapPort(0).withQueue(1, 16));
        agent.slots().install("dense", "1", big);
        InferRequest heavy = InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {128, 1024}, new float[128 * 1024])));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<String>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            results.add(pool.submit(() -> {
                try {
                    return "ok " + agent.inference().infer("dense", Optional.empty(), heavy).outputs().get(0).shape()[0];
                } catch (OverloadedException e) {
                    return "refused: " + e.getMessage();
                }
            }));
        }
        Thread.sleep(30);
        agent.close();
        List<String> outcomes = new ArrayList<>();
        for (Future<String> f : results) {
            outcomes.add(f.get()); // no request failed any other way: the accepted ones finished
        }
        pool.shutdown();
        assertThat(outcomes).allMatch(o -> o.equals("ok 128") || o.equals("refused: the agent is shutting down"));
        assertThat(outcomes).contains("ok 128");
    }

    @Test
    void unknown_models_and_versions_name_what_is_served() throws IOException {
        Path v1 = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1")));
        try (EdgeAgent agent = agent()) {
            agent.slots().install("cls", "1", v1);
            assertThatThrownBy(() -> agent.inference().infer("other", Optional.empty(), one(1, 2, 3, 4)))
                    .isInstanceOf(ModelNotServedException.class).hasMessage("model 'other' is not served here (models: cls)");
            assertThatThrownBy(() -> agent.inference().infer("cls", Optional.of("9"), one(1, 2, 3, 4)))
                    .isInstanceOf(ModelNotServedException.class).hasMessage("model 'cls' version '9' is not served here (active version: 1)");
        }
    }
}
