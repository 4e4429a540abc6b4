package io.edgefleet.cloud.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.edgefleet.cloud.drift.DriftRepository.WindowScore;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Event;
import io.edgefleet.cloud.store.EventRepository;
import io.edgefleet.protocols.drift.DriftAccumulator;
import io.edgefleet.protocols.drift.DriftStats;
import io.edgefleet.protocols.drift.FeatureRows;
import io.edgefleet.protocols.drift.FeatureSketch;
import io.edgefleet.protocols.messages.LatencyPercentiles;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drift monitor on a real SQLite store, fed telemetry records whose drift statistics were built by the agent's own
 * code path ({@link FeatureRows} over a request tensor, {@link DriftAccumulator}) and sent through the JSON codec.
 * Streams are seeded; time is a stepped clock.
 */
class DriftMonitorTest {
    static final int FEATURES = 8;
    static final int DEVICES = 2;
    static final int ROWS_PER_DEVICE = 150; // 300 requests a window: above the default minimum of 200
    static final Duration WINDOW = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    CloudStore store;
    EventRepository events;
    DriftRepository repo;
    StepClock clock = new StepClock(Instant.parse("2026-11-30T00:00:00Z"));
    final MessageCodec json = MessageCodec.json();
    long sequence;

    @BeforeEach
    void open() {
        store = CloudStore.open(dir);
        events = new EventRepository(store, clock);
        repo = new DriftRepository(store);
    }

    @AfterEach
    void close() {
        store.close();
    }

    static final class StepClock extends Clock {
        Instant now;

        StepClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    /** One device's window as the agent builds it: one [1, FEATURES] request per row. */
    DriftStats deviceWindow(Random rnd, int rows, double shift, int shiftedFeatures) {
        DriftAccumulator acc = new DriftAccumulator();
        for (int r = 0; r < rows; r++) {
            float[] v = new float[FEATURES];
            for (int f = 0; f < FEATURES; f++) {
                v[f] = (float) (rnd.nextGaussian() + (f < shiftedFeatures ? shift : 0));
            }
            acc.addRows("x", FeatureRows.of(TensorData.ofFloats(new long[] {1, FEATURES}, v)));
            acc.addConfidence(0.6 + 0.4 * rnd.nextDouble());
        }
        return acc.stats().orElseThrow();
    }

    /** Feeds one window from every device (through the wire codec), steps past it and judges. */
    List<WindowScore> window(DriftMonitor m, Random rnd, double shift, int shiftedFeatures) {
        Instant start = clock.now;
        List<TelemetryBatch> batches = new ArrayList<>();
        for (int d = 0; d < DEVICES; d++) {
            TelemetryRecord r = new TelemetryRecord("kws", "1", start, start.plus(WINDOW), ROWS_PER_DEVICE, 0, new LatencyPercentiles(1, 1, 1, 1),
                    OptionalDouble.of(0.8), 0, 0, 0, Map.of(), Optional.empty(), Map.of(), Optional.of(deviceWindow(rnd, ROWS_PER_DEVICE, shift,
                            shiftedFeatures)));
            TelemetryBatch b = new TelemetryBatch("f", "dev-" + d, ++sequence, start.plus(WINDOW), List.of(r));
            batches.add(json.decode(json.encode(b), TelemetryBatch.class));
        }
        m.offer(batches);
        m.offer(batches.subList(0, 1)); // a redelivery: merged once
        clock.now = start.plus(WINDOW);
        assertThat(m.runOnce()).as("nothing is judged before the grace is over").isEmpty();
        clock.now = start.plus(WINDOW).plus(m.settings().grace());
        List<WindowScore> judged = m.runOnce();
        clock.now = start.plus(WINDOW);
        return judged;
    }

    void sampleReference(DriftMonitor m, long seed) {
        DriftAccumulator ref = new DriftAccumulator();
        Random rnd = new Random(seed);
        for (int i = 0; i < 5000; i++) {
            float[] v = new float[FEATURES];
            for (int f = 0; f < FEATURES; f++) {
                v[f] = (float) rnd.nextGaussian();
            }
            ref.addRows("x", FeatureRows.of(TensorData.ofFloats(new long[] {1, FEATURES}, v)));
        }
        m.setReference("kws", "1", ReferenceProfile.of("samples", ref.stats().orElseThrow(), m.settings().bins()), "ops");
    }

    @Test
    void an_undrifted_stream_over_1000_windows_raises_no_alarm_and_breaches_in_under_one_percent_of_windows() {
        DriftMonitor m = new DriftMonitor(repo, events, DriftSettings.defaults(), clock);
        sampleReference(m, 1);
        Random rnd = new Random(2);
        int judged = 0;
        int breaches = 0;
        int alarms = 0;
        double maxSeen = 0;
        double sum = 0;
        for (int w = 0; w < 1000; w++) {
            for (WindowScore s : window(m, rnd, 0, 0)) {
                judged++;
                boolean breach = s.maxPsi() > 0.2 || s.confidencePsi().orElse(0) > 0.2;
                breaches += breach ? 1 : 0;
                alarms += s.alarm() ? 1 : 0;
                maxSeen = Math.max(maxSeen, s.maxPsi());
                sum += s.maxPsi();
                assertThat(s.samples()).isEqualTo(DEVICES * ROWS_PER_DEVICE);
            }
        }
        System.out.printf("undrifted: %d windows judged, %d breaching (%.2f %%), mean worst-feature PSI %.4f, max %.4f%n", judged, breaches,
                100.0 * breaches / judged, sum / judged, maxSeen);
        assertThat(judged).as("the first reference-windows learn the confidence part; the rest are judged").isGreaterThan(950);
        assertThat((double) breaches / judged).as("per-window false-breach rate (docs/drift.md: below 1 %)").isLessThan(0.01);
        assertThat(alarms).as("false alarms over 1,000 windows").isZero();
        assertThat(events.list(Optional.of("kws/1"), 100)).extracting(Event::kind).doesNotContain("model.drift.alarm");
    }

    @Test
    void a_one_sigma_shift_on_two_features_raises_the_alarm_in_exactly_consecutive_windows_and_clears_after_as_many_clean_ones() {
        DriftMonitor m = new DriftMonitor(repo, events, DriftSettings.defaults(), clock);
        sampleReference(m, 3);
        Random rnd = new Random(4);
        for (int w = 0; w < 5; w++) {
            assertThat(window(m, rnd, 0, 0)).allSatisfy(s -> assertThat(s.alarm()).isFalse());
        }
        List<WindowScore> drifted = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            drifted.addAll(window(m, rnd, 1.0, 2));
        }
        assertThat(drifted).hasSize(3);
        assertThat(drifted).allSatisfy(s -> {
            assertThat(s.maxPsi()).as("1 sigma shift: PSI near 1").isGreaterThan(0.5);
            assertThat(s.worstFeature()).isIn("x[0]", "x[1]");
        });
        assertThat(drifted).extracting(WindowScore::alarm).containsExactly(false, false, true);
        assertThat(events.list(Optional.of("kws/1"), 10).get(0).kind()).isEqualTo("model.drift.alarm");
        // the console's per-feature view: the last judged window's PSI of every feature, the two shifted ones over the threshold
        java.util.Map<String, Double> perFeature = m.lastFeaturePsi("kws", "1");
        assertThat(perFeature).hasSize(FEATURES);
        assertThat(perFeature.get("x[0]")).isGreaterThan(0.2).isLessThanOrEqualTo(drifted.get(2).maxPsi());
        assertThat(perFeature.get("x[1]")).isGreaterThan(0.2);
        assertThat(java.util.Collections.max(perFeature.values())).isEqualTo(drifted.get(2).maxPsi());
        assertThat(perFeature.entrySet()).filteredOn(e -> !e.getKey().equals("x[0]") && !e.getKey().equals("x[1]"))
                .allSatisfy(e -> assertThat(e.getValue()).as(e.getKey()).isLessThan(0.2));
        assertThat(m.lastFeaturePsi("kws", "9")).as("a version never judged").isEmpty();
        // the gate's question: the last 3 windows' scores, newest first
        assertThat(repo.recent("kws", "1", 3)).extracting(WindowScore::alarm).containsExactly(true, false, false);
        for (int w = 0; w < 3; w++) {
            window(m, rnd, 0, 0);
        }
        assertThat(repo.recent("kws", "1", 1).get(0).alarm()).isFalse();
        assertThat(events.list(Optional.of("kws/1"), 10).get(0).kind()).isEqualTo("model.drift.cleared");
    }

    @Test
    void without_a_sample_set_the_reference_is_learned_from_the_first_windows_and_a_shift_after_it_is_caught() {
        DriftMonitor m = new DriftMonitor(repo, events, DriftSettings.defaults(), clock);
        Random rnd = new Random(5);
        for (int w = 0; w < 20; w++) {
            assertThat(window(m, rnd, 0, 0)).isEmpty();
        }
        DriftRepository.StoredReference ref = repo.reference("kws", "1").orElseThrow();
        assertThat(ref.profile().source()).isEqualTo("traffic");
        assertThat(ref.profile().samples()).isEqualTo(20L * DEVICES * ROWS_PER_DEVICE);
        assertThat(ref.profile().inputs().get("x")).hasSize(FEATURES);
        assertThat(ref.profile().confidence()).isPresent();
        assertThat(ref.profile().inputs().get("x").get(0).expected()).hasSize(10);
        int raisedAt = -1;
        for (int w = 0; w < 10 && raisedAt < 0; w++) {
            if (window(m, rnd, 1.0, 1).stream().anyMatch(WindowScore::alarm)) {
                raisedAt = w + 1;
            }
        }
        assertThat(raisedAt).as("alarm after consecutive-windows drifted windows").isEqualTo(3);
    }

    @Test
    void a_window_below_the_minimum_samples_is_not_judged_and_does_not_break_a_run() {
        DriftMonitor m = new DriftMonitor(repo, events, new DriftSettings(10, 0.2, 3, 400, 20, Duration.ofSeconds(30), 4096, Duration.ZERO), clock);
        sampleReference(m, 6);
        assertThat(window(m, new Random(7), 1.0, 1)).as("300 values < 400").isEmpty();
        assertThat(repo.recent("kws", "1", 10)).isEmpty();
    }

    @Test
    void agent_windows_merge_into_the_judging_window_and_reach_the_minimum_together() {
        // 400 values needed; each 10 s agent window carries 300: alone never judged, two merged into a 20 s window are
        DriftMonitor m = new DriftMonitor(repo, events, new DriftSettings(10, 0.2, 3, 400, 20, Duration.ofSeconds(30), 4096,
                Duration.ofSeconds(20)), clock);
        sampleReference(m, 9);
        Random rnd = new Random(10);
        List<WindowScore> judged = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            judged.addAll(window(m, rnd, 0, 0));
        }
        clock.now = clock.now.plus(Duration.ofMinutes(1));
        judged.addAll(m.runOnce());
        assertThat(judged).hasSize(2);
        assertThat(judged).allSatisfy(s -> {
            assertThat(s.samples()).isEqualTo(2L * DEVICES * ROWS_PER_DEVICE);
            assertThat(s.windowStart().toEpochMilli() % 20_000).isZero();
        });
    }

    @Test
    void sketches_merged_across_devices_and_windows_match_the_union_of_their_values() {
        Random rnd = new Random(8);
        DriftAccumulator all = new DriftAccumulator();
        DriftAccumulator merged = new DriftAccumulator();
        List<Double> values = new ArrayList<>();
        for (int part = 0; part < 6; part++) {
            DriftAccumulator one = new DriftAccumulator();
            for (int i = 0; i < 500; i++) {
                double v = rnd.nextGaussian() * (part + 1) + part; // parts differ in mean and spread
                values.add(v);
                one.addRows("x", new double[][] {{v}});
                all.addRows("x", new double[][] {{v}});
            }
            merged.merge(json.decode(json.encode(one.stats().orElseThrow()), DriftStats.class));
        }
        FeatureSketch a = all.stats().orElseThrow().inputs().get("x").get(0);
        FeatureSketch b = merged.stats().orElseThrow().inputs().get("x").get(0);
        assertThat(b.count()).isEqualTo(3000);
        assertThat(b.mean()).isCloseTo(a.mean(), within(1e-9));
        assertThat(b.variance()).isCloseTo(a.variance(), within(1e-6 * a.variance()));
        double mean = values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertThat(b.mean()).isCloseTo(mean, within(1e-9));
        List<Double> sorted = values.stream().sorted().toList();
        for (double q : new double[] {0.1, 0.25, 0.5, 0.75, 0.9}) {
            double exact = sorted.get((int) (q * sorted.size()));
            double rankOfMerged = sorted.stream().filter(v -> v <= b.decode().quantile(q)).count() / (double) sorted.size();
            assertThat(rankOfMerged).as("merged digest's %s-quantile, as a rank in the union (exact value %s)", q, exact).isCloseTo(q, within(0.01));
        }
    }

    /** Stays in this class: the PSI arithmetic on hand-made bins. */
    @Test
    void psi_of_identical_shares_is_zero_and_empty_bins_are_floored_at_epsilon() {
        com.tdunning.math.stats.MergingDigest d = new com.tdunning.math.stats.MergingDigest(50);
        for (int i = 0; i < 1000; i++) {
            d.add(i);
        }
        Bins b = Bins.of(d, 10, 499.5, 288);
        assertThat(b.edges()).hasSize(9);
        assertThat(b.psi(d)).isCloseTo(0, within(1e-12));
        com.tdunning.math.stats.MergingDigest above = new com.tdunning.math.stats.MergingDigest(50);
        for (int i = 0; i < 100; i++) {
            above.add(5000 + i);
        }
        // all in the last bin: 9 bins of 0.1 emptied (each (1e-4 - 0.1) ln(1e-4 / 0.1)) plus the last going 0.1 -> 1
        double expected = 9 * (Bins.EPSILON - 0.1) * Math.log(Bins.EPSILON / 0.1) + (1 - 0.1) * Math.log(1 / 0.1);
        assertThat(b.psi(above)).isCloseTo(expected, within(0.02));
    }
}
