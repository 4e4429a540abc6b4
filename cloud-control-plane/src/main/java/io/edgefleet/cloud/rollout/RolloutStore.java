package io.edgefleet.cloud.rollout;

import com.fasterxml.jackson.core.type.TypeReference;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Jdbc;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Rollout persistence: every state change is one transaction, so a killed control plane resumes from the last one.
 * A store made {@link #fenced} runs its fence first in every write's transaction: the rollout engine's writes then
 * commit only while its replica still holds the leader lease's fencing token (issue 18). A rollout's row changes only
 * from the row the caller read ({@link #update}: state, wave and last change compared), so an operator's action on one
 * replica and the leader's tick on another never overwrite each other.
 */
public final class RolloutStore {
    private final CloudStore store;
    private final io.edgefleet.cloud.store.Fence fence;

    public RolloutStore(CloudStore store) {
        this(store, io.edgefleet.cloud.store.Fence.NONE);
    }

    private RolloutStore(CloudStore store, io.edgefleet.cloud.store.Fence fence) {
        this.store = store;
        this.fence = fence;
    }

    /** The same store whose writes first pass {@code fence} in their transaction. */
    public RolloutStore fenced(io.edgefleet.cloud.store.Fence f) {
        return new RolloutStore(store, f);
    }

    /**
     * Who a command id belongs to.
     *
     * @param rollout the rollout's id
     * @param fleet the device's fleet
     * @param device the device
     * @param intent what the command asks of the device
     * @param commandToken the fencing token the device was last commanded under (empty: none, a single node)
     */
    public record CommandOwner(String rollout, String fleet, String device, Intent intent, java.util.OptionalLong commandToken) {
    }

    /** A rollout row. */
    public record RolloutRow(String id, String model, String version, RolloutSpec spec, String state, int wave, Optional<Instant> waveStartedAt,
            Optional<Instant> waveDoneAt, boolean promoted, Optional<String> reason, Instant createdAt, Optional<String> createdBy,
            Instant updatedAt) {
    }

    /** A device of a rollout. */
    public record DeviceRow(String fleet, String device, String rank, int wave, String state, Optional<String> fromVersion,
            Optional<String> commandId, int attempts, Optional<Instant> commandedAt, Optional<Instant> activatedAt, Optional<String> error,
            Instant updatedAt) {
        public String key() {
            return fleet + "/" + device;
        }
    }

    /** A log line: an operation (who, why), a gate evaluation (values), a wave change. */
    public record LogRow(long id, Instant at, int wave, String kind, Optional<String> actor, Map<String, Object> detail) {
    }

    public void create(String id, RolloutSpec spec, String actor, Instant at) {
        store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO rollouts (id, model, version, spec, state, wave, created_at, created_by, "
                    + "updated_at) VALUES (?, ?, ?, ?, 'running', 0, ?, ?, ?)")) {
                Jdbc.bind(p, id, spec.model(), spec.version(), Jdbc.json(spec), at, actor, at).executeUpdate();
            }
            log(c, id, 0, "created", actor, Map.of("spec", spec), at);
            return null;
        });
    }

    public Optional<RolloutRow> get(String id) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM rollouts WHERE id = ?")) {
                ResultSet r = Jdbc.bind(p, id).executeQuery();
                return r.next() ? Optional.of(rollout(r)) : Optional.empty();
            }
        });
    }

    public List<RolloutRow> list(Optional<String> state) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM rollouts" + (state.isPresent() ? " WHERE state = ?" : "")
                    + " ORDER BY created_at DESC")) {
                if (state.isPresent()) {
                    p.setString(1, state.get());
                }
                ResultSet r = p.executeQuery();
                List<RolloutRow> out = new ArrayList<>();
                while (r.next()) {
                    out.add(rollout(r));
                }
                return out;
            }
        });
    }

    /** Sets the rollout's state (and optionally wave, timestamps, reason), logging it in the same transaction. */
    /**
     * Changes the rollout {@code from} was read as, logging it in the same transaction.
     *
     * @return false, with nothing written, when the row changed since {@code from} was read (another replica or thread)
     */
    public boolean update(RolloutRow from, String state, int wave, Optional<Instant> waveStartedAt, Optional<Instant> waveDoneAt, boolean promoted,
            Optional<String> reason, String logKind, String actor, Map<String, ?> detail, Instant at) {
        String id = from.id();
        return store.tx(c -> {
            fence.check(c);
            try (PreparedStatement p = c.prepareStatement("UPDATE rollouts SET state = ?, wave = ?, wave_started_at = ?, wave_done_at = ?, "
                    + "promoted = ?, reason = COALESCE(?, reason), updated_at = ? WHERE id = ? AND state = ? AND wave = ? AND updated_at = ?")) {
                if (Jdbc.bind(p, state, wave, waveStartedAt, waveDoneAt, promoted, reason, at, id, from.state(), from.wave(),
                        from.updatedAt()).executeUpdate() != 1) {
                    return false;
                }
            }
            if (logKind != null) {
                log(c, id, wave, logKind, actor, detail, at);
            }
            return true;
        });
    }

    public void log(String id, int wave, String kind, String actor, Map<String, ?> detail, Instant at) {
        store.tx(c -> {
            fence.check(c);
            log(c, id, wave, kind, actor, detail, at);
            return null;
        });
    }

    private static void log(java.sql.Connection c, String id, int wave, String kind, String actor, Map<String, ?> detail, Instant at)
            throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO rollout_log (rollout, at, wave, kind, actor, detail) VALUES (?, ?, ?, ?, ?, ?)")) {
            Jdbc.bind(p, id, at, wave, kind, actor, Jdbc.json(detail)).executeUpdate();
        }
    }

    public List<LogRow> logs(String id) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM rollout_log WHERE rollout = ? ORDER BY id")) {
                ResultSet r = Jdbc.bind(p, id).executeQuery();
                List<LogRow> out = new ArrayList<>();
                while (r.next()) {
                    out.add(new LogRow(r.getLong("id"), Instant.ofEpochMilli(r.getLong("at")), r.getInt("wave"), r.getString("kind"),
                            Optional.ofNullable(r.getString("actor")),
                            Jdbc.fromJson(r.getString("detail"), new TypeReference<Map<String, Object>>() { })));
                }
                return out;
            }
        });
    }

    /** Adds devices (ignoring ones already in the rollout). */
    public void addDevices(String id, List<DeviceRow> rows) {
        if (rows.isEmpty()) {
            return;
        }
        store.tx(c -> {
            fence.check(c);
            try (PreparedStatement p = c.prepareStatement("INSERT INTO rollout_devices (rollout, fleet, device, rank, wave, state, from_version, "
                    + "command_id, attempts, activated_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING")) {
                for (DeviceRow d : rows) {
                    Jdbc.bind(p, id, d.fleet(), d.device(), d.rank(), d.wave(), d.state(), d.fromVersion(), d.commandId(), d.activatedAt(),
                            d.updatedAt());
                    p.addBatch();
                }
                p.executeBatch();
            }
            return null;
        });
    }

    public List<DeviceRow> devices(String id) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM rollout_devices WHERE rollout = ? ORDER BY rank")) {
                ResultSet r = Jdbc.bind(p, id).executeQuery();
                List<DeviceRow> out = new ArrayList<>();
                while (r.next()) {
                    out.add(deviceRow(r));
                }
                return out;
            }
        });
    }

    /**
     * A device's part in one rollout.
     *
     * @param rollout the rollout's id
     * @param model the rollout's model
     * @param version the version the rollout installs
     * @param rolloutState the rollout's state now
     * @param device the device's row (its wave numbered from 0, as stored)
     */
    public record DeviceCommand(String rollout, String model, String version, String rolloutState, DeviceRow device) {
    }

    /** The rollouts that included a device, the most recently changed first, at most {@code limit}. */
    public List<DeviceCommand> commandsOf(String fleet, String device, int limit) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT d.*, r.model AS r_model, r.version AS r_version, r.state AS r_state "
                    + "FROM rollout_devices d JOIN rollouts r ON r.id = d.rollout WHERE d.fleet = ? AND d.device = ? "
                    + "ORDER BY d.updated_at DESC LIMIT ?")) {
                ResultSet r = Jdbc.bind(p, fleet, device, limit).executeQuery();
                List<DeviceCommand> out = new ArrayList<>();
                while (r.next()) {
                    out.add(new DeviceCommand(r.getString("rollout"), r.getString("r_model"), r.getString("r_version"), r.getString("r_state"),
                            deviceRow(r)));
                }
                return out;
            }
        });
    }

    private static DeviceRow deviceRow(ResultSet r) throws SQLException {
        return new DeviceRow(r.getString("fleet"), r.getString("device"), r.getString("rank"), r.getInt("wave"), r.getString("state"),
                Optional.ofNullable(r.getString("from_version")), Optional.ofNullable(r.getString("command_id")), r.getInt("attempts"),
                Jdbc.instant(r, "commanded_at"), Jdbc.instant(r, "activated_at"), Optional.ofNullable(r.getString("error")),
                Instant.ofEpochMilli(r.getLong("updated_at")));
    }

    /** Records a command sent (state, command id, attempt count, time, the fencing token it carried). */
    public void commanded(String id, String fleet, String device, String state, String commandId, int attempts, Instant at,
            java.util.OptionalLong token) {
        store.tx(c -> {
            fence.check(c);
            try (PreparedStatement p = c.prepareStatement("UPDATE rollout_devices SET state = ?, command_id = ?, attempts = ?, commanded_at = ?, "
                    + "updated_at = ?, command_token = ? WHERE rollout = ? AND fleet = ? AND device = ?")) {
                Jdbc.bind(p, state, commandId, attempts, at, at, token.isPresent() ? (Object) token.getAsLong() : null, id, fleet, device)
                        .executeUpdate();
            }
            return null;
        });
    }

    /**
     * Moves a device to {@code state} unless it is already in a state {@code protect} lists (a late
     * acknowledgement must not undo a rollback or a time-out).
     */
    public boolean deviceState(String id, String fleet, String device, String state, Optional<String> error, boolean activated, Instant at,
            List<String> protect) {
        return store.tx(c -> {
            fence.check(c);
            String guard = protect.isEmpty() ? "" : " AND state NOT IN (" + String.join(",", protect.stream().map(s -> "'" + s + "'").toList()) + ")";
            try (PreparedStatement p = c.prepareStatement("UPDATE rollout_devices SET state = ?, error = COALESCE(?, error), "
                    + "activated_at = CASE WHEN ? = 1 THEN ? ELSE activated_at END, updated_at = ? WHERE rollout = ? AND fleet = ? AND device = ?" + guard)) {
                return Jdbc.bind(p, state, error, activated, at, at, id, fleet, device).executeUpdate() == 1;
            }
        });
    }

    /** The rollout and device a command id belongs to. */
    public Optional<CommandOwner> byCommand(String commandId) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT rollout, fleet, device, command_token FROM rollout_devices WHERE command_id = ?")) {
                ResultSet r = Jdbc.bind(p, commandId).executeQuery();
                if (!r.next()) {
                    return Optional.empty();
                }
                long token = r.getLong(4);
                return Optional.of(new CommandOwner(r.getString(1), r.getString(2), r.getString(3), Intent.of(commandId),
                        r.wasNull() ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(token)));
            }
        });
    }

    private static RolloutRow rollout(ResultSet r) throws SQLException {
        return new RolloutRow(r.getString("id"), r.getString("model"), r.getString("version"),
                Jdbc.fromJson(r.getString("spec"), new TypeReference<RolloutSpec>() { }), r.getString("state"), r.getInt("wave"),
                Jdbc.instant(r, "wave_started_at"), Jdbc.instant(r, "wave_done_at"), r.getInt("promoted") == 1,
                Optional.ofNullable(r.getString("reason")), Instant.ofEpochMilli(r.getLong("created_at")),
                Optional.ofNullable(r.getString("created_by")), Instant.ofEpochMilli(r.getLong("updated_at")));
    }
}
