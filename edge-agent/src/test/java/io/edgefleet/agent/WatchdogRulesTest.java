package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.agent.slots.SelfTest;
import io.edgefleet.agent.slots.Watchdog;
import io.edgefleet.agent.telemetry.Observation;
import io.edgefleet.engines.synth.SyntheticModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog's latency rule, step by step: real slots and activations, observations with chosen
 * latencies, a clock stepped window by window. Floors, minimum samples, sustained windows and the
 * baseline requirement each get a case where they are the only thing between noise and a rollback.
 */
class WatchdogRulesTest {
    @TempDir
    Path dir;
    Path v1;
    Path v2;

    @BeforeEach
    void models() throws Exception {
        v1 = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("v1")));
        v2 = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")));
    }

    private SlotRig rig() {
        return new SlotRig(dir.resolve("data"), SelfTest.Limits.defaults(), Watchdog.Limits.defaults());
    }

    private static void observe(SlotRig rig, String version, int n, double millis) {
        for (int i = 0; i < n; i++) {
            rig.watchdog.observe(new Observation("cls", version, millis, false, OptionalDouble.empty(), false, false, false, Map.of()));
        }
    }

    /** Version 1 active with {@code answers} answers of {@code millis}, then version 2 activated. */
    private static void baselineThenV2(SlotRig rig, Path v1, Path v2, int answers, double millis) {
        rig.slots.install("cls", "1", v1);
        observe(rig, "1", answers, millis);
        rig.slots.install("cls", "2", v2);
    }

    @Test
    void a_near_zero_baseline_is_never_compared_by_a_bare_ratio() {
        try (SlotRig rig = rig()) {
            // the demo's failure: "p95 latency 17.01 ms is over 50.0 times the previous version's 0.26 ms"
            baselineThenV2(rig, v1, v2, 100, 0.01);
            for (int w = 0; w < 6; w++) {
                observe(rig, "2", 30, 1.9); // 190 times the baseline, but within the 2 ms floor
                rig.endWindow();
            }
            Watchdog.BakeStatus b = rig.watchdog.bake("cls").orElseThrow();
            assertThat(b.baselineMedianMillis()).hasValue(0.01);
            assertThat(b.windowsJudged()).isEqualTo(6);
            assertThat(b.violatingInARow()).isZero();
            assertThat(b.rollingBack()).isFalse();
        }
    }

    @Test
    void a_tail_of_slow_answers_does_not_move_the_median() {
        try (SlotRig rig = rig()) {
            baselineThenV2(rig, v1, v2, 100, 0.3);
            for (int w = 0; w < 6; w++) {
                observe(rig, "2", 20, 0.3);
                observe(rig, "2", 10, 17.0); // a third of the answers preempted by a busy neighbour: p95 is 57 times the baseline
                rig.endWindow();
            }
            assertThat(rig.watchdog.bake("cls").orElseThrow().violatingInARow()).isZero();
            assertThat(rig.rollbacks).isEmpty();
        }
    }

    @Test
    void only_sustained_violation_rolls_back_and_sparse_windows_neither_count_nor_break_the_run() throws Exception {
        try (SlotRig rig = rig()) {
            baselineThenV2(rig, v1, v2, 100, 1.0);
            observe(rig, "2", 30, 10.0);
            rig.endWindow();
            observe(rig, "2", 30, 10.0);
            rig.endWindow();
            assertThat(rig.watchdog.bake("cls").orElseThrow().violatingInARow()).isEqualTo(2);
            observe(rig, "2", 30, 1.0); // one good window breaks the run
            rig.endWindow();
            assertThat(rig.watchdog.bake("cls").orElseThrow().violatingInARow()).isZero();
            observe(rig, "2", 30, 10.0);
            rig.endWindow();
            observe(rig, "2", 30, 10.0);
            rig.endWindow();
            observe(rig, "2", 19, 1.0); // too few answers to say anything
            rig.endWindow();
            rig.endWindow(); // no traffic at all
            Watchdog.BakeStatus b = rig.watchdog.bake("cls").orElseThrow();
            assertThat(b.violatingInARow()).isEqualTo(2);
            assertThat(b.windowsJudged()).isEqualTo(5);
            assertThat(rig.slots.activeVersions()).containsEntry("cls", "2");
            observe(rig, "2", 30, 10.0);
            rig.endWindow();
            rig.awaitRollbackTo("cls", "1");
            assertThat(rig.rollbacks).containsExactly("cls: version 2 rolled back to 1: median latency was at least 10.00 ms in each of"
                    + " 3 windows of 10 s in a row, over 3.0 times the previous version's 1.00 ms and more than 2.00 ms above it");
        }
    }

    @Test
    void windows_with_too_few_answers_never_roll_back() {
        try (SlotRig rig = rig()) {
            baselineThenV2(rig, v1, v2, 100, 1.0);
            for (int w = 0; w < 10; w++) {
                observe(rig, "2", 19, 50.0);
                rig.endWindow();
            }
            Watchdog.BakeStatus b = rig.watchdog.bake("cls").orElseThrow();
            assertThat(b.windowsJudged()).isZero();
            assertThat(b.rollingBack()).isFalse();
        }
    }

    @Test
    void a_baseline_of_too_few_answers_is_not_compared_with() {
        try (SlotRig rig = rig()) {
            baselineThenV2(rig, v1, v2, Watchdog.Limits.DEFAULT_MIN_BASELINE_REQUESTS - 1, 1.0);
            for (int w = 0; w < 6; w++) {
                observe(rig, "2", 30, 50.0);
                rig.endWindow();
            }
            Watchdog.BakeStatus b = rig.watchdog.bake("cls").orElseThrow();
            assertThat(b.baselineMedianMillis()).isEmpty();
            assertThat(b.windowsJudged()).isEqualTo(6);
            assertThat(b.rollingBack()).isFalse();
        }
    }

    @Test
    void the_bake_ends_and_with_it_the_watch() {
        try (SlotRig rig = rig()) {
            baselineThenV2(rig, v1, v2, 100, 1.0);
            try (var standby = rig.slots.standby("cls").orElseThrow()) {
                assertThat(standby.version()).as("the version replaced stays loaded for paired timings during the bake").isEqualTo("1");
            }
            rig.clock.advance(Watchdog.Limits.defaults().bake().plusSeconds(1));
            rig.watchdog.runOnce();
            assertThat(rig.watchdog.bake("cls")).isEmpty();
            assertThat(rig.slots.standby("cls")).as("released when the bake ends").isEmpty();
            observe(rig, "2", 100, 50.0);
            assertThat(rig.watchdog.bake("cls")).isEmpty();
            assertThat(rig.slots.activeVersions()).containsEntry("cls", "2");
        }
    }

    @Test
    void limits_whose_latency_trigger_could_never_fire_are_refused() {
        assertThatThrownBy(() -> new Watchdog.Limits(Duration.ofSeconds(20), 20, 0.2, 0.0, 3.0, Duration.ofSeconds(10), 2.0, 3, 50))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("watchdog: 3 windows of 10000 ms do not fit in a bake of 20000 ms, so the latency trigger could never fire");
        assertThat(new Watchdog.Limits(Duration.ofSeconds(15), 20, 0.2, 0.0, 3.0).window()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void pairs_per_window_is_off_or_enough_for_the_sign_test_and_bounded() {
        Watchdog.Limits d = Watchdog.Limits.defaults();
        assertThat(d.withPairsPerWindow(0).pairsPerWindow()).isZero();
        assertThat(d.withPairsPerWindow(Watchdog.MIN_PAIRS).pairsPerWindow()).isEqualTo(Watchdog.MIN_PAIRS);
        assertThat(d.withPairsPerWindow(100).pairsPerWindow()).isEqualTo(100);
        for (int bad : new int[] {-1, 1, Watchdog.MIN_PAIRS - 1, 101}) {
            assertThatThrownBy(() -> d.withPairsPerWindow(bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("watchdog pairs-per-window must be 0 (off) or " + Watchdog.MIN_PAIRS + "..100, got " + bad);
        }
    }
}
