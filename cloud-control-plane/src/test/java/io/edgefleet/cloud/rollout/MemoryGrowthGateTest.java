package io.edgefleet.cloud.rollout;

import static io.edgefleet.cloud.rollout.GatesTest.healthy;
import static io.edgefleet.cloud.rollout.GatesTest.once;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.rollout.Gates.Decision;
import io.edgefleet.cloud.rollout.Gates.Verdict;
import io.edgefleet.cloud.rollout.Readings.MemoryPair;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The {@code maxMemoryGrowthRatio} gate as a pure function: paired RSS readings in, a verdict out. */
class MemoryGrowthGateTest {
    static final long MIB = 1L << 20;

    static Readings memory(MemoryPair... pairs) {
        return new Readings(0, Optional.empty(), pairs.length, 0, healthy(100), Optional.of("1"), Optional.of(healthy(100)), 0, 0,
                List.of(pairs));
    }

    @Test
    void a_version_that_doubles_the_agents_memory_fails_and_the_reason_names_ratio_growth_and_devices() {
        Decision d = once("{\"maxMemoryGrowthRatio\": 1.5}", memory(new MemoryPair("f/a", 200 * MIB, 420 * MIB),
                new MemoryPair("f/b", 210 * MIB, 400 * MIB), new MemoryPair("f/c", 190 * MIB, 410 * MIB)));
        assertThat(d.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(d.reason()).startsWith("agent memory grew 2.10x (median over 3 device(s), +220 MiB) after the update (max 1.50x and +64 MiB)");
        assertThat(d.detail()).containsEntry("memoryPairs", 3).containsEntry("memoryGrowthRatio", 2.1);
    }

    @Test
    void one_device_caught_before_a_gc_does_not_move_the_median() {
        Decision d = once("{\"maxMemoryGrowthRatio\": 1.5}", memory(new MemoryPair("f/a", 200 * MIB, 600 * MIB),
                new MemoryPair("f/b", 210 * MIB, 215 * MIB), new MemoryPair("f/c", 190 * MIB, 200 * MIB)));
        assertThat(d.verdict()).isEqualTo(Verdict.PASS);
    }

    @Test
    void a_large_ratio_of_a_small_agent_is_under_the_floor_and_passes() {
        Decision d = once("{\"maxMemoryGrowthRatio\": 1.5}", memory(new MemoryPair("f/a", 40 * MIB, 90 * MIB)));
        assertThat(d.detail().get("memoryGrowthRatio")).isEqualTo(2.25);
        assertThat(d.verdict()).as("+50 MiB is under the 64 MiB floor").isEqualTo(Verdict.PASS);
    }

    @Test
    void without_paired_reports_the_gate_is_not_judged_and_does_not_hold_the_wave() {
        Decision d = once("{\"maxMemoryGrowthRatio\": 1.5}", memory());
        assertThat(d.verdict()).isEqualTo(Verdict.PASS);
        assertThat(d.detail().get("notJudged")).asString().contains("maxMemoryGrowthRatio");
    }

    @Test
    void a_ratio_below_one_is_refused_with_the_rule() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> GatesTest.gates("{\"maxMemoryGrowthRatio\": 0.9}"))
                .hasStackTraceContaining("gates.maxMemoryGrowthRatio must be a ratio >= 1");
    }
}
