package io.edgefleet.cloud.drift;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.drift.DriftRepository.WindowScore;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Stores;
import io.edgefleet.protocols.drift.DriftAccumulator;
import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The drift tables on both stores: a real SQLite file and a real PostgreSQL server. */
class DriftRepositoryContractTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Stores.class)
    void references_round_trip_windows_keep_the_first_judgement_and_come_back_newest_first(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            DriftRepository repo = new DriftRepository(store);
            DriftAccumulator acc = new DriftAccumulator();
            for (int i = 0; i < 500; i++) {
                acc.addRows("x", new double[][] {{i, i % 7}});
                acc.addConfidence(i / 500.0);
            }
            ReferenceProfile p = ReferenceProfile.of("samples", acc.stats().orElseThrow(), 10);
            repo.saveReference("m", "1", p, Instant.ofEpochMilli(5));
            repo.saveReference("m", "1", p, Instant.ofEpochMilli(6)); // replaces
            ReferenceProfile back = repo.reference("m", "1").orElseThrow().profile();
            assertThat(back.samples()).isEqualTo(500);
            assertThat(back.inputs().get("x").get(0).edges()).containsExactly(p.inputs().get("x").get(0).edges());
            assertThat(back.inputs().get("x").get(1).expected()).containsExactly(p.inputs().get("x").get(1).expected());
            assertThat(back.confidence()).isPresent();
            assertThat(repo.reference("m", "1").orElseThrow().createdAt()).isEqualTo(Instant.ofEpochMilli(6));
            assertThat(repo.referenced()).containsExactly(List.of("m", "1"));

            repo.saveWindow(new WindowScore("m", "1", Instant.ofEpochMilli(1000), 300, 0.05, 0.02, "x[0]", OptionalDouble.empty(), false));
            repo.saveWindow(new WindowScore("m", "1", Instant.ofEpochMilli(2000), 300, 0.9, 0.4, "x[1]", OptionalDouble.of(0.3), true));
            repo.saveWindow(new WindowScore("m", "1", Instant.ofEpochMilli(2000), 1, 0, 0, "x[0]", OptionalDouble.empty(), false)); // a second judge
            List<WindowScore> recent = repo.recent("m", "1", 5);
            assertThat(recent).extracting(WindowScore::windowStart).containsExactly(Instant.ofEpochMilli(2000), Instant.ofEpochMilli(1000));
            assertThat(recent.get(0).alarm()).as("the first judgement stands").isTrue();
            assertThat(recent.get(0).confidencePsi()).hasValue(0.3);
            assertThat(recent.get(1).confidencePsi()).isEmpty();
            assertThat(repo.recent("m", "1", 1)).hasSize(1);

            assertThat(repo.deleteReference("m", "1")).isTrue();
            assertThat(repo.reference("m", "1")).isEmpty();
            assertThat(repo.recent("m", "1", 5)).isEmpty();
            assertThat(repo.deleteReference("m", "1")).isFalse();
        }
    }
}
