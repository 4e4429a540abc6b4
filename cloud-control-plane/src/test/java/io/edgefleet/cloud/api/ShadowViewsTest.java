package io.edgefleet.cloud.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.edgefleet.cloud.rollout.ShadowReadings;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The status's {@code shadow} block fields the console reads: the agreement's bounds and the per-device totals. */
class ShadowViewsTest {
    private static ShadowReadings.Row row(String device, int second, long samples, long agreements, double ratio) {
        return new ShadowReadings.Row(device, Instant.ofEpochSecond(second), Instant.ofEpochSecond(second + 1), "1", "2", samples, agreements, 0, 1,
                OptionalDouble.of(ratio), OptionalDouble.empty());
    }

    @Test
    void totals_carry_the_wilson_bounds_the_gate_judges_by() {
        // 122 of 174 (70.1 %): the gate's upper bound at z = 3.09 is 79.6 % (docs/shadow.md); the lower bound by the same formula
        Map<String, Object> t = ShadowViews.totals(new ShadowReadings.Totals(174, 122, 0, 3, 1, 2, 122 / 174.0, 0.76, 0.2, -0.01));
        assertThat((double) t.get("agreementHigh")).isCloseTo(0.796, within(0.001));
        assertThat((double) t.get("agreementLow")).isCloseTo(0.586, within(0.001)).isLessThan(122 / 174.0);
        Map<String, Object> none = ShadowViews.totals(new ShadowReadings.Totals(0, 0, 0, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN));
        assertThat(none).doesNotContainKeys("agreement", "agreementLow", "agreementHigh", "latencyRatio");
    }

    @Test
    void per_device_totals_add_each_devices_windows_and_only_its_own() {
        Map<String, ShadowReadings.Totals> by = ShadowReadings.perDevice(List.of(row("f/a", 0, 100, 90, 1.0), row("f/b", 0, 50, 10, 3.0),
                row("f/a", 10, 100, 100, 1.2)));
        assertThat(by.keySet()).containsExactly("f/a", "f/b");
        assertThat(by.get("f/a").samples()).isEqualTo(200);
        assertThat(by.get("f/a").agreement()).isEqualTo(0.95);
        assertThat(by.get("f/a").dropped()).isEqualTo(2);
        assertThat(by.get("f/b").agreement()).isEqualTo(0.2);
        assertThat(by.get("f/b").latencyRatio()).isEqualTo(3.0);
    }

    @Test
    void per_device_entries_read_each_row_a_bounded_number_of_times_however_many_devices() {
        // 400 devices x 5 windows: the status of a large shadow wave, built on every console poll. Counting the reads of the
        // rows (not the time): two scans of every row per device would be 400 * 2 * 2000 = 1.6 million reads.
        List<ShadowReadings.Row> data = new java.util.ArrayList<>();
        for (int w = 0; w < 5; w++) {
            for (int d = 0; d < 400; d++) {
                data.add(row("f/d-" + d, w * 10, 10, 9, 1.0));
            }
        }
        java.util.concurrent.atomic.AtomicLong reads = new java.util.concurrent.atomic.AtomicLong();
        List<ShadowReadings.Row> rows = new java.util.AbstractList<>() {
            @Override
            public ShadowReadings.Row get(int i) {
                reads.incrementAndGet();
                return data.get(i);
            }

            @Override
            public int size() {
                return data.size();
            }
        };
        List<Map<String, Object>> devices = ShadowViews.devices(rows);
        assertThat(devices).hasSize(400);
        assertThat(devices.get(7)).containsEntry("device", "f/d-7").containsEntry("windows", 5L).containsEntry("samples", 50L)
                .containsEntry("lastWindowStart", Instant.ofEpochSecond(40).toString()).doesNotContainKey("devices");
        assertThat(reads.get()).as("reads of %d rows", data.size()).isLessThanOrEqualTo(4L * data.size());
    }
}
