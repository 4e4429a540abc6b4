package io.edgefleet.cloud.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.access.AuditLog;
import io.edgefleet.cloud.registry.Metadata;
import io.edgefleet.cloud.registry.ModelVersion;
import io.edgefleet.cloud.rollout.RolloutStore;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.LatencyPercentiles;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The repositories' contract, each case on SQLite and on a real PostgreSQL server: the SQL that differs
 * between the two (upserts, generated ids, integer flags, nullable parameters, bytes) gives the same answers.
 */
class StoreContractTest {
    static final Instant T0 = Instant.parse("2026-11-30T08:00:00Z");

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Stores.class)
    void a_model_version_is_written_once_with_its_manifest_bytes_and_deprecated_once(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            ModelRepository models = new ModelRepository(store);
            byte[] manifest = new byte[256];
            for (int i = 0; i < manifest.length; i++) {
                manifest[i] = (byte) i; // every byte value, 0x00 and 0xff included
            }
            ModelVersion v1 = new ModelVersion("kws", "1", ModelVersion.ACTIVE, List.of("rpi4"), Metadata.empty(), List.of(), T0, Optional.of("ops"),
                    Optional.empty());
            assertThat(models.insert(v1, manifest)).isTrue();
            assertThat(models.insert(v1, new byte[] {1})).as("versions are immutable").isFalse();
            assertThat(models.manifest("kws", "1")).hasValueSatisfying(m -> assertThat(m).isEqualTo(manifest));
            assertThat(models.insert(new ModelVersion("kws", "2", ModelVersion.ACTIVE, List.of(), Metadata.empty(), List.of(), T0.plusSeconds(1),
                    Optional.empty(), Optional.empty()), new byte[] {2})).isTrue();
            assertThat(models.latest("kws").orElseThrow().version()).isEqualTo("2");
            assertThat(models.models()).singleElement().satisfies(m -> assertThat(m.versions()).containsExactly("2", "1"));
            assertThat(models.deprecate("kws", "1", T0.plusSeconds(5), "alice", "bad")).isTrue();
            assertThat(models.deprecate("kws", "1", T0.plusSeconds(9), "bob", "worse")).isTrue();
            assertThat(models.version("kws", "1").orElseThrow().deprecation()).hasValueSatisfying(d -> {
                assertThat(d.at()).isEqualTo(T0.plusSeconds(5));
                assertThat(d.by()).isEqualTo("alice");
            });
            assertThat(models.deprecate("kws", "9", T0, "alice", "none")).isFalse();
        }
    }

    @ParameterizedTest
    @EnumSource(Stores.class)
    void a_device_goes_online_and_offline_and_keeps_its_latest_last_seen(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            DeviceRepository devices = new DeviceRepository(store);
            DeviceState on = new DeviceState("f", "d1", true, "0.1", "rpi4", T0, List.of());
            DeviceRepository.StateChange first = devices.applyState(on, T0);
            assertThat(first.isNew()).isTrue();
            assertThat(first.now().online()).isTrue();
            DeviceRepository.StateChange off = devices.applyState(on.offline(), T0.plusSeconds(10));
            assertThat(off.wasOnline()).isTrue();
            assertThat(off.now().online()).isFalse();
            assertThat(off.now().statusChangedAt()).contains(T0.plusSeconds(10));
            store.tx(c -> {
                DeviceRepository.touch(c, "f", "d1", T0.plusSeconds(30));
                DeviceRepository.touch(c, "f", "d1", T0.plusSeconds(20)); // late: last_seen never goes back
                DeviceRepository.touch(c, "f", "d2", T0.plusSeconds(20)); // unknown device: a row
                return null;
            });
            assertThat(devices.get("f", "d1").orElseThrow().lastSeen()).contains(T0.plusSeconds(30));
            DeviceRepository.StateChange back = devices.applyState(on, T0.plusSeconds(25));
            assertThat(back.now().lastSeen()).as("an older state does not move last_seen back").contains(T0.plusSeconds(30));
            assertThat(back.now().online()).isTrue();
            devices.register("f", "d1", List.of("lab"), Optional.empty(), T0);
            assertThat(devices.get("f", "d1").orElseThrow().profile()).as("registering without a profile keeps it").contains("rpi4");
            assertThat(devices.list(Optional.of("f"))).extracting(d -> d.device()).containsExactly("d1", "d2");
        }
    }

    @ParameterizedTest
    @EnumSource(Stores.class)
    void events_and_audit_rows_get_increasing_ids_and_filter_by_subject_prefix_and_actor(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            EventRepository events = new EventRepository(store, Clock.fixed(T0, ZoneOffset.UTC));
            long a = events.record("model.pushed", "kws/1", "ops", Map.of("n", 1)).id();
            long b = events.record("model.pushed", "kwsx/1", null, Map.of()).id();
            assertThat(b).isGreaterThan(a);
            assertThat(events.list(Optional.of("kws/"), 10)).extracting(Event::subject).containsExactly("kws/1");
            assertThat(events.list(Optional.empty(), 1)).extracting(Event::id).containsExactly(b);
            assertThat(events.list(Optional.of("kwsx/1"), 10)).singleElement().satisfies(e -> assertThat(e.actor()).isEmpty());

            AuditLog audit = new AuditLog(store, Clock.fixed(T0, ZoneOffset.UTC));
            long x = audit.append("token", "alice", "POST", "/api/v1/models", "kws", 201, "127.0.0.1").id();
            long y = audit.append("token", "bob", "DELETE", "/api/v1/tokens", "t", 403, "127.0.0.1").id();
            assertThat(y).isGreaterThan(x);
            assertThat(audit.query(Optional.empty(), Optional.empty(), 10)).hasSize(2);
            assertThat(audit.query(Optional.empty(), Optional.of("bob"), 10)).singleElement().satisfies(e -> assertThat(e.status()).isEqualTo(403));
            assertThat(audit.query(Optional.of(T0.plusSeconds(1)), Optional.empty(), 10)).isEmpty();
        }
    }

    @ParameterizedTest
    @EnumSource(Stores.class)
    void a_rollout_device_is_added_once_and_activated_only_when_told(Stores kind) {
        try (CloudStore store = kind.open(dir, PG)) {
            RolloutStore rollouts = new RolloutStore(store);
            store.tx(c -> {
                try (var p = c.prepareStatement("INSERT INTO rollouts (id, model, version, spec, state, wave, created_at, updated_at) "
                        + "VALUES ('ro-1', 'kws', '2', '{}', 'running', 0, 1, 1)")) {
                    p.executeUpdate();
                }
                return null;
            });
            RolloutStore.DeviceRow row = RolloutStore.DeviceRow.joining("f", "d1", "00a", 1, io.edgefleet.cloud.rollout.DeviceState.PENDING, Optional.of("1"),
                    Optional.empty(), Optional.empty(), T0);
            rollouts.addDevices("ro-1", List.of(row));
            rollouts.addDevices("ro-1", List.of(row)); // twice: ignored
            RolloutStore.DeviceRow stored = rollouts.devices("ro-1").get(0);
            assertThat(stored.seq()).as("stamped with the rollout's first change sequence number").isEqualTo(1);
            RolloutStore.DeviceRow sent = stored.withCommand(io.edgefleet.cloud.rollout.DeviceState.COMMANDED, "c1", 1, T0.plusSeconds(1), java.util.OptionalLong.of(7));
            assertThat(rollouts.writeDevice("ro-1", sent, java.util.Set.of())).isTrue();
            assertThat(rollouts.writeDevice("ro-1", sent.withState(io.edgefleet.cloud.rollout.DeviceState.ACTIVATED, Optional.empty(), true, T0.plusSeconds(2)),
                    java.util.Set.of(io.edgefleet.cloud.rollout.DeviceState.ROLLED_BACK))).isTrue();
            assertThat(rollouts.writeDevice("ro-1", sent.withState(io.edgefleet.cloud.rollout.DeviceState.FAILED, Optional.of("late"), false, T0.plusSeconds(3)),
                    java.util.Set.of(io.edgefleet.cloud.rollout.DeviceState.ACTIVATED))).as("a protected state is kept").isFalse();
            assertThat(rollouts.devicesChangedSince("ro-1", 1)).as("only the rows written after sequence number 1")
                    .singleElement().satisfies(d -> {
                        assertThat(d.state()).isEqualTo(io.edgefleet.cloud.rollout.DeviceState.ACTIVATED);
                        assertThat(d.seq()).isEqualTo(3);
                        assertThat(d.commandId()).contains("c1");
                        assertThat(d.commandToken()).hasValue(7);
                    });
            assertThat(rollouts.devicesChangedSince("ro-1", 3)).isEmpty();
            assertThat(rollouts.byCommand("c1")).get().satisfies(o -> assertThat(o.row().state()).isEqualTo(io.edgefleet.cloud.rollout.DeviceState.ACTIVATED));
            assertThat(rollouts.deviceCounts("ro-1")).containsExactly(java.util.Map.entry(io.edgefleet.cloud.rollout.DeviceState.ACTIVATED, 1L));
            List<Long> countAndActivated = store.read(c -> {
                try (var p = c.prepareStatement("SELECT COUNT(*), MAX(activated_at) FROM rollout_devices WHERE rollout = 'ro-1'");
                        var r = p.executeQuery()) {
                    r.next();
                    return List.of(r.getLong(1), r.getLong(2));
                }
            });
            assertThat(countAndActivated).containsExactly(1L, T0.plusSeconds(2).toEpochMilli());
        }
    }

    static TelemetryBatch batch(String device, long seq, long count) {
        TelemetryRecord r = new TelemetryRecord("cls", "1", T0, T0.plusSeconds(10), count, 1, new LatencyPercentiles(1, 2, 3, 4),
                OptionalDouble.of(0.5), 0, 0, 0, Map.of(), Optional.empty(), Map.of("bad-request", 1L));
        return new TelemetryBatch("f", device, seq, T0.plusSeconds(11), List.of(r));
    }

    /**
     * Nothing accepted is lost when ingest transactions run at once: on PostgreSQL they run concurrently on pooled
     * connections and conflict on the same model bucket (serializable isolation; the store runs a conflicting one again),
     * on SQLite one at a time. Redeliveries among them are still dropped.
     */
    @ParameterizedTest
    @EnumSource(Stores.class)
    void concurrent_ingest_transactions_on_one_bucket_lose_nothing_and_count_nothing_twice(Stores kind) throws Exception {
        try (CloudStore store = kind.open(dir, PG)) {
            TelemetryRepository repo = new TelemetryRepository(store, Duration.ofMinutes(1));
            int threads = 8;
            int perThread = 25;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    String device = "d" + t;
                    done.add(pool.submit(() -> {
                        for (int s = 1; s <= perThread; s++) {
                            repo.apply(List.of(batch(device, s, 10)), T0.plusSeconds(20));
                            repo.apply(List.of(batch(device, s, 10)), T0.plusSeconds(21)); // a redelivery
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            Aggregate total = repo.modelTotal("cls", "1", T0.minusSeconds(60), T0.plusSeconds(60));
            assertThat(total.count()).isEqualTo((long) threads * perThread * 10);
            assertThat(total.errors()).isEqualTo((long) threads * perThread);
            assertThat(total.batches()).isEqualTo((long) threads * perThread);
            assertThat(total.clientErrors()).containsExactly(Map.entry("bad-request", (long) threads * perThread));
            assertThat(total.devices()).isEqualTo(threads);
            assertThat(repo.seenBatches()).isEqualTo((long) threads * perThread);
        }
    }
}
