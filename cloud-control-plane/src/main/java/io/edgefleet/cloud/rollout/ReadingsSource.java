package io.edgefleet.cloud.rollout;

import io.edgefleet.cloud.fleet.DeviceRecord;
import io.edgefleet.cloud.fleet.FleetRegistry;
import io.edgefleet.cloud.rollout.RolloutStore.DeviceRow;
import io.edgefleet.cloud.rollout.RolloutStore.RolloutRow;
import io.edgefleet.cloud.store.Aggregate;
import io.edgefleet.cloud.store.TelemetryRepository;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Reads a wave's {@link Readings} from the telemetry aggregates and the fleet registry: the
 * updated devices' telemetry on the new version since the rollout was created, against a
 * baseline of the rollout's devices still pending on their previous version over the same window.
 * Called on the rollout engine's thread and by status requests; it only reads: the fleet's devices in one
 * statement (not one per device), the telemetry in one or two aggregate queries.
 */
final class ReadingsSource {
    private final TelemetryRepository telemetry;
    private final FleetRegistry fleet;
    private volatile DriftReadings drift = DriftReadings.NONE;

    ReadingsSource(TelemetryRepository telemetry, FleetRegistry fleet) {
        this.telemetry = telemetry;
        this.fleet = fleet;
    }

    Readings read(RolloutRow r, List<DeviceRow> all, List<DeviceRow> wave, Instant now) {
        return read(r, all, wave, now, byKey(fleet.all()));
    }

    /** Where the drift gate reads a new version's drift (issue 20); {@link DriftReadings#NONE} until set. */
    void drift(DriftReadings d) {
        this.drift = d;
    }

    /** Every device of the fleet registry by {@code fleet/device}. */
    static Map<String, DeviceRecord> byKey(List<DeviceRecord> devices) {
        return devices.stream().collect(Collectors.toMap(DeviceRecord::key, d -> d, (a, b) -> a));
    }

    /** As {@link #read(RolloutRow, List, List, Instant)} with the fleet registry's devices already read ({@code records}, by key). */
    Readings read(RolloutRow r, List<DeviceRow> all, List<DeviceRow> wave, Instant now, Map<String, DeviceRecord> records) {
        List<DeviceRow> failed = all.stream().filter(x -> x.state().installFailed()).toList();
        Optional<String> firstError = failed.stream().filter(x -> x.error().isPresent()).map(x -> x.key() + ": " + x.error().get()).findFirst();
        List<DeviceRow> updated = wave.stream().filter(x -> x.state() == DeviceState.ACTIVATED && x.fromVersion().map(v -> !v.equals(r.version()))
                .orElse(true)).toList();
        long stale = unreachable(updated, records, now);
        java.util.Set<String> updatedKeys = updated.stream().map(DeviceRow::key).collect(Collectors.toSet());
        List<DeviceRow> others = all.stream().filter(x -> !updatedKeys.contains(x.key()) && x.state() != DeviceState.ACTIVATED).toList();
        long staleOthers = unreachable(others, records, now);
        Instant from = r.createdAt().minus(telemetry.bucket());
        Instant to = now.plus(telemetry.bucket());
        Aggregate w = telemetry.devicesTotal(r.model(), r.version(), updated.stream().map(DeviceRow::key).toList(), from, to);
        Map<String, List<String>> pendingByVersion = all.stream().filter(x -> x.state() == DeviceState.PENDING && x.fromVersion().isPresent()
                && !x.fromVersion().get().equals(r.version()))
                .collect(Collectors.groupingBy(x -> x.fromVersion().get(), Collectors.mapping(DeviceRow::key, Collectors.toList())));
        Optional<String> baseVersion = pendingByVersion.entrySet().stream()
                .max(Map.Entry.<String, List<String>>comparingByValue(java.util.Comparator.comparingInt(List::size)).thenComparing(Map.Entry::getKey))
                .map(Map.Entry::getKey);
        Optional<Aggregate> base = baseVersion.map(v -> telemetry.devicesTotal(r.model(), v, pendingByVersion.get(v), from, to));
        return new Readings(failed.size(), firstError, updated.size(), stale, w, baseVersion, base, others.size(), staleOthers,
                r.spec().effectiveGates().maxMemoryGrowthRatio().isPresent() ? memory(updated, records) : List.of())
                .withDrift(r.spec().effectiveGates().driftGate() ? drift.read(r.model(), r.version(), baseVersion, r.createdAt()) : Optional.empty());
    }

    /**
     * Per updated device, its agent's RSS in its last report before it was commanded and in its latest report, when that was
     * measured at least {@link MemoryGrowthGate#SETTLE_MILLIS} after the activation; devices lacking either are left out.
     */
    private List<Readings.MemoryPair> memory(List<DeviceRow> updated, Map<String, DeviceRecord> records) {
        List<Readings.MemoryPair> out = new java.util.ArrayList<>();
        for (DeviceRow x : updated) {
            if (x.commandedAt().isEmpty() || x.activatedAt().isEmpty()) {
                continue;
            }
            Instant settled = x.activatedAt().get().plusMillis(MemoryGrowthGate.SETTLE_MILLIS);
            Optional<Long> after = Optional.ofNullable(records.get(x.key())).filter(d -> d.resourcesAt().map(t -> !t.isBefore(settled)).orElse(false))
                    .flatMap(DeviceRecord::resources).map(u -> u.processRssBytes()).filter(v -> v > 0);
            Optional<Long> before = after.isEmpty() ? Optional.empty() : fleet.rssBefore(x.fleet(), x.device(), x.commandedAt().get());
            if (before.isPresent()) {
                out.add(new Readings.MemoryPair(x.key(), before.get(), after.get()));
            }
        }
        return out;
    }

    private long unreachable(List<DeviceRow> rows, Map<String, DeviceRecord> records, Instant now) {
        return rows.stream().map(x -> Optional.ofNullable(records.get(x.key()))).flatMap(Optional::stream)
                .map(x -> x.status(now, fleet.staleAfter()))
                .filter(s -> s == DeviceRecord.Status.STALE || s == DeviceRecord.Status.OFFLINE)
                .count();
    }
}
