package io.edgefleet.cloud.ab;

import io.edgefleet.cloud.lease.Leadership;
import io.edgefleet.cloud.rollout.RolloutEngine;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Jdbc;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.MessageCodec;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The {@code split} commands of A/B experiments, tracked per experiment and device in {@code ab_commands} (migration
 * V16; docs/ab.md "Delivery"), the way a rollout tracks its devices' commands: one row per command id (exactly once on
 * the agent), the fencing token it was last sent under, what the device acknowledged.
 *
 * <p>States: {@value #PENDING} (recorded, not yet handed to the broker), {@value #SENT} (handed, no acknowledgement yet),
 * {@value #ACKED} (the device acknowledged it; {@code phase} says how far: {@code received}, {@code downloading},
 * {@code verified}, {@code activated}), {@value #FAILED} (the device acknowledged {@code failed}; {@code error} has its
 * code and message), {@value #CANCELLED} (a start the experiment's stop made pointless before any acknowledgement).
 *
 * <p>Re-sending ({@link #runOnce}, on the leader): a pending or sent command is sent again when its backoff is due
 * (first after {@code firstBackoff}, doubling, at most {@code maxBackoff}) or at once when its device came online since
 * it was last sent; a start only while its experiment runs, a stop until acknowledged. Each send carries the current
 * leader's fencing token. Any acknowledgement ends the re-sending: the agent recorded the command before acknowledging
 * it and finishes it after a crash by itself.
 *
 * <p>Thread-safe: every call is its own transaction.
 */
public final class SplitCommands {
    private static final System.Logger LOG = System.getLogger(SplitCommands.class.getName());
    public static final String PENDING = "pending";
    public static final String SENT = "sent";
    public static final String ACKED = "acked";
    public static final String FAILED = "failed";
    public static final String CANCELLED = "cancelled";
    /** Rows sent per {@link #runOnce} at most (the rest are due at the next). */
    private static final int BATCH = 500;

    private final CloudStore store;
    private final RolloutEngine.CommandSender sender;
    private final Leadership leadership;
    private final Clock clock;
    private final MessageCodec json = MessageCodec.json();
    private volatile Duration firstBackoff = Duration.ofSeconds(5);
    private volatile Duration maxBackoff = Duration.ofMinutes(5);

    public SplitCommands(CloudStore store, RolloutEngine.CommandSender sender, Leadership leadership, Clock clock) {
        this.store = store;
        this.sender = sender;
        this.leadership = leadership;
        this.clock = clock;
    }

    /**
     * Sets the re-send backoff: the first re-send after {@code first}, each later one after twice the wait before, at most
     * {@code max}. Defaults 5 s and 5 min.
     *
     * @throws IllegalArgumentException a non-positive duration, or {@code max < first}
     */
    public void backoff(Duration first, Duration max) {
        if (first.isNegative() || first.isZero() || max.compareTo(first) < 0) {
            throw new IllegalArgumentException("backoff: first must be positive and max at least first, got " + first + " and " + max);
        }
        this.firstBackoff = first;
        this.maxBackoff = max;
    }

    /**
     * One device's split command as tracked.
     *
     * @param kind {@code start} or {@code stop}
     * @param phase the last acknowledged phase (wire name), if any
     * @param error {@code code: message} of a failed acknowledgement
     * @param attempts how many times it was handed to the broker
     */
    public record Tracked(String commandId, String experimentId, String fleet, String device, String kind, String state, Optional<String> phase,
            Optional<String> error, int attempts, OptionalLong fencingToken, Optional<Instant> sentAt, Instant nextSendAt, Optional<Instant> ackedAt) {
        /** {@code fleet/device}. */
        public String key() {
            return fleet + "/" + device;
        }

        /** As the API shows it. */
        public Map<String, Object> json() {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("device", key());
            m.put("command", commandId);
            m.put("kind", kind);
            m.put("state", state);
            phase.ifPresent(p -> m.put("phase", p));
            error.ifPresent(e -> m.put("error", e));
            m.put("attempts", attempts);
            sentAt.ifPresent(t -> m.put("sentAt", t.toString()));
            ackedAt.ifPresent(t -> m.put("ackedAt", t.toString()));
            if (state.equals(PENDING) || state.equals(SENT)) {
                m.put("nextSendAt", nextSendAt.toString());
            }
            return m;
        }
    }

    /** Records {@code commands} (device key → command, all of one experiment and kind) as pending, due now, in {@code c}'s transaction. */
    void track(Connection c, String experimentId, String kind, Map<String, Command> commands) throws SQLException {
        Instant now = clock.instant();
        try (PreparedStatement p = c.prepareStatement("INSERT INTO ab_commands (command_id, experiment_id, fleet, device, kind, state, attempts, "
                + "next_send_at, payload) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT (command_id) DO NOTHING")) {
            for (var e : commands.entrySet()) {
                String[] fd = e.getKey().split("/", 2);
                Jdbc.bind(p, e.getValue().commandId(), experimentId, fd[0], fd[1], kind, PENDING, now,
                        new String(json.encode(e.getValue()), StandardCharsets.UTF_8)).addBatch();
            }
            p.executeBatch();
        }
    }

    /** Cancels {@code experimentId}'s start commands no device acknowledged yet (its stop makes them pointless), in {@code c}'s transaction. */
    void cancelStarts(Connection c, String experimentId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE ab_commands SET state = ? WHERE experiment_id = ? AND kind = 'start' AND state IN (?, ?)")) {
            Jdbc.bind(p, CANCELLED, experimentId, PENDING, SENT).executeUpdate();
        }
    }

    /** Makes {@code experimentId}'s unacknowledged commands due now (an operator's repeated stop). */
    void dueNow(String experimentId) {
        store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE ab_commands SET next_send_at = ? WHERE experiment_id = ? AND state IN (?, ?)")) {
                return Jdbc.bind(p, clock.instant(), experimentId, PENDING, SENT).executeUpdate();
            }
        });
    }

    /**
     * Sends the due commands (of {@code experimentId} only, when given): pending ones, sent ones whose backoff passed or
     * whose device came online since, starts only of running experiments. Does nothing on a replica that does not lead.
     *
     * @return how many were handed to the broker
     */
    public int runOnce(Optional<String> experimentId) {
        if (!leadership.isLeader()) {
            return 0;
        }
        Instant now = clock.instant();
        List<Object[]> due = store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT c.command_id, c.fleet, c.device, c.attempts, c.payload, c.experiment_id "
                    + "FROM ab_commands c JOIN ab_experiments e ON e.id = c.experiment_id "
                    + "LEFT JOIN devices d ON d.fleet = c.fleet AND d.device = c.device "
                    + "WHERE c.state IN (?, ?) AND (c.kind = 'stop' OR e.state = ?) AND (? = '' OR c.experiment_id = ?) "
                    + "AND (c.next_send_at <= ? OR (d.online = 1 AND c.sent_at IS NOT NULL AND d.status_changed_at > c.sent_at)) "
                    + "ORDER BY c.next_send_at, c.command_id LIMIT " + BATCH)) {
                String only = experimentId.orElse("");
                ResultSet r = Jdbc.bind(p, PENDING, SENT, Experiment.RUNNING, only, only, now).executeQuery();
                List<Object[]> out = new ArrayList<>();
                while (r.next()) {
                    out.add(new Object[] {r.getString(1), r.getString(2), r.getString(3), r.getInt(4), r.getString(5), r.getString(6)});
                }
                return out;
            }
        });
        int sent = 0;
        for (Object[] row : due) {
            if (!leadership.isLeader()) {
                break;
            }
            String commandId = (String) row[0];
            int attempts = (Integer) row[3] + 1;
            Command cmd = json.decode(((String) row[4]).getBytes(StandardCharsets.UTF_8), Command.class);
            OptionalLong token = leadership.token();
            boolean handed = sender.send((String) row[1], (String) row[2], json.encode(token.isPresent() ? cmd.withFencingToken(token.getAsLong()) : cmd));
            Instant next = now.plus(backoff(attempts));
            store.tx(c -> {
                try (PreparedStatement p = c.prepareStatement("UPDATE ab_commands SET state = ?, attempts = ?, fencing_token = ?, sent_at = ?, "
                        + "next_send_at = ? WHERE command_id = ? AND state IN (?, ?)")) {
                    return Jdbc.bind(p, handed ? SENT : PENDING, attempts, token.isPresent() ? (Object) token.getAsLong() : null, handed ? now : null,
                            next, commandId, PENDING, SENT).executeUpdate();
                }
            });
            if (handed) {
                sent++;
                if (attempts > 1) {
                    LOG.log(System.Logger.Level.INFO, "experiment {0}: command {1} sent again (attempt {2}): not acknowledged yet", row[5], commandId,
                            attempts);
                }
            } else {
                LOG.log(System.Logger.Level.WARNING, "experiment {0}: command {1} not handed to the broker; sent again at {2}", row[5], commandId, next);
            }
        }
        return sent;
    }

    /** The wait after the {@code attempts}-th send: {@code firstBackoff · 2^(attempts-1)}, at most {@code maxBackoff}. */
    Duration backoff(int attempts) {
        Duration d = firstBackoff;
        for (int i = 1; i < attempts && d.compareTo(maxBackoff) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(maxBackoff) > 0 ? maxBackoff : d;
    }

    /**
     * Applies devices' acknowledgements of split commands (the rollouts' ack path hands over every batch: {@link
     * RolloutEngine#alsoAcknowledge}); acks of other commands are not ours and are skipped. The rules are the rollouts':
     * an ack from another device (or fleet, when known) than the command's is refused; a stale-token refusal (a deposed
     * leader's send) and an ack answering a lower token than the command was last sent under are ignored; a final phase
     * ({@code failed}) is not overwritten by a late intermediate one. Any thread; one transaction.
     *
     * @return how many command rows changed
     */
    public int acknowledge(List<RolloutEngine.FleetAck> batch) {
        List<RolloutEngine.FleetAck> ours = batch.stream().filter(a -> a.ack().commandId().startsWith("ab-")).toList();
        if (ours.isEmpty()) {
            return 0;
        }
        Instant now = clock.instant();
        return store.tx(c -> {
            int changed = 0;
            for (RolloutEngine.FleetAck a : ours) {
                var ack = a.ack();
                Optional<Tracked> t = get(c, ack.commandId());
                if (t.isEmpty()) {
                    continue;
                }
                Tracked row = t.get();
                if (!row.device().equals(ack.device()) || a.fleet().filter(f -> !f.equals(row.fleet())).isPresent()) {
                    LOG.log(System.Logger.Level.WARNING, "acknowledgement {0} refused: it came from {1}/{2}, the command is for {3}", ack.commandId(),
                            a.fleet().orElse("?"), ack.device(), row.key());
                    continue;
                }
                if (ack.staleRefusal()) {
                    continue; // refused as a deposed leader's: the device never ran it; the current leader's re-send will
                }
                if (ack.fencingToken().isPresent() && row.fencingToken().isPresent() && ack.fencingToken().getAsLong() < row.fencingToken().getAsLong()) {
                    continue;
                }
                boolean failed = ack.phase() == AckPhase.FAILED;
                if (row.state().equals(FAILED) || row.phase().filter(p -> p.equals(AckPhase.ACTIVATED.wire())).isPresent() && !failed) {
                    continue; // final already; a redelivered or late intermediate ack changes nothing
                }
                try (PreparedStatement p = c.prepareStatement("UPDATE ab_commands SET state = ?, phase = ?, error = ?, acked_at = ? WHERE command_id = ?")) {
                    changed += Jdbc.bind(p, failed ? FAILED : ACKED, ack.phase().wire(),
                            ack.error().map(e -> e.code() + ": " + e.message()).orElse(null), now, ack.commandId()).executeUpdate();
                }
                if (failed) {
                    LOG.log(System.Logger.Level.WARNING, "experiment {0}: {1} failed its {2} command: {3}", row.experimentId(), row.key(), row.kind(),
                            ack.error().map(e -> e.code() + ": " + e.message()).orElse("failed"));
                }
            }
            return changed;
        });
    }

    /** {@code experimentId}'s commands, starts first, then by device. */
    public List<Tracked> of(String experimentId) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement(SELECT + " WHERE experiment_id = ? ORDER BY kind DESC, fleet, device")) {
                ResultSet r = Jdbc.bind(p, experimentId).executeQuery();
                List<Tracked> out = new ArrayList<>();
                while (r.next()) {
                    out.add(row(r));
                }
                return out;
            }
        });
    }

    private static final String SELECT = "SELECT command_id, experiment_id, fleet, device, kind, state, phase, error, attempts, fencing_token, "
            + "sent_at, next_send_at, acked_at FROM ab_commands";

    private static Optional<Tracked> get(Connection c, String commandId) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(SELECT + " WHERE command_id = ?")) {
            ResultSet r = Jdbc.bind(p, commandId).executeQuery();
            return r.next() ? Optional.of(row(r)) : Optional.empty();
        }
    }

    private static Tracked row(ResultSet r) throws SQLException {
        long token = r.getLong(10);
        OptionalLong t = r.wasNull() ? OptionalLong.empty() : OptionalLong.of(token);
        return new Tracked(r.getString(1), r.getString(2), r.getString(3), r.getString(4), r.getString(5), r.getString(6),
                Optional.ofNullable(r.getString(7)), Optional.ofNullable(r.getString(8)), r.getInt(9), t, Jdbc.instant(r, "sent_at"),
                Instant.ofEpochMilli(r.getLong(12)), Jdbc.instant(r, "acked_at"));
    }
}
