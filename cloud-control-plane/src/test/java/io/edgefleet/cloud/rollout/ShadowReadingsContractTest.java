package io.edgefleet.cloud.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Stores;
import io.edgefleet.protocols.messages.LatencyPercentiles;
import io.edgefleet.protocols.messages.ShadowStats;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The shadow readings table (V13) on both stores: a real SQLite file and a real PostgreSQL server. */
class ShadowReadingsContractTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    @TempDir
    Path dir;

    static final java.util.Set<String> MEMBERS = java.util.Set.of("f/d1", "f/d2", "f/d3");

    static TelemetryBatch batch(String device, long seq, long windowStartMillis, Optional<ShadowStats> shadow) {
        return batch("m", device, seq, windowStartMillis, shadow);
    }

    static TelemetryBatch batch(String model, String device, long seq, long windowStartMillis, Optional<ShadowStats> shadow) {
        TelemetryRecord r = new TelemetryRecord(model, "1", Instant.ofEpochMilli(windowStartMillis), Instant.ofEpochMilli(windowStartMillis + 1000), 50,
                0, new LatencyPercentiles(1, 2, 3, 4), OptionalDouble.empty(), 0, 0, 0, Map.of()).withShadow(shadow);
        return new TelemetryBatch(TelemetryBatch.SCHEMA_VERSION, "f", device, seq, Instant.ofEpochMilli(windowStartMillis + 1000), List.of(r), 0);
    }

    static Optional<ShadowStats> stats(String rollout, long samples, long agreements, double ratio, OptionalDouble diff) {
        return Optional.of(new ShadowStats(Optional.of(rollout), "2", samples, agreements, 0, 1, OptionalDouble.of(ratio), diff, OptionalDouble.of(2.0)));
    }

    @ParameterizedTest
    @EnumSource(Stores.class)
    void readings_are_kept_once_per_device_window_and_totalled_per_rollout(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            ShadowReadings repo = new ShadowReadings(store);
            repo.record(List.of(batch("d1", 1, 0, stats("ro-1", 100, 90, 1.2, OptionalDouble.of(0.1))),
                    batch("d2", 1, 0, stats("ro-1", 300, 297, 1.0, OptionalDouble.empty())),
                    batch("d3", 1, 0, Optional.empty()), // no shadow: nothing stored
                    batch("d1", 2, 1000, stats("ro-2", 10, 10, 3.0, OptionalDouble.empty()))));
            repo.record(List.of(batch("d1", 1, 0, stats("ro-1", 1, 0, 9.0, OptionalDouble.empty())))); // a redelivery: the first stands
            List<ShadowReadings.Row> rows = repo.rows("ro-1", "m", "2", MEMBERS);
            assertThat(rows).extracting(ShadowReadings.Row::device).containsExactly("f/d1", "f/d2");
            assertThat(rows.get(0).confidenceDiff()).hasValue(0.1);
            assertThat(rows.get(1).confidenceDiff()).isEmpty();
            ShadowReadings.Totals t = repo.totals("ro-1", "m", "2", MEMBERS);
            assertThat(t.samples()).isEqualTo(400);
            assertThat(t.agreements()).isEqualTo(387);
            assertThat(t.dropped()).isEqualTo(2);
            assertThat(t.devices()).isEqualTo(2);
            assertThat(t.latencyRatio()).as("weighted median: d2's 300 samples outweigh d1's 100").isEqualTo(1.0);
            assertThat(t.activeMillis()).isEqualTo(2.0);
            assertThat(t.confidenceDiff()).isEqualTo(0.1);
            assertThat(repo.totals("ro-2", "m", "2", MEMBERS).samples()).isEqualTo(10);
            assertThat(repo.totals("ro-3", "m", "2", MEMBERS).samples()).isZero();
            assertThat(Double.isNaN(repo.totals("ro-3", "m", "2", MEMBERS).agreement())).isTrue();
        }
    }

    /**
     * A device outside the rollout naming it, and a reading of another model naming it, neither pass nor fail it: with
     * them counted, one stranger's 10,000 agreeing samples would pass the wave alone, or one non-finite answer fail it.
     * Absurd counts do not wrap the totals negative.
     */
    @ParameterizedTest
    @EnumSource(Stores.class)
    void only_the_rollouts_own_devices_and_model_count(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            ShadowReadings repo = new ShadowReadings(store);
            repo.record(List.of(batch("d1", 1, 0, stats("ro-1", 10, 5, 1.0, OptionalDouble.empty())),
                    batch("stranger", 1, 0, stats("ro-1", 10_000, 10_000, 1.0, OptionalDouble.empty())),
                    batch("stranger", 2, 1000, Optional.of(new ShadowStats(Optional.of("ro-1"), "2", 1, 0, 1, 0, OptionalDouble.of(50.0),
                            OptionalDouble.empty(), OptionalDouble.of(100.0)))),
                    batch("other-model", "d2", 1, 0, stats("ro-1", 10_000, 10_000, 1.0, OptionalDouble.empty()))));
            ShadowReadings.Totals t = repo.totals("ro-1", "m", "2", MEMBERS);
            assertThat(t.samples()).isEqualTo(10);
            assertThat(t.agreements()).isEqualTo(5);
            assertThat(t.nonFinite()).isZero();
            assertThat(t.devices()).isEqualTo(1);
            assertThat(t.activeMillis()).isEqualTo(2.0);
            assertThat(repo.rows("ro-1", "m", "2", MEMBERS)).extracting(ShadowReadings.Row::device).containsExactly("f/d1");

            repo.record(List.of(batch("d2", 2, 0, stats("ro-1", Long.MAX_VALUE, Long.MAX_VALUE, 1.0, OptionalDouble.empty())),
                    batch("d3", 2, 0, stats("ro-1", Long.MAX_VALUE, 0, 1.0, OptionalDouble.empty()))));
            ShadowReadings.Totals huge = repo.totals("ro-1", "m", "2", MEMBERS);
            assertThat(huge.samples()).as("held at the maximum, not wrapped negative").isEqualTo(Long.MAX_VALUE);
            assertThat(huge.agreement()).isBetween(0.0, 1.0);
        }
    }
}
