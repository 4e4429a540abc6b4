package io.edgefleet.cloud.store;

import io.edgefleet.protocols.messages.LogBatch;
import io.edgefleet.transport.logging.LogLevels;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;

/**
 * Central logs: the log records agents forward, stored in SQLite ({@code device_logs}) with bounded
 * retention, queryable per device, by trace id, by level and time. A batch is stored once per
 * (fleet, device, sequence): a redelivered copy is dropped. Retention is enforced on every store:
 * records older than {@link Retention#maxAge} go, and a device keeps its newest
 * {@link Retention#maxPerDevice} records. Thread-safe (the store's lock).
 */
public final class LogRepository {
    private final CloudStore store;
    private final Clock clock;
    private final Retention retention;

    /**
     * How long and how much is kept.
     *
     * @param maxAge records older than this (by the time the agent logged them) are deleted
     * @param maxPerDevice a device's newest records kept at most
     */
    public record Retention(Duration maxAge, int maxPerDevice) {
        /** Seven days, 10,000 records per device. */
        public static final Retention DEFAULT = new Retention(Duration.ofDays(7), 10_000);

        public Retention {
            if (maxAge.isNegative() || maxAge.isZero() || maxPerDevice < 1) {
                throw new IllegalArgumentException("log retention needs a positive age and at least 1 record per device");
            }
        }
    }

    /**
     * One stored record, as the API shows it ({@code trace_id}, {@code span_id} in snake case, as
     * OpenTelemetry's log data model names them; absent fields left out).
     */
    public record Stored(String fleet, String device, Instant time, String level, String logger, String thread, String message,
            Optional<String> exception, Optional<String> traceId, Optional<String> spanId) {
        /** The JSON object of the API: device, fleet, time, level, logger, thread, message, exception?, trace_id?, span_id?. */
        public Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("device", device);
            m.put("fleet", fleet);
            m.put("time", time.toString());
            m.put("level", level);
            m.put("logger", logger);
            m.put("thread", thread);
            m.put("message", message);
            exception.ifPresent(e -> m.put("exception", e));
            traceId.ifPresent(t -> m.put("trace_id", t));
            spanId.ifPresent(s -> m.put("span_id", s));
            return m;
        }
    }

    /**
     * A query; every filter optional.
     *
     * @param fleet only this fleet
     * @param device only this device id
     * @param traceId only records logged under this trace
     * @param minLevel only records at this level or above (WARN: WARN and ERROR)
     * @param since only records logged at or after this instant
     * @param limit newest records returned at most
     */
    public record Query(Optional<String> fleet, Optional<String> device, Optional<String> traceId, Optional<Level> minLevel,
            Optional<Instant> since, int limit) {
    }

    public LogRepository(CloudStore store, Clock clock, Retention retention) {
        this.store = store;
        this.clock = clock;
        this.retention = retention;
    }

    public Retention retention() {
        return retention;
    }

    /**
     * Stores a batch once (a redelivered one is ignored), counts what the agent said it dropped, and
     * enforces retention for the device.
     *
     * @return records stored (0 for a duplicate)
     */
    public int store(LogBatch b) {
        long now = clock.millis();
        return store.tx(c -> {
            try (PreparedStatement seen = c.prepareStatement(
                    "INSERT INTO device_log_batches (fleet, device, sequence, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                if (Jdbc.bind(seen, b.fleet(), b.device(), b.sequence(), now).executeUpdate() == 0) {
                    return 0;
                }
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO device_logs (fleet, device, at, level, severity, logger, thread, "
                    + "message, exception, trace_id, span_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (LogBatch.Entry e : b.records()) {
                    Jdbc.bind(p, b.fleet(), b.device(), e.time(), e.level(), severity(e.level()), e.logger(), e.thread(), e.message(),
                            e.exception(), e.traceId(), e.spanId(), now);
                    p.addBatch();
                }
                p.executeBatch();
            }
            if (b.dropped() > 0 || b.lost() > 0) {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO device_log_losses (fleet, device, dropped_records, lost_batches) "
                        + "VALUES (?, ?, ?, ?) ON CONFLICT (fleet, device) DO UPDATE SET dropped_records = device_log_losses.dropped_records + excluded.dropped_records, "
                        + "lost_batches = device_log_losses.lost_batches + excluded.lost_batches")) {
                    Jdbc.bind(p, b.fleet(), b.device(), b.dropped(), b.lost()).executeUpdate();
                }
            }
            long oldest = now - retention.maxAge().toMillis();
            try (PreparedStatement p = c.prepareStatement("DELETE FROM device_logs WHERE fleet = ? AND device = ? AND (at < ? OR id NOT IN "
                    + "(SELECT id FROM device_logs WHERE fleet = ? AND device = ? ORDER BY at DESC, id DESC LIMIT ?))")) {
                Jdbc.bind(p, b.fleet(), b.device(), oldest, b.fleet(), b.device(), retention.maxPerDevice()).executeUpdate();
            }
            try (PreparedStatement p = c.prepareStatement("DELETE FROM device_log_batches WHERE received_at < ?")) {
                Jdbc.bind(p, oldest).executeUpdate();
            }
            return b.records().size();
        });
    }

    /** Deletes every device's records past the maximum age (the housekeeping sweep; {@link #store} prunes the storing device). */
    public int prune() {
        long oldest = clock.millis() - retention.maxAge().toMillis();
        return store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM device_logs WHERE at < ?")) {
                return Jdbc.bind(p, oldest).executeUpdate();
            }
        });
    }

    /** Records matching {@code q}, newest first. */
    public List<Stored> find(Query q) {
        StringBuilder sql = new StringBuilder("SELECT * FROM device_logs WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        q.fleet().ifPresent(f -> {
            sql.append(" AND fleet = ?");
            args.add(f);
        });
        q.device().ifPresent(d -> {
            sql.append(" AND device = ?");
            args.add(d);
        });
        q.traceId().ifPresent(t -> {
            sql.append(" AND trace_id = ?");
            args.add(t);
        });
        q.minLevel().ifPresent(l -> {
            sql.append(" AND severity >= ?");
            args.add(l.intValue());
        });
        q.since().ifPresent(s -> {
            sql.append(" AND at >= ?");
            args.add(s);
        });
        sql.append(" ORDER BY at DESC, id DESC LIMIT ?");
        args.add(q.limit());
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement(sql.toString())) {
                Jdbc.bind(p, args.toArray());
                ResultSet r = p.executeQuery();
                List<Stored> out = new ArrayList<>();
                while (r.next()) {
                    out.add(new Stored(r.getString("fleet"), r.getString("device"), Instant.ofEpochMilli(r.getLong("at")), r.getString("level"),
                            r.getString("logger"), r.getString("thread"), r.getString("message"), Optional.ofNullable(r.getString("exception")),
                            Optional.ofNullable(r.getString("trace_id")), Optional.ofNullable(r.getString("span_id"))));
                }
                return out;
            }
        });
    }

    /** Records the device's agent reported it did not forward (rate limit, full queue), and batches its outbox dropped. */
    public Map<String, Long> losses(Optional<String> fleet, String device) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT COALESCE(SUM(dropped_records), 0), COALESCE(SUM(lost_batches), 0) "
                    + "FROM device_log_losses WHERE device = ?" + (fleet.isPresent() ? " AND fleet = ?" : ""))) {
                p.setString(1, device);
                if (fleet.isPresent()) {
                    p.setString(2, fleet.get());
                }
                ResultSet r = p.executeQuery();
                r.next();
                Map<String, Long> m = new LinkedHashMap<>();
                m.put("dropped_records", r.getLong(1));
                m.put("lost_batches", r.getLong(2));
                return m;
            }
        });
    }

    private static int severity(String level) {
        try {
            return LogLevels.parse(level).intValue();
        } catch (IllegalArgumentException e) {
            return Level.WARNING.intValue();
        }
    }
}
