package io.edgefleet.cloud.api;

import io.edgefleet.cloud.rollout.RolloutEngine;
import io.edgefleet.cloud.rollout.RolloutSpec;
import io.edgefleet.cloud.rollout.RolloutStore;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Rollouts as {@code /api/v1} shows them. The engine and its store count waves from 0 (an index
 * into the spec's {@code waves}); every wave number a user reads is counted from 1. This class is
 * the one place where the one becomes the other for the API: each field named {@code wave} or
 * {@code currentWave}, and the keys of {@code waves}, are wave numbers (1 = the spec's first wave).
 * Stateless; any thread.
 */
final class RolloutViews {
    private RolloutViews() {
    }

    /** The wave number users see (1 for the first wave) for an engine's wave index (0 for the first). */
    static int number(int index) {
        return index + 1;
    }

    /** A rollout; {@code wave} is the current wave's number, from 1. */
    record Rollout(String id, String model, String version, RolloutSpec spec, String state, int wave, Optional<Instant> waveStartedAt,
            Optional<Instant> waveDoneAt, boolean promoted, Optional<String> reason, Instant createdAt, Optional<String> createdBy,
            Instant updatedAt) {
        static Rollout of(RolloutStore.RolloutRow r) {
            return new Rollout(r.id(), r.model(), r.version(), r.spec(), r.state().wire(), number(r.wave()), r.waveStartedAt(), r.waveDoneAt(),
                    r.promoted(), r.reason(), r.createdAt(), r.createdBy(), r.updatedAt());
        }
    }

    /** A device of a rollout; {@code wave} is the number of the wave it belongs to, from 1. */
    record Device(String fleet, String device, String rank, int wave, String state, Optional<String> fromVersion, Optional<String> commandId,
            int attempts, Optional<Instant> commandedAt, Optional<Instant> activatedAt, Optional<String> error, Instant updatedAt) {
        static Device of(RolloutStore.DeviceRow d) {
            return new Device(d.fleet(), d.device(), d.rank(), number(d.wave()), d.state().wire(), d.fromVersion(), d.commandId(), d.attempts(),
                    d.commandedAt(), d.activatedAt(), d.error(), d.updatedAt());
        }
    }

    /** A line of a rollout's log; {@code wave} is the number of the wave it was written in, from 1. */
    record LogLine(long id, Instant at, int wave, String kind, Optional<String> actor, Map<String, Object> detail) {
        static LogLine of(RolloutStore.LogRow l) {
            return new LogLine(l.id(), l.at(), number(l.wave()), l.kind(), l.actor(), l.detail());
        }
    }

    static List<Rollout> list(List<RolloutStore.RolloutRow> rows) {
        return rows.stream().map(Rollout::of).toList();
    }

    /**
     * A rollout's status: {@code rollout}, {@code currentWave} (its wave number, from 1),
     * {@code waitingFor} (empty once it has ended), {@code gates} (the spec's over the defaults),
     * {@code waves} (device counts per state, keyed by wave number from 1), {@code devices} and
     * {@code log} (operations, gate values), all from one snapshot.
     */
    static Map<String, Object> status(RolloutEngine.Snapshot snap) {
        RolloutStore.RolloutRow r = snap.rollout();
        Map<Integer, Map<String, Long>> waves = new TreeMap<>();
        snap.waves().forEach((index, states) -> waves.put(number(index), states));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("rollout", Rollout.of(r));
        out.put("currentWave", number(r.wave()));
        out.put("waitingFor", snap.waitingFor());
        out.put("gates", r.spec().effectiveGates());
        out.put("waves", waves);
        out.put("devices", snap.devices().stream().map(Device::of).toList());
        out.put("log", snap.log().stream().map(LogLine::of).toList());
        return out;
    }

}
