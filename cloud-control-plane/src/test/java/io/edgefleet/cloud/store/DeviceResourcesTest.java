package io.edgefleet.cloud.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.protocols.messages.ResourceUsage;
import io.edgefleet.protocols.messages.TelemetryBatch;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import io.edgefleet.testkit.PostgresExtension;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/** Resource reports through the real ingest path into SQLite and PostgreSQL: latest per device, out-of-order batches, the RSS history the memory gate reads. */
class DeviceResourcesTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    static ResourceUsage rss(long bytes) {
        return new ResourceUsage(0.1, 0.2, bytes, 50_000_000, 1_000_000_000, 2_000_000_000, List.of());
    }

    static TelemetryBatch batch(long seq, Instant sentAt, long rss) {
        return new TelemetryBatch(TelemetryBatch.SCHEMA_VERSION, "f", "d", seq, sentAt, List.of(), 0, Optional.of(rss(rss)));
    }

    @ParameterizedTest
    @EnumSource(Stores.class)
    void the_latest_report_wins_an_older_one_never_overwrites_it_and_the_history_keeps_one_sample_per_five_minutes(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            TelemetryRepository telemetry = new TelemetryRepository(store, Duration.ofMinutes(1));
            DeviceRepository devices = new DeviceRepository(store);
            Instant t0 = Instant.parse("2026-11-30T06:00:00Z");
            telemetry.apply(List.of(batch(1, t0, 100)), t0);
            telemetry.apply(List.of(batch(3, t0.plusSeconds(120), 300)), t0.plusSeconds(120));
            telemetry.apply(List.of(batch(2, t0.plusSeconds(60), 200)), t0.plusSeconds(130)); // late, older
            var d = devices.get("f", "d").orElseThrow();
            assertThat(d.resources().orElseThrow().processRssBytes()).isEqualTo(300);
            assertThat(d.resourcesAt()).contains(t0.plusSeconds(120));
            telemetry.apply(List.of(batch(4, t0.plusSeconds(400), 400)), t0.plusSeconds(400));
            assertThat(devices.rssBefore("f", "d", t0.plusSeconds(399))).as("within 5 min of the first: not kept").contains(100L);
            assertThat(devices.rssBefore("f", "d", t0.plusSeconds(401))).contains(400L);
            assertThat(devices.rssBefore("f", "d", t0)).isEmpty();
        }
    }
}
