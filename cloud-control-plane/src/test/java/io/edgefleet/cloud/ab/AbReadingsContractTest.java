package io.edgefleet.cloud.ab;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Stores;
import io.edgefleet.protocols.messages.LatencyPercentiles;
import io.edgefleet.protocols.messages.SplitStats;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The A/B readings (V14) with their feedback counts (V15) on both stores: a real SQLite file and a real PostgreSQL server. */
class AbReadingsContractTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    @TempDir
    Path dir;

    static TelemetryBatch batch(String device, long seq, long windowStartMillis, String version, long count, SplitStats split) {
        TelemetryRecord r = new TelemetryRecord("m", version, Instant.ofEpochMilli(windowStartMillis), Instant.ofEpochMilli(windowStartMillis + 1000),
                count, 0, new LatencyPercentiles(1, 2, 3, 4), OptionalDouble.empty(), 0, 0, 0, Map.of()).withSplit(Optional.of(split));
        return new TelemetryBatch(TelemetryBatch.SCHEMA_VERSION, "f", device, seq, Instant.ofEpochMilli(windowStartMillis + 1000), List.of(r), 0);
    }

    @ParameterizedTest
    @EnumSource(Stores.class)
    void labelled_and_correct_are_kept_once_per_window_and_totalled_per_arm(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            Experiments ex = new Experiments(store, null, null, null, null, Clock.systemUTC());
            ex.record(List.of(
                    batch("d1", 1, 0, "1", 100, new SplitStats("ab-1", "a", 100, 2, 500, 2600, 98, 88, 80, 40, 36)),
                    batch("d2", 1, 0, "2", 30, new SplitStats("ab-1", "b", 30, 0, 150, 800, 30, 27, 25, 12, 7)),
                    // labels that came back after the arm's last request: a window without requests
                    batch("d2", 2, 1000, "2", 0, new SplitStats("ab-1", "b", 0, 0, 0, 0, 0, 0, 0, 5, 5)),
                    // an older agent: no feedback counts
                    batch("d3", 1, 0, "1", 10, new SplitStats("ab-1", "a", 10, 0, 50, 260, 10, 9, 8))));
            // a redelivered window is kept once: its first reading stands
            ex.record(List.of(batch("d1", 1, 0, "1", 100, new SplitStats("ab-1", "a", 100, 2, 500, 2600, 98, 88, 80, 99, 99))));
            ArmTotals a = ex.totals("ab-1", "a");
            ArmTotals b = ex.totals("ab-1", "b");
            assertThat(a.requests()).isEqualTo(110);
            assertThat(a.labelled()).isEqualTo(40);
            assertThat(a.correct()).isEqualTo(36);
            assertThat(a.devices()).isEqualTo(2);
            assertThat(b.requests()).isEqualTo(30);
            assertThat(b.labelled()).isEqualTo(17);
            assertThat(b.correct()).isEqualTo(12);
            assertThat(ex.totals("ab-2", "a")).isEqualTo(ArmTotals.EMPTY);
        }
    }

    /** A reading written without the V15 columns (by a control plane of the release before) counts as nothing labelled. */
    @ParameterizedTest
    @EnumSource(Stores.class)
    void readings_written_without_the_feedback_columns_count_as_unlabelled(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            store.tx(c -> {
                try (Statement s = c.createStatement()) {
                    s.execute("INSERT INTO ab_readings (experiment_id, fleet, device, window_start, arm, version, requests, errors, latency_sum, "
                            + "latency_sum_sq, confidence_n, confidence_sum, confidence_sum_sq) VALUES ('ab-old', 'f', 'd1', 0, 'a', '1', 5, 0, 5, 5, 0, 0, 0)");
                }
                return null;
            });
            ArmTotals a = new Experiments(store, null, null, null, null, Clock.systemUTC()).totals("ab-old", "a");
            assertThat(a.requests()).isEqualTo(5);
            assertThat(a.labelled()).isZero();
            assertThat(a.correct()).isZero();
        }
    }

    /**
     * A hostile device's counts, each valid in its window, whose sum overflows a long: the totals saturate instead of the
     * integer SUM failing (SQLite "integer overflow", a PostgreSQL numeric beyond a long), so the experiment's comparison
     * keeps working; the per-window rules (correct at most labelled, errors at most requests) still hold for the totals.
     */
    @ParameterizedTest
    @EnumSource(Stores.class)
    void counts_whose_sum_overflows_a_long_saturate_instead_of_failing_the_totals(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            Experiments ex = new Experiments(store, null, null, null, null, Clock.systemUTC());
            long huge = Long.MAX_VALUE - 1;
            // The wire refuses such counts now (TelemetryRecord.MAX_COUNT) ...
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new SplitStats("ab-1", "a", huge, huge, 0, 0, 0, 0, 0, huge, huge))
                    .isInstanceOf(io.edgefleet.protocols.ProtocolException.class).hasMessageContaining("a window may count");
            // ... but rows stored before it (an older cloud) still must not break the totals: written here as it wrote them
            store.tx(c -> {
                try (java.sql.PreparedStatement p = c.prepareStatement("INSERT INTO ab_readings (experiment_id, fleet, device, window_start, arm,"
                        + " version, requests, errors, latency_sum, latency_sum_sq, confidence_n, confidence_sum, confidence_sum_sq, labelled, correct)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                    for (long window : new long[] {0, 1000}) {
                        io.edgefleet.cloud.store.Jdbc.bind(p, "ab-1", "f", "evil", java.time.Instant.ofEpochMilli(window), "a", "1", huge, huge,
                                0.0, 0.0, 0L, 0.0, 0.0, huge, huge).executeUpdate();
                    }
                }
                return null;
            });
            ex.record(List.of(batch("d1", 1, 0, "2", 30, new SplitStats("ab-1", "b", 30, 0, 150, 800, 30, 27, 25, 12, 7))));
            ArmTotals a = ex.totals("ab-1", "a");
            assertThat(a.requests()).isEqualTo(Long.MAX_VALUE);
            assertThat(a.errors()).isLessThanOrEqualTo(a.requests());
            assertThat(a.labelled()).isEqualTo(Long.MAX_VALUE);
            assertThat(a.correct()).isLessThanOrEqualTo(a.labelled());
            ArmTotals b = ex.totals("ab-1", "b");
            assertThat(b.requests()).isEqualTo(30);
            assertThat(b.labelled()).isEqualTo(12);
            assertThat(b.correct()).isEqualTo(7);
            // the comparison of the two arms is computed, not thrown
            assertThat(Comparison.toJson(a, b, 0.95, 100, 10).toString()).contains("accuracy");
        }
    }

    /**
     * A device outside the experiment sends split records naming it (any device can name any experiment id, and the records
     * are stored): the experiment's comparison counts only its own devices' readings, so the outsider cannot skew accuracy.
     */
    @ParameterizedTest
    @EnumSource(Stores.class)
    void an_outsiders_readings_do_not_count_in_the_experiments_totals(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            Experiments ex = new Experiments(store, null, null, null, null, Clock.systemUTC());
            ex.record(List.of(
                    batch("d1", 1, 0, "1", 100, new SplitStats("ab-1", "a", 100, 2, 500, 2600, 98, 88, 80, 40, 36)),
                    batch("d2", 1, 0, "2", 30, new SplitStats("ab-1", "b", 30, 0, 150, 800, 30, 27, 25, 12, 7)),
                    batch("evil", 1, 0, "2", 1000, new SplitStats("ab-1", "b", 1000, 0, 0, 0, 0, 0, 0, 1000, 1000))));
            Experiment e = new Experiment("ab-1", "m", "1", "2", 0.5, "share", List.of("f/d1", "f/d2"), Experiment.RUNNING, Instant.EPOCH,
                    Optional.empty());
            ArmTotals a = ex.totals(e, "a");
            ArmTotals b = ex.totals(e, "b");
            assertThat(a.requests()).isEqualTo(100);
            assertThat(a.labelled()).isEqualTo(40);
            assertThat(a.correct()).isEqualTo(36);
            assertThat(a.devices()).isEqualTo(1);
            assertThat(b.requests()).isEqualTo(30);
            assertThat(b.labelled()).isEqualTo(12);
            assertThat(b.correct()).isEqualTo(7);
            assertThat(b.devices()).isEqualTo(1);
            // every device's readings, the outsider's too, without the experiment's device list
            assertThat(ex.totals("ab-1", "b").labelled()).isEqualTo(1012);
        }
    }

    /**
     * The rollouts' refusal while an experiment splits a model ({@code RolloutEngine.alsoRefuse}; end to end with real
     * agents in the slow {@code AbExperimentTest}): only a running experiment of that model refuses, naming itself.
     */
    @ParameterizedTest
    @EnumSource(Stores.class)
    void a_running_experiment_blocks_a_rollout_of_its_model_only(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            Experiments ex = new Experiments(store, null, null, null, null, Clock.systemUTC());
            assertThat(ex.blocksRollout("clf")).isEmpty();
            store.tx(c -> {
                try (Statement s = c.createStatement()) {
                    s.execute("INSERT INTO ab_experiments (id, model, version_a, version_b, share, split_by, devices, state, created_at) "
                            + "VALUES ('ab-old', 'clf', '1', '2', 0.5, 'share', 'f/d1', 'stopped', 1)");
                    s.execute("INSERT INTO ab_experiments (id, model, version_a, version_b, share, split_by, devices, state, created_at) "
                            + "VALUES ('ab-live', 'clf', '1', '3', 0.2, 'key', 'f/d1,f/d2', 'running', 2)");
                }
                return null;
            });
            Optional<io.edgefleet.cloud.rollout.RolloutException.Conflict> why = ex.blocksRollout("clf");
            assertThat(why).isPresent();
            assertThat(why.get().title()).isEqualTo("Experiment running");
            assertThat(why.get().getMessage()).contains("A/B experiment ab-live", "between 1 and 3", "on 2 device(s)",
                    "POST /api/v1/experiments/ab-live/stop").doesNotContain("ab-old");
            assertThat(why.get().concurrent()).as("retrying does not help: stopping the experiment does").isFalse();
            assertThat(ex.blocksRollout("other")).as("another model's rollout is free").isEmpty();
        }
    }

}
