package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.agent.slots.SelfTest;
import io.edgefleet.agent.slots.Watchdog;
import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The agent's slots, inference service and watchdog wired as {@link EdgeAgent} wires them, but on
 * a clock the test steps window by window, with {@link Watchdog#runOnce()} after each step: real
 * models, real runtime, real timing, deterministic windows.
 */
final class SlotRig implements AutoCloseable {
    /** A clock the test moves by hand. */
    static final class StepClock extends Clock {
        private volatile Instant now = Instant.parse("2026-11-29T08:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    final StepClock clock = new StepClock();
    final AgentStore store;
    final ModelSlots slots;
    final InferenceService inference;
    final Watchdog watchdog;
    final Watchdog.Limits limits;
    /** "model: reason" of every automatic rollback. */
    final List<String> rollbacks = new CopyOnWriteArrayList<>();

    SlotRig(Path dataDir, SelfTest.Limits selfTest, Watchdog.Limits limits) {
        this.limits = limits;
        this.store = AgentStore.open(dataDir);
        // identical bytes are verified once per JVM: the soak installs the same healthy file many times
        this.slots = new ModelSlots(dataDir, store, EngineOptions.defaults(), IsolationOptions.defaults().withSharedVerdicts(true), selfTest);
        this.inference = new InferenceService(slots, 1, 64, Duration.ofSeconds(30));
        this.watchdog = new Watchdog(slots, limits, clock);
        watchdog.onRollback((model, reason) -> rollbacks.add(model + ": " + reason));
        inference.observe(watchdog::observe);
        inference.sampleInputs(watchdog::offer);
    }

    /** An {@code x[rows, cols]} FP32 request with small deterministic values. */
    static InferRequest floats(int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i % 13) * 0.01f;
        }
        return InferRequest.of(new InferTensor("x", TensorData.ofFloats(new long[] {rows, cols}, v)));
    }

    /**
     * The rows per request at which an {@code x[rows, size]} MLP of {@code layers} dense layers
     * takes about {@code targetMillis} of model time on this machine now: {@code minBatch} times
     * the smallest whole factor that reaches it, at most {@code maxBatch}. Tests that judge a
     * slowdown in milliseconds against a floor use it so that their verdict does not depend on
     * how fast the machine is (the weights, and so the file, stay the same size).
     */
    static int calibratedBatch(Path dir, int minBatch, int maxBatch, int size, int layers, double targetMillis) throws Exception {
        Path probe = SyntheticModels.mlpOnnx(java.nio.file.Files.createDirectories(dir), minBatch, size, layers);
        double median;
        try (LoadedModel m = Engines.forFile(probe).load(probe, "calibration", EngineOptions.defaults())) {
            List<InferTensor> in = floats(minBatch, size).inputs();
            for (int i = 0; i < 5; i++) {
                m.infer(in);
            }
            double[] millis = new double[31];
            for (int i = 0; i < millis.length; i++) {
                long t0 = System.nanoTime();
                m.infer(in);
                millis[i] = (System.nanoTime() - t0) / 1e6;
            }
            java.util.Arrays.sort(millis);
            median = millis[millis.length / 2];
        }
        int factor = (int) Math.max(1, Math.min(maxBatch / minBatch, Math.ceil(targetMillis / median)));
        System.out.printf(java.util.Locale.ROOT, "calibration: %d layers take %.3f ms at batch %d; batch %d from here%n",
                layers, median, minBatch, minBatch * factor);
        return minBatch * factor;
    }

    /** Sends {@code n} requests one after the other; returns how many were answered (the others failed). */
    int send(String model, int n, InferRequest request) {
        int answered = 0;
        for (int i = 0; i < n; i++) {
            try {
                inference.infer(model, Optional.empty(), request);
                answered++;
            } catch (RuntimeException e) {
                // counted by the caller as "not answered"; what kind of failure it was is the test's business
            }
        }
        return answered;
    }

    /**
     * Lets the window's paired timings finish (in real time a window lasts seconds, far longer than its pairs), then moves
     * the clock past the current latency window and lets the watchdog close it.
     */
    void endWindow() {
        try {
            watchdog.awaitPairs(Duration.ofSeconds(60));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        clock.advance(limits.window());
        watchdog.runOnce();
    }

    /**
     * Waits (at most 30 s) until a rollback was reported (listeners hear it after the swap, on the
     * watchdog's thread), then asserts that one was and that {@code model} serves {@code version}.
     */
    void awaitRollbackTo(String model, String version) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (rollbacks.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(rollbacks).as("a rollback reported within 30 s").isNotEmpty();
        assertThat(slots.activeVersions()).containsEntry(model, version);
    }

    @Override
    public void close() {
        watchdog.close();
        inference.close();
        slots.close();
        store.close();
    }
}
