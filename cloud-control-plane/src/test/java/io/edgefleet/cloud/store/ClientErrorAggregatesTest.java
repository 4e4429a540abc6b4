package io.edgefleet.cloud.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.protocols.messages.LatencyPercentiles;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import io.edgefleet.protocols.sql.SqlMigrations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import io.edgefleet.testkit.PostgresExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/** Client errors through the telemetry store on a real SQLite file and a real PostgreSQL server: by kind, per device and model, and across the migration. */
class ClientErrorAggregatesTest {
    static final Instant T0 = Instant.parse("2026-11-29T08:00:00Z");

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    static TelemetryRecord record(String version, long count, long errors, double p95, Map<String, Long> clientErrors) {
        return new TelemetryRecord("cls", version, T0, T0.plusSeconds(10), count, errors, new LatencyPercentiles(p95 / 2, p95, p95, p95),
                OptionalDouble.empty(), 0, 0, 0, Map.of(), Optional.empty(), clientErrors);
    }

    static TelemetryBatch batch(String device, long seq, TelemetryRecord... records) {
        return new TelemetryBatch("f", device, seq, T0.plusSeconds(11), List.of(records));
    }

    @ParameterizedTest
    @EnumSource(Stores.class)
    void client_errors_are_summed_by_kind_and_leave_the_model_error_rate_and_latency_alone(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            TelemetryRepository repo = new TelemetryRepository(store, Duration.ofMinutes(1));
            // d1: 150 requests of which 149 were refused (the field's FP32 -> INT8 case); one answered in 4 ms
            // d2: 100 valid requests, 2 model errors, p95 4 ms; a window of d2 with only refused requests (p95 0)
            repo.apply(List.of(batch("d1", 1, record("2", 150, 0, 4, Map.of("invalid-input", 149L))),
                    batch("d2", 1, record("2", 100, 2, 4, Map.of())),
                    batch("d2", 2, record("2", 10, 0, 0, Map.of("unknown-model", 3L, "bad-request", 7L)))), T0.plusSeconds(12));
            Aggregate total = repo.modelTotal("cls", "2", T0.minusSeconds(60), T0.plusSeconds(60));
            assertThat(total.count()).isEqualTo(260);
            assertThat(total.clientErrorCount()).isEqualTo(159);
            assertThat(total.clientErrors()).containsExactlyInAnyOrderEntriesOf(Map.of("invalid-input", 149L, "unknown-model", 3L, "bad-request", 7L));
            assertThat(total.errors()).isEqualTo(2);
            assertThat(total.errorRate()).as("model errors over the 101 valid requests").isEqualTo(2.0 / 101);
            assertThat(total.clientErrorRate()).isEqualTo(159.0 / 260);
            assertThat(total.p95Ms()).as("the refused-only window does not pull p95 towards 0").isEqualTo(4.0);
            assertThat(total.devices()).isEqualTo(2);

            List<Aggregate> d1 = repo.deviceTotals("f", "d1", T0.minusSeconds(60), T0.plusSeconds(60));
            assertThat(d1).singleElement().satisfies(a -> assertThat(a.clientErrors()).isEqualTo(Map.of("invalid-input", 149L)));
            Aggregate wave = repo.devicesTotal("cls", "2", List.of("f/d1"), T0.minusSeconds(60), T0.plusSeconds(60));
            assertThat(wave.clientErrors()).isEqualTo(Map.of("invalid-input", 149L));
            assertThat(wave.clientErrorRate()).isEqualTo(149.0 / 150);
            assertThat(repo.modelSeries("cls", "2", T0.minusSeconds(60), T0.plusSeconds(60))).singleElement()
                    .satisfies(a -> assertThat(a.clientErrorCount()).isEqualTo(159));

            // a redelivered batch changes nothing, client errors included
            repo.apply(List.of(batch("d1", 1, record("2", 150, 0, 4, Map.of("invalid-input", 149L)))), T0.plusSeconds(13));
            assertThat(repo.modelTotal("cls", "2", T0.minusSeconds(60), T0.plusSeconds(60)).clientErrors()).containsEntry("invalid-input", 149L);
        }
    }

    @Test
    void a_database_written_before_client_errors_migrates_and_its_rows_count_none() throws Exception {
        Files.createDirectories(dir);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cloud.db"))) {
            SqlMigrations.apply(c, CloudStore.class, LegacySchema.SCRIPTS.subList(0, 3));
            try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO telemetry_model (model, version, bucket, count, errors, escalations, non_finite, low_confidence, "
                        + "confidence_sum, confidence_count, p50_sum, p95_sum, p99_sum, latency_weight, max_ms, batches) "
                        + "VALUES ('cls', '1', " + T0.toEpochMilli() + ", 40, 2, 0, 0, 0, 0, 0, 40, 80, 120, 40, 5, 1)");
            }
        }
        try (CloudStore store = CloudStore.open(dir)) {
            TelemetryRepository repo = new TelemetryRepository(store, Duration.ofMinutes(1));
            Aggregate old = repo.modelTotal("cls", "1", T0.minusSeconds(60), T0.plusSeconds(60));
            assertThat(old.count()).isEqualTo(40);
            assertThat(old.clientErrorCount()).isZero();
            assertThat(old.clientErrors()).isEmpty();
            assertThat(old.errorRate()).isEqualTo(0.05);
            assertThat(old.p95Ms()).isEqualTo(2.0);
        }
    }
}
