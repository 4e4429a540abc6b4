package io.edgefleet.cloud.rollout;

import com.fasterxml.jackson.core.type.TypeReference;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Fence;
import io.edgefleet.cloud.store.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * Rollout persistence: every state change is one transaction, so a killed control plane resumes from the last one.
 * Writes take whole rows ({@link RolloutRow}, {@link DeviceRow}): the caller derives the new row from the one it read
 * with the rows' {@code with...} methods and the store writes every mutable column of it.
 *
 * <p>A store made {@link #fenced} runs its fence first in every write's transaction: the rollout engine's writes then
 * commit only while its replica still holds the leader lease's fencing token (issue 18). A rollout's row changes only
 * from the row the caller read ({@link #update}: state, wave and last change compared), so an operator's action on one
 * replica and the leader's tick on another never overwrite each other.
 *
 * <p>Every device write stamps the row with the rollout's next change sequence number ({@code rollout_devices.seq},
 * 1, 2, ... per rollout, indexed with the rollout): {@link #devicesChangedSince} returns only the rows written after a
 * sequence number a reader saw, which is how the engine's tick reads only what changed (docs/control-plane.md,
 * "Rollout engine structure"). {@link #deviceRowsRead} counts the device rows every read returned, for tests and
 * metrics. Thread-safe: each call is its own transaction on the {@link CloudStore}'s pool.
 */
public final class RolloutStore {
    /** The next change sequence number of a rollout's devices, in a statement's own transaction (bound: the rollout id). */
    private static final String NEXT_SEQ = "(SELECT COALESCE(MAX(s.seq), 0) + 1 FROM rollout_devices s WHERE s.rollout = ?)";

    private final CloudStore store;
    private final Fence fence;
    private final LongAdder rowsRead;

    public RolloutStore(CloudStore store) {
        this(store, Fence.NONE, new LongAdder());
    }

    private RolloutStore(CloudStore store, Fence fence, LongAdder rowsRead) {
        this.store = store;
        this.fence = fence;
        this.rowsRead = rowsRead;
    }

    /** The same store (sharing its row counter) whose writes first pass {@code f} in their transaction. */
    public RolloutStore fenced(Fence f) {
        return new RolloutStore(store, f, rowsRead);
    }

    /** Device rows read by every method of this store and the stores {@link #fenced} made from it since it was made. */
    public long deviceRowsRead() {
        return rowsRead.sum();
    }

    /**
     * Who a command id belongs to.
     *
     * @param rollout the rollout's id
     * @param fleet the device's fleet
     * @param device the device
     * @param intent what the command asks of the device
     * @param commandToken the fencing token the device was last commanded under (empty: none, a single node)
     * @param row the device's whole row as read with the command id
     */
    public record CommandOwner(String rollout, String fleet, String device, Intent intent, OptionalLong commandToken, DeviceRow row) {
    }

    /**
     * A rollout row.
     *
     * @param wave the current wave, numbered from 0
     * @param waveStartedAt when the current wave's commands began; empty before
     * @param waveDoneAt when every device of the current wave reached a terminal state; empty before
     * @param promoted an operator skipped the current wave's bake and telemetry wait
     * @param reason the last pause, failure or operation's reason
     * @param updatedAt the last change (compared by {@link #update})
     */
    public record RolloutRow(String id, String model, String version, RolloutSpec spec, RolloutState state, int wave,
            Optional<Instant> waveStartedAt, Optional<Instant> waveDoneAt, boolean promoted, Optional<String> reason, Instant createdAt,
            Optional<String> createdBy, Instant updatedAt) {

        /** In {@code to}; {@code why}, when present, replaces the reason. */
        public RolloutRow withState(RolloutState to, Optional<String> why, Instant at) {
            return new RolloutRow(id, model, version, spec, to, wave, waveStartedAt, waveDoneAt, promoted, why.or(() -> reason), createdAt,
                    createdBy, at);
        }

        /** Running, with the current wave's bake and telemetry wait skipped. */
        public RolloutRow withPromoted(Instant at) {
            return new RolloutRow(id, model, version, spec, RolloutState.RUNNING, wave, waveStartedAt, waveDoneAt, true, reason, createdAt,
                    createdBy, at);
        }

        /** The current wave's commands began at {@code at}. */
        public RolloutRow withWaveStarted(Instant at) {
            return new RolloutRow(id, model, version, spec, state, wave, Optional.of(at), Optional.empty(), false, reason, createdAt,
                    createdBy, at);
        }

        /** Every device of the current wave ended at {@code at}: the bake begins. */
        public RolloutRow withWaveInstalled(Instant at) {
            return new RolloutRow(id, model, version, spec, state, wave, waveStartedAt, Optional.of(at), promoted, reason, createdAt,
                    createdBy, at);
        }

        /** The next wave, not yet started. */
        public RolloutRow withNextWave(Instant at) {
            return new RolloutRow(id, model, version, spec, state, wave + 1, Optional.empty(), Optional.empty(), false, reason, createdAt,
                    createdBy, at);
        }
    }

    /**
     * A device of a rollout.
     *
     * @param wave the device's wave, numbered from 0
     * @param fromVersion the version it ran when it joined
     * @param commandId the last command sent to it (deploy or rollback)
     * @param attempts how many times the deploy command was sent
     * @param error why it failed or timed out (or a note such as "already on 2")
     * @param commandToken the fencing token it was last commanded under (empty: a single node)
     * @param updatedAt the last change
     * @param seq the rollout's change sequence number of this row's last write (0 for a row not yet stored)
     */
    public record DeviceRow(String fleet, String device, String rank, int wave, DeviceState state, Optional<String> fromVersion,
            Optional<String> commandId, int attempts, Optional<Instant> commandedAt, Optional<Instant> activatedAt, Optional<String> error,
            OptionalLong commandToken, Instant updatedAt, long seq) {

        /** A device joining a rollout (not yet stored). */
        public static DeviceRow joining(String fleet, String device, String rank, int wave, DeviceState state, Optional<String> fromVersion,
                Optional<Instant> activatedAt, Optional<String> error, Instant at) {
            return new DeviceRow(fleet, device, rank, wave, state, fromVersion, Optional.empty(), 0, Optional.empty(), activatedAt, error,
                    OptionalLong.empty(), at, 0);
        }

        public String key() {
            return fleet + "/" + device;
        }

        /** Commanded with {@code id} (attempt {@code attempt}) under {@code token}. */
        public DeviceRow withCommand(DeviceState to, String id, int attempt, Instant at, OptionalLong token) {
            return new DeviceRow(fleet, device, rank, wave, to, fromVersion, Optional.of(id), attempt, Optional.of(at), activatedAt, error, token,
                    at, seq);
        }

        /** In {@code to}; {@code why}, when present, replaces the error; {@code activated}: the activation time becomes {@code at}. */
        public DeviceRow withState(DeviceState to, Optional<String> why, boolean activated, Instant at) {
            return new DeviceRow(fleet, device, rank, wave, to, fromVersion, commandId, attempts, commandedAt,
                    activated ? Optional.of(at) : activatedAt, why.or(() -> error), commandToken, at, seq);
        }
    }

    /** A log line: an operation (who, why), a gate evaluation (values), a wave change. */
    public record LogRow(long id, Instant at, int wave, String kind, Optional<String> actor, Map<String, Object> detail) {
    }

    /**
     * A log line to write with a change.
     *
     * @param kind {@code paused}, {@code wave-started}, {@code gate-passed}...
     * @param actor the operator; empty for the engine
     * @param detail JSON-able values
     */
    public record LogEntry(String kind, Optional<String> actor, Map<String, ?> detail) {
        public static LogEntry of(String kind, String actor, Map<String, ?> detail) {
            return new LogEntry(kind, Optional.ofNullable(actor), detail);
        }
    }

    public void create(String id, RolloutSpec spec, String actor, Instant at) {
        store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO rollouts (id, model, version, spec, state, wave, created_at, created_by, "
                    + "updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)")) {
                Jdbc.bind(p, id, spec.model(), spec.version(), Jdbc.json(spec), RolloutState.RUNNING.wire(), at, actor, at).executeUpdate();
            }
            log(c, id, 0, LogEntry.of("created", actor, Map.of("spec", spec)), at);
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

    public List<RolloutRow> list(Optional<RolloutState> state) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM rollouts" + (state.isPresent() ? " WHERE state = ?" : "")
                    + " ORDER BY created_at DESC")) {
                if (state.isPresent()) {
                    p.setString(1, state.get().wire());
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

    /**
     * Writes {@code to} over the rollout {@code from} was read as, with {@code log} (at {@code to}'s wave and
     * {@code to.updatedAt()}) in the same transaction.
     *
     * @return false, with nothing written, when the row changed since {@code from} was read (another replica or thread)
     */
    public boolean update(RolloutRow from, RolloutRow to, Optional<LogEntry> log) {
        if (!from.id().equals(to.id())) {
            throw new IllegalArgumentException("rollout " + from.id() + " cannot be written as " + to.id());
        }
        return store.tx(c -> {
            fence.check(c);
            try (PreparedStatement p = c.prepareStatement("UPDATE rollouts SET state = ?, wave = ?, wave_started_at = ?, wave_done_at = ?, "
                    + "promoted = ?, reason = ?, updated_at = ? WHERE id = ? AND state = ? AND wave = ? AND updated_at = ?")) {
                if (Jdbc.bind(p, to.state().wire(), to.wave(), to.waveStartedAt(), to.waveDoneAt(), to.promoted(), to.reason(), to.updatedAt(),
                        from.id(), from.state().wire(), from.wave(), from.updatedAt()).executeUpdate() != 1) {
                    return false;
                }
            }
            if (log.isPresent()) {
                log(c, to.id(), to.wave(), log.get(), to.updatedAt());
            }
            return true;
        });
    }

    public void log(String id, int wave, LogEntry entry, Instant at) {
        store.tx(c -> {
            fence.check(c);
            log(c, id, wave, entry, at);
            return null;
        });
    }

    private static void log(Connection c, String id, int wave, LogEntry e, Instant at) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO rollout_log (rollout, at, wave, kind, actor, detail) VALUES (?, ?, ?, ?, ?, ?)")) {
            Jdbc.bind(p, id, at, wave, e.kind(), e.actor(), Jdbc.json(e.detail())).executeUpdate();
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

    /** The latest log line of {@code kind} in {@code wave} of a rollout, if any (one indexed row, not the log). */
    public Optional<Instant> lastLogAt(String id, int wave, String kind) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT MAX(at) FROM rollout_log WHERE rollout = ? AND wave = ? AND kind = ?")) {
                ResultSet r = Jdbc.bind(p, id, wave, kind).executeQuery();
                if (!r.next()) {
                    return Optional.empty();
                }
                long at = r.getLong(1);
                return r.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(at));
            }
        });
    }

    /** Adds devices (ignoring ones already in the rollout), each stamped with the rollout's next change sequence number. */
    public void addDevices(String id, List<DeviceRow> rows) {
        if (rows.isEmpty()) {
            return;
        }
        store.tx(CloudStore.Isolation.READ_COMMITTED, c -> {
            fence.check(c);
            lockDevices(c, id);
            try (PreparedStatement p = c.prepareStatement("INSERT INTO rollout_devices (rollout, fleet, device, rank, wave, state, from_version, "
                    + "command_id, attempts, activated_at, error, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, " + NEXT_SEQ
                    + ") ON CONFLICT DO NOTHING")) {
                for (DeviceRow d : rows) {
                    Jdbc.bind(p, id, d.fleet(), d.device(), d.rank(), d.wave(), d.state().wire(), d.fromVersion(), d.commandId(),
                            d.activatedAt(), d.error(), d.updatedAt(), id);
                    p.addBatch();
                }
                p.executeBatch();
            }
            return null;
        });
    }

    /**
     * Writes {@code to}'s mutable columns (state, command, attempts, times, error, token) over the stored device, unless
     * the stored one is in a state {@code unlessIn} lists (a late acknowledgement must not undo a rollback or a
     * time-out), stamping the rollout's next change sequence number.
     *
     * @return whether it was written
     */
    public boolean writeDevice(String id, DeviceRow to, Set<DeviceState> unlessIn) {
        return writeDevices(id, List.of(to), unlessIn) == 1;
    }

    /**
     * {@link #writeDevice} for many devices in one transaction (the commands of a tick: one commit, not one per device).
     *
     * @return how many were written
     */
    public int writeDevices(String id, List<DeviceRow> rows, Set<DeviceState> unlessIn) {
        return write(id, rows, unlessIn, false).size();
    }

    /**
     * {@link #writeDevices}, each row written only if the stored one still carries the change sequence number the
     * caller read ({@link DeviceRow#seq}): the leader's tick writes from its view of the rows, and an acknowledgement
     * applied meanwhile by any replica ({@link #acknowledge}) must not be overwritten by it. A row not written is read
     * again at the next tick.
     *
     * @return the rows written
     */
    public List<DeviceRow> writeDevicesIfUnchanged(String id, List<DeviceRow> rows, Set<DeviceState> unlessIn) {
        return write(id, rows, unlessIn, true);
    }

    private List<DeviceRow> write(String id, List<DeviceRow> rows, Set<DeviceState> unlessIn, boolean ifUnchanged) {
        if (rows.isEmpty()) {
            return List.of();
        }
        return store.tx(CloudStore.Isolation.READ_COMMITTED, c -> {
            fence.check(c);
            lockDevices(c, id);
            return update(c, id, rows, unlessIn, ifUnchanged);
        });
    }

    private List<DeviceRow> update(Connection c, String id, List<DeviceRow> rows, Set<DeviceState> unlessIn, boolean ifUnchanged)
            throws SQLException {
        String guard = (unlessIn.isEmpty() ? ""
                : " AND state NOT IN (" + unlessIn.stream().map(s -> "'" + s.wire() + "'").sorted().collect(Collectors.joining(",")) + ")")
                + (ifUnchanged ? " AND seq = ?" : "");
        List<DeviceRow> written = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("UPDATE rollout_devices SET state = ?, command_id = ?, attempts = ?, commanded_at = ?, "
                + "activated_at = ?, error = ?, command_token = ?, updated_at = ?, seq = " + NEXT_SEQ
                + " WHERE rollout = ? AND fleet = ? AND device = ?" + guard)) {
            for (DeviceRow to : rows) {
                Object token = to.commandToken().isPresent() ? (Object) to.commandToken().getAsLong() : null;
                int n = ifUnchanged
                        ? Jdbc.bind(p, to.state().wire(), to.commandId(), to.attempts(), to.commandedAt(), to.activatedAt(), to.error(), token,
                                to.updatedAt(), id, id, to.fleet(), to.device(), to.seq()).executeUpdate()
                        : Jdbc.bind(p, to.state().wire(), to.commandId(), to.attempts(), to.commandedAt(), to.activatedAt(), to.error(), token,
                                to.updatedAt(), id, id, to.fleet(), to.device()).executeUpdate();
                if (n == 1) {
                    written.add(to);
                }
            }
        }
        return written;
    }

    /**
     * Serialises the device writes of one rollout (PostgreSQL: the rollout's row locked until commit; SQLite has one
     * writer anyway). The change sequence number is {@code MAX(seq) + 1}, computed by the writing statement: with
     * writers of one rollout one at a time, read-committed statements see every earlier writer's commit, so numbers
     * grow in commit order and an incremental reader that saw number n has seen every row numbered below it. Without
     * the lock two concurrent writers could both take n + 1, and one of their rows would never be read incrementally.
     */
    private void lockDevices(Connection c, String id) throws SQLException {
        if (store.kind() == io.edgefleet.cloud.store.DatabaseSettings.Kind.POSTGRESQL) {
            try (PreparedStatement p = c.prepareStatement("SELECT id FROM rollouts WHERE id = ? FOR UPDATE")) {
                Jdbc.bind(p, id).executeQuery().close();
            }
        }
    }

    /** What one acknowledgement writes: the device's new row and the stored states that keep it from being written. */
    public record DeviceWrite(DeviceRow to, Set<DeviceState> unlessIn) {
    }

    /**
     * One device acknowledgement to apply.
     *
     * @param commandId the acknowledged command id
     * @param fleet the fleet of the topic it came on (empty: unknown, the command id alone finds the device)
     * @param device the device that sent it
     * @param decide what to write, given the command's owner as read under the rollout's lock; empty: nothing
     */
    public record PendingAck(String commandId, Optional<String> fleet, String device,
            java.util.function.Function<CommandOwner, Optional<DeviceWrite>> decide) {
    }

    /**
     * Applies acknowledgements in one transaction (any replica; not fenced: an acknowledgement is the device's report,
     * not a leader's decision). Each one's device row is read under its rollout's lock ({@link #lockDevices}) and
     * written from that read. The owner is found from the command id: ids are {@code ROLLOUT-HASH16-d|r}
     * ({@link Intent#commandId}), so a device of the topic's fleet whose id matches is found even before the leader
     * recorded the command (the device may answer before the leader's write commits); otherwise by the stored
     * {@code command_id}. The decision sees the owner as stored, so it can refuse an ack of another device.
     *
     * @return how many device rows were written
     */
    public int acknowledge(List<PendingAck> acks) {
        if (acks.isEmpty()) {
            return 0;
        }
        List<PendingAck> sorted = new ArrayList<>(acks);
        sorted.sort(java.util.Comparator.comparing(a -> rolloutOf(a.commandId()).orElse(""))); // stable: one device's acks keep their order
        return store.tx(CloudStore.Isolation.READ_COMMITTED, c -> {
            int n = 0;
            for (PendingAck a : sorted) {
                Optional<CommandOwner> owner = owner(c, a);
                if (owner.isEmpty()) {
                    continue;
                }
                Optional<DeviceWrite> w = a.decide().apply(owner.get());
                if (w.isPresent()) {
                    n += update(c, owner.get().rollout(), List.of(w.get().to()), w.get().unlessIn(), true).size();
                }
            }
            return n;
        });
    }

    private Optional<CommandOwner> owner(Connection c, PendingAck a) throws SQLException {
        Optional<String> rollout = rolloutOf(a.commandId());
        Intent intent = Intent.of(a.commandId());
        if (rollout.isPresent() && a.fleet().isPresent() && intent.commandId(rollout.get(), a.fleet().get() + "/" + a.device()).equals(a.commandId())) {
            lockDevices(c, rollout.get());
            Optional<DeviceRow> d = row(c, rollout.get(), a.fleet().get(), a.device());
            if (d.isPresent() && d.get().commandId().map(a.commandId()::equals).orElse(intent == Intent.DEPLOY)) {
                return Optional.of(new CommandOwner(rollout.get(), d.get().fleet(), d.get().device(), intent, d.get().commandToken(), d.get()));
            }
            return Optional.empty(); // the device's command is another one now (a rollback), or it is in no such rollout
        }
        if (rollout.isPresent()) {
            lockDevices(c, rollout.get()); // the command's rollout, whichever device it names: read under the lock
        }
        return byCommand(c, a.commandId());
    }

    /** The rollout id inside a command id made by {@link Intent#commandId}: {@code ROLLOUT-HASH16-d}. */
    static Optional<String> rolloutOf(String commandId) {
        int n = commandId.length();
        if (n <= 19 || commandId.charAt(n - 2) != '-' || commandId.charAt(n - 19) != '-') {
            return Optional.empty();
        }
        return Optional.of(commandId.substring(0, n - 19));
    }

    private Optional<DeviceRow> row(Connection c, String id, String fleet, String device) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT * FROM rollout_devices WHERE rollout = ? AND fleet = ? AND device = ?")) {
            ResultSet r = Jdbc.bind(p, id, fleet, device).executeQuery();
            if (!r.next()) {
                return Optional.empty();
            }
            rowsRead.add(1);
            return Optional.of(deviceRow(r));
        }
    }

    /** A rollout's devices per state: one indexed aggregate query on {@code (rollout, state)}, no device row read. */
    public Map<DeviceState, Long> deviceCounts(String id) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT state, COUNT(*) FROM rollout_devices WHERE rollout = ? GROUP BY state")) {
                ResultSet r = Jdbc.bind(p, id).executeQuery();
                Map<DeviceState, Long> out = new java.util.EnumMap<>(DeviceState.class);
                while (r.next()) {
                    out.put(DeviceState.of(r.getString(1)), r.getLong(2));
                }
                return out;
            }
        });
    }

    /** Every device of a rollout, by rank. */
    public List<DeviceRow> devices(String id) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM rollout_devices WHERE rollout = ? ORDER BY rank")) {
                return deviceRows(Jdbc.bind(p, id).executeQuery());
            }
        });
    }

    /**
     * The devices of a rollout written after change sequence number {@code seq} (all of them for 0), by sequence
     * number: one indexed range read on {@code (rollout, seq)}, as many rows as changed.
     */
    public List<DeviceRow> devicesChangedSince(String id, long seq) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM rollout_devices WHERE rollout = ? AND seq > ? ORDER BY seq")) {
                return deviceRows(Jdbc.bind(p, id, seq).executeQuery());
            }
        });
    }

    private List<DeviceRow> deviceRows(ResultSet r) throws SQLException {
        List<DeviceRow> out = new ArrayList<>();
        while (r.next()) {
            out.add(deviceRow(r));
        }
        rowsRead.add(out.size());
        return out;
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
    public record DeviceCommand(String rollout, String model, String version, RolloutState rolloutState, DeviceRow device) {
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
                    out.add(new DeviceCommand(r.getString("rollout"), r.getString("r_model"), r.getString("r_version"),
                            RolloutState.of(r.getString("r_state")), deviceRow(r)));
                }
                rowsRead.add(out.size());
                return out;
            }
        });
    }

    private static DeviceRow deviceRow(ResultSet r) throws SQLException {
        long token = r.getLong("command_token");
        OptionalLong commandToken = r.wasNull() ? OptionalLong.empty() : OptionalLong.of(token);
        return new DeviceRow(r.getString("fleet"), r.getString("device"), r.getString("rank"), r.getInt("wave"), DeviceState.of(r.getString("state")),
                Optional.ofNullable(r.getString("from_version")), Optional.ofNullable(r.getString("command_id")), r.getInt("attempts"),
                Jdbc.instant(r, "commanded_at"), Jdbc.instant(r, "activated_at"), Optional.ofNullable(r.getString("error")), commandToken,
                Instant.ofEpochMilli(r.getLong("updated_at")), r.getLong("seq"));
    }

    /** The rollout and device a command id belongs to, with the device's row. */
    public Optional<CommandOwner> byCommand(String commandId) {
        return store.read(c -> byCommand(c, commandId));
    }

    private Optional<CommandOwner> byCommand(Connection c, String commandId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT * FROM rollout_devices WHERE command_id = ?")) {
            ResultSet r = Jdbc.bind(p, commandId).executeQuery();
            if (!r.next()) {
                return Optional.empty();
            }
            DeviceRow d = deviceRow(r);
            rowsRead.add(1);
            return Optional.of(new CommandOwner(r.getString("rollout"), d.fleet(), d.device(), Intent.of(commandId), d.commandToken(), d));
        }
    }

    private static RolloutRow rollout(ResultSet r) throws SQLException {
        return new RolloutRow(r.getString("id"), r.getString("model"), r.getString("version"),
                Jdbc.fromJson(r.getString("spec"), new TypeReference<RolloutSpec>() { }), RolloutState.of(r.getString("state")), r.getInt("wave"),
                Jdbc.instant(r, "wave_started_at"), Jdbc.instant(r, "wave_done_at"), r.getInt("promoted") == 1,
                Optional.ofNullable(r.getString("reason")), Instant.ofEpochMilli(r.getLong("created_at")),
                Optional.ofNullable(r.getString("created_by")), Instant.ofEpochMilli(r.getLong("updated_at")));
    }
}
