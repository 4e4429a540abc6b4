package io.edgefleet.agent.split;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.agent.slots.SelfTest;
import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.SplitStats;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.Parameters;
import io.edgefleet.protocols.oip.TensorData;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import java.nio.file.Path;
import java.time.Instant;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The A/B split against real ONNX Runtime models (two 2-class classifiers; arm B's logits scaled up, so it is surer):
 * share within a binomial tolerance, sticky keys, per-arm sums, and every request back on arm A after a stop.
 */
class SplitRouterTest {
    @TempDir
    Path dir;
    AgentStore store;
    ModelSlots slots;
    InferenceService inference;
    SplitRouter router;
    final Random random = new Random(20);

    @BeforeEach
    void setUp() {
        store = AgentStore.open(dir.resolve("data"));
        slots = new ModelSlots(dir.resolve("data"), store, EngineOptions.defaults(), IsolationOptions.defaults().withSharedVerdicts(true),
                SelfTest.Limits.defaults());
        inference = new InferenceService(slots, 1, 64, Duration.ofSeconds(30));
        slots.install("clf", "v1", SyntheticModels.rotatedClassifierOnnx(dir, "v1.onnx", 0, 1));
        slots.loadArmB("clf", "v2", SyntheticModels.rotatedClassifierOnnx(dir, "v2.onnx", 0, 4));
        router = new SplitRouter(slots);
        inference.split(router);
    }

    @AfterEach
    void tearDown() {
        inference.close();
        slots.close();
        store.close();
    }

    private InferRequest request(Optional<String> key) {
        InferTensor x = new InferTensor("x", TensorData.ofFloats(new long[] {1, 2}, (float) random.nextGaussian(), (float) random.nextGaussian()));
        return new InferRequest(Optional.empty(), key.map(k -> Parameters.of(SplitRouter.KEY_PARAMETER, k)).orElse(Parameters.EMPTY),
                List.of(x), List.of());
    }

    @Test
    void splits_by_share_within_a_binomial_tolerance_and_both_arms_answer_naming_their_arm() {
        router.start(new SplitRouter.Experiment("exp-1", "clf", "v2", 0.2, SplitRouter.SplitBy.SHARE));
        int n = 2000;
        int b = 0;
        for (int i = 0; i < n; i++) {
            InferResponse r = inference.infer("clf", Optional.empty(), request(Optional.empty()));
            String arm = r.parameters().get("edgefleet.arm").orElseThrow().toString();
            assertThat(r.modelVersion()).contains(arm.equals("b") ? "v2" : "v1");
            assertThat(r.parameters().get("edgefleet.experiment")).contains("exp-1");
            b += arm.equals("b") ? 1 : 0;
        }
        double sd = Math.sqrt(n * 0.2 * 0.8); // 17.9: 5 sd either side fails a correct split about once in 1.7 million runs
        assertThat((double) b).isBetween(n * 0.2 - 5 * sd, n * 0.2 + 5 * sd);

        SplitStats a = router.drain("clf", "v1").orElseThrow();
        SplitStats bs = router.drain("clf", "v2").orElseThrow();
        assertThat(a.arm()).isEqualTo("a");
        assertThat(bs.arm()).isEqualTo("b");
        assertThat(bs.requests()).isEqualTo(b);
        assertThat(a.requests()).isEqualTo(n - b);
        assertThat(a.errors() + bs.errors()).isZero();
        assertThat(a.confidenceCount()).isEqualTo(a.requests());
        assertThat(bs.confidenceSum() / bs.confidenceCount()).isGreaterThan(a.confidenceSum() / a.confidenceCount()); // scaled logits: surer
        assertThat(a.latencySumMillis()).isPositive();
        assertThat(router.drain("clf", "v1")).isEmpty(); // drained: the next window starts from zero
    }

    /**
     * One experiment ends and the next starts on the same model before the telemetry window goes out: arm A (the same
     * version in both) keeps each experiment's counts apart; the ended one's go out first, the new one's in the next
     * window, none lost (the new experiment's first request used to replace the ended one's undrained counts).
     */
    @Test
    void an_ended_experiments_last_counts_are_not_lost_when_the_next_starts_before_the_window_goes_out() {
        router.start(new SplitRouter.Experiment("exp-old", "clf", "v2", 0.0, SplitRouter.SplitBy.SHARE));
        for (int i = 0; i < 3; i++) {
            assertThat(inference.infer("clf", Optional.empty(), request(Optional.empty())).modelVersion()).contains("v1");
        }
        assertThat(router.stop("clf", "exp-old")).isTrue();
        router.start(new SplitRouter.Experiment("exp-new", "clf", "v2", 0.0, SplitRouter.SplitBy.SHARE));
        for (int i = 0; i < 2; i++) {
            inference.infer("clf", Optional.empty(), request(Optional.empty()));
        }
        SplitStats first = router.drain("clf", "v1").orElseThrow();
        assertThat(first.experiment()).isEqualTo("exp-old");
        assertThat(first.requests()).isEqualTo(3);
        assertThat(router.pending()).as("the new experiment's counts wait for the next window").contains(List.of("clf", "v1"));
        SplitStats next = router.drain("clf", "v1").orElseThrow();
        assertThat(next.experiment()).isEqualTo("exp-new");
        assertThat(next.requests()).isEqualTo(2);
        assertThat(router.drain("clf", "v1")).isEmpty();
        assertThat(router.pending()).isEmpty();
    }

    @Test
    void a_client_key_always_gets_the_same_arm_and_keys_split_by_share() {
        router.start(new SplitRouter.Experiment("exp-2", "clf", "v2", 0.3, SplitRouter.SplitBy.KEY));
        Map<String, String> armOf = new HashMap<>();
        int keys = 400;
        for (int round = 0; round < 3; round++) {
            for (int k = 0; k < keys; k++) {
                String key = "client-" + k;
                String arm = inference.infer("clf", Optional.empty(), request(Optional.of(key))).parameters().get("edgefleet.arm")
                        .orElseThrow().toString();
                String first = armOf.putIfAbsent(key, arm);
                assertThat(first == null ? arm : first).as("arm of %s", key).isEqualTo(arm);
                assertThat(arm).isEqualTo(SplitRouter.bucket("exp-2", key) < 0.3 ? "b" : "a");
            }
        }
        long inB = armOf.values().stream().filter("b"::equals).count();
        double sd = Math.sqrt(keys * 0.3 * 0.7);
        assertThat((double) inB).isBetween(keys * 0.3 - 5 * sd, keys * 0.3 + 5 * sd);
    }

    @Test
    void the_key_hash_is_stable_and_uniform() {
        // the same on every JVM: SHA-256 of "exp-2\0client-7", its first 53 bits as a fraction
        assertThat(SplitRouter.bucket("exp-2", "client-7")).isEqualTo(SplitRouter.bucket("exp-2", "client-7"));
        assertThat(SplitRouter.bucket("exp-2", "client-7")).isNotEqualTo(SplitRouter.bucket("exp-3", "client-7"));
        int below = 0;
        for (int i = 0; i < 10_000; i++) {
            double u = SplitRouter.bucket("e", "k" + i);
            assertThat(u).isGreaterThanOrEqualTo(0).isLessThan(1);
            below += u < 0.5 ? 1 : 0;
        }
        assertThat((double) below).isBetween(5000 - 5 * 50.0, 5000 + 5 * 50.0);
    }

    @Test
    void after_a_stop_every_request_goes_to_arm_a_and_a_named_version_is_never_split() {
        router.start(new SplitRouter.Experiment("exp-3", "clf", "v2", 1.0, SplitRouter.SplitBy.SHARE));
        assertThat(inference.infer("clf", Optional.empty(), request(Optional.empty())).modelVersion()).contains("v2");
        assertThat(inference.infer("clf", Optional.of("v1"), request(Optional.empty())).modelVersion()).contains("v1");
        assertThat(router.stop("clf", "other")).isFalse();
        assertThat(router.stop("clf", "exp-3")).isTrue();
        for (int i = 0; i < 50; i++) {
            InferResponse r = inference.infer("clf", Optional.empty(), request(Optional.empty()));
            assertThat(r.modelVersion()).contains("v1");
            assertThat(r.parameters().get("edgefleet.arm")).isEmpty();
        }
    }

    /**
     * A label that comes back after its arm's last request still reaches the cloud: the window that closes next carries a
     * record of the arm's version with no requests ({@code count} 0) and the label in its {@code split}.
     */
    @Test
    void labels_after_the_arms_last_request_go_out_in_a_window_without_requests() {
        router.start(new SplitRouter.Experiment("exp-4", "clf", "v2", 1.0, SplitRouter.SplitBy.SHARE));
        InferResponse r = inference.infer("clf", Optional.empty(), request(Optional.empty()).withId("late-1"));
        assertThat(r.modelVersion()).contains("v2");
        Instant[] now = {Instant.parse("2026-11-30T12:00:00Z")};
        java.time.Clock clock = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now[0];
            }
        };
        io.edgefleet.agent.telemetry.TelemetryRecorder recorder = new io.edgefleet.agent.telemetry.TelemetryRecorder(store, "f", "d",
                Duration.ofSeconds(1), 100, clock);
        recorder.splitStats(router::drain);
        recorder.splitPending(router::pending);
        assertThat(router.drain("clf", "v2").orElseThrow().requests()).isEqualTo(1); // the request's window went out before
        router.feedback("clf", "late-1", java.util.OptionalInt.empty(), Optional.of(true));
        now[0] = now[0].plusSeconds(1);
        assertThat(recorder.runOnce()).isPresent();
        var rows = store.peekOutbox(10);
        TelemetryBatch b = io.edgefleet.protocols.messages.MessageCodec.json().decode(rows.get(rows.size() - 1).getValue(), TelemetryBatch.class);
        assertThat(b.records()).hasSize(1);
        TelemetryRecord rec = b.records().get(0);
        assertThat(rec.version()).isEqualTo("v2");
        assertThat(rec.count()).isZero();
        SplitStats s = rec.split().orElseThrow();
        assertThat(s.requests()).isZero();
        assertThat(s.labelled()).isEqualTo(1);
        assertThat(s.correct()).isEqualTo(1);
        assertThat(s.experiment()).isEqualTo("exp-4");
        assertThat(router.pending()).isEmpty();
        now[0] = now[0].plusSeconds(1);
        assertThat(recorder.runOnce()).as("nothing more to report").isEmpty();
    }
}
