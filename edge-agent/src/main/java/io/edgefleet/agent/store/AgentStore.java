package io.edgefleet.agent.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The agent's state in SQLite ({@code agent.db}, WAL): which version of each model is active and
 * which one a rollback returns to, the candidates loaded next to it (shadow, arm B), commands, outbox. Schema migrations are the numbered scripts in
 * {@code io/edgefleet/agent/store/V*.sql}. One connection, used under this object's lock;
 * every write is its own transaction, so a kill -9 leaves either the old or the new row.
 */
public final class AgentStore implements AutoCloseable {
    private static final String[] MIGRATIONS = {"V1__slots.sql", "V2__commands.sql", "V3__outbox.sql", "V4__command_payload.sql", "V5__outbox_streams.sql",
        "V6__candidates.sql"};

    private final Connection db;

    private AgentStore(Connection db) {
        this.db = db;
    }

    public static AgentStore open(Path dataDir) {
        try {
            Files.createDirectories(dataDir);
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("agent.db"));
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                s.execute("PRAGMA busy_timeout=5000");
            }
            AgentStore store = new AgentStore(c);
            store.migrate();
            return store;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open agent database in " + dataDir + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data folder " + dataDir, e);
        }
    }

    private synchronized void migrate() throws SQLException {
        io.edgefleet.protocols.sql.SqlMigrations.apply(db, AgentStore.class, java.util.List.of(MIGRATIONS));
    }

    /** The persisted slots of every model. */
    public synchronized List<SlotRecord> slots() {
        List<SlotRecord> out = new ArrayList<>();
        try (Statement s = db.createStatement();
                ResultSet r = s.executeQuery("SELECT model, active_version, active_file, previous_version, previous_file "
                        + "FROM slots ORDER BY model")) {
            while (r.next()) {
                out.add(new SlotRecord(r.getString(1), version(r.getString(2), r.getString(3)), version(r.getString(4), r.getString(5))));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read slots: " + e.getMessage(), e);
        }
    }

    public synchronized Optional<SlotRecord> slot(String model) {
        return slots().stream().filter(s -> s.model().equals(model)).findFirst();
    }

    /** Records a model's active and previous versions in one transaction. */
    public synchronized void saveSlot(SlotRecord slot) {
        try (PreparedStatement p = db.prepareStatement("INSERT INTO slots (model, active_version, active_file, previous_version, "
                + "previous_file, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(model) DO UPDATE SET active_version = excluded.active_version, "
                + "active_file = excluded.active_file, previous_version = excluded.previous_version, "
                + "previous_file = excluded.previous_file, updated_at = excluded.updated_at")) {
            p.setString(1, slot.model());
            p.setString(2, slot.active().map(VersionedFile::version).orElse(null));
            p.setString(3, slot.active().map(v -> v.file().toString()).orElse(null));
            p.setString(4, slot.previous().map(VersionedFile::version).orElse(null));
            p.setString(5, slot.previous().map(v -> v.file().toString()).orElse(null));
            p.setString(6, Instant.now().toString());
            p.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot save slot of model '" + slot.model() + "': " + e.getMessage(), e);
        }
    }

    /**
     * Records that a command arrived, unless it is already known.
     *
     * @return the recorded outcome of an earlier delivery, or empty when this is the first
     */
    public synchronized Optional<CommandRecord> commandReceived(String commandId, String type, String model, Optional<String> target) {
        return commandReceived(commandId, type, model, target, null);
    }

    /** As above, keeping the command's bytes so that an interrupted command can be finished after a restart. */
    public synchronized Optional<CommandRecord> commandReceived(String commandId, String type, String model, Optional<String> target,
            byte[] payload) {
        Optional<CommandRecord> known = command(commandId);
        if (known.isPresent()) {
            return known;
        }
        try (PreparedStatement p = db.prepareStatement(
                "INSERT INTO commands (command_id, type, model, target, phase, received_at, payload) VALUES (?, ?, ?, ?, 'received', ?, ?)")) {
            p.setString(1, commandId);
            p.setString(2, type);
            p.setString(3, model);
            p.setString(4, target.orElse(null));
            p.setString(5, Instant.now().toString());
            p.setBytes(6, payload);
            p.executeUpdate();
            return Optional.empty();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot record command " + commandId + ": " + e.getMessage(), e);
        }
    }

    /** Records a command's final phase (and error). */
    public synchronized void commandDone(String commandId, String phase, Optional<String> errorCode, Optional<String> error) {
        try (PreparedStatement p = db.prepareStatement(
                "UPDATE commands SET phase = ?, error_code = ?, error = ?, done_at = ? WHERE command_id = ?")) {
            p.setString(1, phase);
            p.setString(2, errorCode.orElse(null));
            p.setString(3, error.orElse(null));
            p.setString(4, Instant.now().toString());
            p.setString(5, commandId);
            p.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot record the outcome of command " + commandId + ": " + e.getMessage(), e);
        }
    }

    public synchronized Optional<CommandRecord> command(String commandId) {
        try (PreparedStatement p = db.prepareStatement("SELECT command_id, type, model, target, phase, error_code, error FROM commands "
                + "WHERE command_id = ?")) {
            p.setString(1, commandId);
            try (ResultSet r = p.executeQuery()) {
                if (!r.next()) {
                    return Optional.empty();
                }
                return Optional.of(new CommandRecord(r.getString(1), r.getString(2), r.getString(3), Optional.ofNullable(r.getString(4)),
                        r.getString(5), Optional.ofNullable(r.getString(6)), Optional.ofNullable(r.getString(7))));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read command " + commandId + ": " + e.getMessage(), e);
        }
    }

    /** Commands recorded but never finished (a crash interrupted them), oldest first, as they arrived. */
    public synchronized List<byte[]> pendingCommands() {
        List<byte[]> out = new ArrayList<>();
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery(
                "SELECT payload FROM commands WHERE phase IN ('received', 'downloading') AND payload IS NOT NULL ORDER BY received_at, rowid")) {
            while (r.next()) {
                out.add(r.getBytes(1));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read pending commands: " + e.getMessage(), e);
        }
    }

    public synchronized void saveSettings(String model, java.util.Map<String, String> settings) {
        try {
            db.setAutoCommit(false);
            try (PreparedStatement p = db.prepareStatement("INSERT INTO settings (model, name, value) VALUES (?, ?, ?) "
                    + "ON CONFLICT(model, name) DO UPDATE SET value = excluded.value")) {
                for (var e : settings.entrySet()) {
                    p.setString(1, model);
                    p.setString(2, e.getKey());
                    p.setString(3, e.getValue());
                    p.addBatch();
                }
                p.executeBatch();
                db.commit();
            } catch (SQLException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot save settings of model '" + model + "': " + e.getMessage(), e);
        }
    }

    public synchronized java.util.Map<String, String> settings(String model) {
        java.util.Map<String, String> out = new java.util.TreeMap<>();
        try (PreparedStatement p = db.prepareStatement("SELECT name, value FROM settings WHERE model = ?")) {
            p.setString(1, model);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    out.put(r.getString(1), r.getString(2));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read settings of model '" + model + "': " + e.getMessage(), e);
        }
    }

    /** Records (or replaces) the candidate {@code c.role()} of {@code c.model()}: a restarted agent loads it again. */
    public synchronized void saveCandidate(CandidateRecord c) {
        try (PreparedStatement p = db.prepareStatement("INSERT INTO candidates (model, role, version, file, sha256, command_id, loaded_at) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(model, role) DO UPDATE SET version = excluded.version, file = excluded.file, "
                + "sha256 = excluded.sha256, command_id = excluded.command_id, loaded_at = excluded.loaded_at")) {
            p.setString(1, c.model());
            p.setString(2, c.role());
            p.setString(3, c.version());
            p.setString(4, c.file().toString());
            p.setString(5, c.sha256());
            p.setString(6, c.commandId());
            p.setString(7, Instant.now().toString());
            p.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot record the " + c.role() + " candidate of model '" + c.model() + "': " + e.getMessage(), e);
        }
    }

    /** Forgets {@code model}'s candidate of {@code role} ({@code shadow}, {@code arm-b}), if one is recorded. */
    public synchronized void deleteCandidate(String model, String role) {
        try (PreparedStatement p = db.prepareStatement("DELETE FROM candidates WHERE model = ? AND role = ?")) {
            p.setString(1, model);
            p.setString(2, role);
            p.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot forget the " + role + " candidate of model '" + model + "': " + e.getMessage(), e);
        }
    }

    /** Every recorded candidate, by model and role. */
    public synchronized List<CandidateRecord> candidates() {
        List<CandidateRecord> out = new ArrayList<>();
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery(
                "SELECT model, role, version, file, sha256, command_id FROM candidates ORDER BY model, role")) {
            while (r.next()) {
                out.add(new CandidateRecord(r.getString(1), r.getString(2), r.getString(3), Path.of(r.getString(4)), r.getString(5),
                        r.getString(6)));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the candidates: " + e.getMessage(), e);
        }
    }

    /** The command {@code commandId} as it arrived (its encoded payload), if it was recorded with one. */
    public synchronized Optional<byte[]> commandPayload(String commandId) {
        try (PreparedStatement p = db.prepareStatement("SELECT payload FROM commands WHERE command_id = ? AND payload IS NOT NULL")) {
            p.setString(1, commandId);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? Optional.of(r.getBytes(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read command " + commandId + ": " + e.getMessage(), e);
        }
    }

    /** The outbox stream of telemetry batches. */
    public static final String TELEMETRY = "telemetry";
    /** The outbox stream of central-log batches. */
    public static final String LOGS = "logs";

    /**
     * Appends a telemetry batch under the next sequence number, in one transaction with the
     * counter; beyond {@code maxRows} the oldest rows are dropped and counted as lost.
     *
     * @param payload builds the encoded batch for (sequence, lost since the last batch)
     * @return the sequence number used
     */
    public synchronized long appendOutbox(java.util.function.BiFunction<Long, Long, byte[]> payload, int maxRows) {
        return appendOutbox(TELEMETRY, payload, maxRows);
    }

    /**
     * Appends a batch of {@code stream} ({@link #TELEMETRY}, {@link #LOGS}) under the stream's next
     * sequence number, in one transaction with its counter; beyond {@code maxRows} rows of the stream
     * its oldest rows are dropped and counted as lost ({@code payload} is told how many since its last batch).
     *
     * @return the sequence number used
     */
    public synchronized long appendOutbox(String stream, java.util.function.BiFunction<Long, Long, byte[]> payload, int maxRows) {
        try {
            db.setAutoCommit(false);
            try {
                long seq = counter(stream + ".sequence", -1) + 1;
                long unreported = counter(stream + ".lost.unreported");
                try (PreparedStatement p = db.prepareStatement("INSERT INTO outbox (stream, sequence, payload, created_at) VALUES (?, ?, ?, ?)")) {
                    p.setString(1, stream);
                    p.setLong(2, seq);
                    p.setBytes(3, payload.apply(seq, unreported));
                    p.setString(4, Instant.now().toString());
                    p.executeUpdate();
                }
                setCounter(stream + ".sequence", seq);
                setCounter(stream + ".lost.unreported", 0);
                long rows;
                try (PreparedStatement c = db.prepareStatement("SELECT COUNT(*) FROM outbox WHERE stream = ?")) {
                    c.setString(1, stream);
                    try (ResultSet r = c.executeQuery()) {
                        rows = r.getLong(1);
                    }
                }
                if (rows > maxRows) {
                    long drop = rows - maxRows;
                    try (PreparedStatement d = db.prepareStatement(
                            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE stream = ? ORDER BY id LIMIT ?)")) {
                        d.setString(1, stream);
                        d.setLong(2, drop);
                        d.executeUpdate();
                    }
                    setCounter(stream + ".lost", counter(stream + ".lost") + drop);
                    setCounter(stream + ".lost.unreported", drop);
                }
                db.commit();
                return seq;
            } catch (SQLException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot append to the " + stream + " outbox: " + e.getMessage(), e);
        }
    }

    /** Up to {@code limit} telemetry outbox rows, oldest first: (sequence, payload). */
    public synchronized List<Map.Entry<Long, byte[]>> peekOutbox(int limit) {
        return peekOutbox(TELEMETRY, limit);
    }

    /** Up to {@code limit} outbox rows of {@code stream}, oldest first: (sequence, payload). */
    public synchronized List<Map.Entry<Long, byte[]>> peekOutbox(String stream, int limit) {
        List<Map.Entry<Long, byte[]>> out = new ArrayList<>();
        try (PreparedStatement p = db.prepareStatement("SELECT sequence, payload FROM outbox WHERE stream = ? ORDER BY id LIMIT ?")) {
            p.setString(1, stream);
            p.setInt(2, limit);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    out.add(Map.entry(r.getLong(1), r.getBytes(2)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the " + stream + " outbox: " + e.getMessage(), e);
        }
    }

    /** Removes a telemetry batch the broker acknowledged. */
    public synchronized void deleteOutbox(long sequence) {
        deleteOutbox(TELEMETRY, sequence);
    }

    /** Removes a batch of {@code stream} the broker acknowledged. */
    public synchronized void deleteOutbox(String stream, long sequence) {
        try (PreparedStatement p = db.prepareStatement("DELETE FROM outbox WHERE stream = ? AND sequence = ?")) {
            p.setString(1, stream);
            p.setLong(2, sequence);
            p.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot delete " + stream + " batch " + sequence + ": " + e.getMessage(), e);
        }
    }

    /** Telemetry batches waiting for the broker. */
    public synchronized long outboxSize() {
        return outboxSize(TELEMETRY);
    }

    /** Batches of {@code stream} waiting for the broker. */
    public synchronized long outboxSize(String stream) {
        try (PreparedStatement p = db.prepareStatement("SELECT COUNT(*) FROM outbox WHERE stream = ?")) {
            p.setString(1, stream);
            try (ResultSet r = p.executeQuery()) {
                return r.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * The highest control-plane fencing token a command carried to this device (0: none yet). It
     * only grows, and survives restarts with the rest of the agent's state.
     */
    public synchronized long fencingToken() {
        try {
            return counter(FENCING_TOKEN);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the fencing token: " + e.getMessage(), e);
        }
    }

    /**
     * Raises the remembered fencing token to {@code token} unless it is higher already (one atomic
     * statement); returns the remembered token afterwards.
     */
    public synchronized long raiseFencingToken(long token) {
        try (PreparedStatement p = db.prepareStatement("INSERT INTO counters (name, value) VALUES (?, ?) "
                + "ON CONFLICT(name) DO UPDATE SET value = MAX(value, excluded.value)")) {
            p.setString(1, FENCING_TOKEN);
            p.setLong(2, token);
            p.executeUpdate();
            return counter(FENCING_TOKEN);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot store the fencing token " + token + ": " + e.getMessage(), e);
        }
    }

    private static final String FENCING_TOKEN = "commands.fencing-token";

    /** Telemetry batches dropped for space since this data folder was created. */
    public synchronized long telemetryLost() {
        try {
            return counter("telemetry.lost");
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    private long counter(String name) throws SQLException {
        return counter(name, 0);
    }

    private long counter(String name, long absent) throws SQLException {
        try (PreparedStatement p = db.prepareStatement("SELECT value FROM counters WHERE name = ?")) {
            p.setString(1, name);
            try (ResultSet r = p.executeQuery()) {
                return r.next() ? r.getLong(1) : absent;
            }
        }
    }

    private void setCounter(String name, long value) throws SQLException {
        try (PreparedStatement p = db.prepareStatement("INSERT INTO counters (name, value) VALUES (?, ?) "
                + "ON CONFLICT(name) DO UPDATE SET value = excluded.value")) {
            p.setString(1, name);
            p.setLong(2, value);
            p.executeUpdate();
        }
    }

    private static Optional<VersionedFile> version(String version, String file) {
        return version == null || file == null ? Optional.empty() : Optional.of(new VersionedFile(version, Path.of(file)));
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            // closing anyway
        }
    }
}
