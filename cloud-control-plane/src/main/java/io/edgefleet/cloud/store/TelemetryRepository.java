package io.edgefleet.cloud.store;

import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * Telemetry aggregates. {@link #apply} folds batches into per-device and per-(model, version)
 * buckets in one transaction, after recording each batch's (fleet, device, sequence) in
 * {@code telemetry_seen}: a batch seen before (a broker or Kafka redelivery) changes nothing.
 * Since the dedupe row and the sums commit together, a crash between them cannot double-count.
 */
public final class TelemetryRepository {
    private static final String COLUMNS = "count, errors, escalations, non_finite, low_confidence, confidence_sum, confidence_count, "
            + "p50_sum, p95_sum, p99_sum, latency_weight, max_ms, cloud_answers, cloud_failures, escalation_ms, client_errors, batches";
    private static final String SUMS = "SUM(count), SUM(errors), SUM(escalations), SUM(non_finite), SUM(low_confidence), "
            + "SUM(confidence_sum), SUM(confidence_count), SUM(p50_sum), SUM(p95_sum), SUM(p99_sum), SUM(latency_weight), MAX(max_ms), SUM(batches), "
            + "SUM(cloud_answers), SUM(cloud_failures), SUM(escalation_ms), SUM(client_errors)";
    /**
     * The upsert's sums; the stored row's columns named through its table ({@code T.count}), as PostgreSQL requires
     * (an unqualified column in {@code DO UPDATE} is ambiguous there) and SQLite accepts.
     */
    private static String update(String t) {
        StringBuilder out = new StringBuilder();
        for (String col : List.of("count", "errors", "escalations", "non_finite", "low_confidence", "confidence_sum", "confidence_count",
                "p50_sum", "p95_sum", "p99_sum", "latency_weight", "batches", "cloud_answers", "cloud_failures", "escalation_ms", "client_errors")) {
            out.append(col).append(" = ").append(t).append('.').append(col).append(" + excluded.").append(col).append(", ");
        }
        return out.append("max_ms = CASE WHEN excluded.max_ms > ").append(t).append(".max_ms THEN excluded.max_ms ELSE ").append(t)
                .append(".max_ms END").toString();
    }

    private final CloudStore store;
    private final long bucketMillis;

    public TelemetryRepository(CloudStore store, Duration bucket) {
        this.store = store;
        this.bucketMillis = bucket.toMillis();
        if (bucketMillis < 1000) {
            throw new IllegalArgumentException("the aggregate bucket must be at least 1 s, got " + bucket);
        }
    }

    public Duration bucket() {
        return Duration.ofMillis(bucketMillis);
    }

    /** What {@link #apply} did. */
    public record Applied(int batches, int duplicates, long requests) {
    }

    /**
     * Folds new batches into the aggregates (one transaction); batches already seen are skipped. Read committed on
     * PostgreSQL: every statement is an atomic upsert or a conditional update, so concurrent ingest transactions wait
     * for each other's rows instead of aborting on the shared per-model buckets ({@link CloudStore.Isolation}).
     */
    public Applied apply(List<TelemetryBatch> batches, Instant receivedAt) {
        return store.tx(CloudStore.Isolation.READ_COMMITTED, c -> {
            int applied = 0;
            int dup = 0;
            long requests = 0;
            try (PreparedStatement seen = c.prepareStatement(
                    "INSERT INTO telemetry_seen (fleet, device, sequence, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
                    PreparedStatement dev = c.prepareStatement("INSERT INTO telemetry_device (fleet, device, model, version, bucket, " + COLUMNS
                            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
                            + "ON CONFLICT(fleet, device, model, version, bucket) DO UPDATE SET " + update("telemetry_device"));
                    PreparedStatement mod = c.prepareStatement("INSERT INTO telemetry_model (model, version, bucket, " + COLUMNS
                            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
                            + "ON CONFLICT(model, version, bucket) DO UPDATE SET " + update("telemetry_model"));
                    PreparedStatement devKind = c.prepareStatement("INSERT INTO telemetry_device_client_errors (fleet, device, model, version, "
                            + "bucket, kind, count) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(fleet, device, model, version, bucket, kind) "
                            + "DO UPDATE SET count = telemetry_device_client_errors.count + excluded.count");
                    PreparedStatement modKind = c.prepareStatement("INSERT INTO telemetry_model_client_errors (model, version, bucket, kind, count) "
                            + "VALUES (?, ?, ?, ?, ?) ON CONFLICT(model, version, bucket, kind) DO UPDATE SET count = telemetry_model_client_errors.count + excluded.count");
                    PreparedStatement lost = c.prepareStatement("INSERT INTO telemetry_lost (fleet, device, lost) VALUES (?, ?, ?) "
                            + "ON CONFLICT(fleet, device) DO UPDATE SET lost = telemetry_lost.lost + excluded.lost")) {
                for (TelemetryBatch b : batches) {
                    if (Jdbc.bind(seen, b.fleet(), b.device(), b.sequence(), receivedAt).executeUpdate() == 0) {
                        dup++;
                        continue;
                    }
                    applied++;
                    DeviceRepository.touch(c, b.fleet(), b.device(), receivedAt);
                    if (b.resources().isPresent()) {
                        DeviceRepository.resources(c, b.fleet(), b.device(), b.resources().get(), b.sentAt());
                    }
                    if (b.lost() > 0) {
                        Jdbc.bind(lost, b.fleet(), b.device(), b.lost()).executeUpdate();
                    }
                    for (TelemetryRecord r : b.records()) {
                        long bucket = Math.floorDiv(r.windowStart().toEpochMilli(), bucketMillis) * bucketMillis;
                        Object[] figures = figures(r);
                        Object[] d = new Object[5 + figures.length];
                        d[0] = b.fleet();
                        d[1] = b.device();
                        d[2] = r.model();
                        d[3] = r.version();
                        d[4] = bucket;
                        System.arraycopy(figures, 0, d, 5, figures.length);
                        Jdbc.bind(dev, d).executeUpdate();
                        Object[] m = new Object[3 + figures.length];
                        m[0] = r.model();
                        m[1] = r.version();
                        m[2] = bucket;
                        System.arraycopy(figures, 0, m, 3, figures.length);
                        Jdbc.bind(mod, m).executeUpdate();
                        for (Map.Entry<String, Long> k : r.clientErrors().entrySet()) {
                            Jdbc.bind(devKind, b.fleet(), b.device(), r.model(), r.version(), bucket, k.getKey(), k.getValue()).executeUpdate();
                            Jdbc.bind(modKind, r.model(), r.version(), bucket, k.getKey(), k.getValue()).executeUpdate();
                        }
                        requests += r.count();
                    }
                }
            }
            return new Applied(applied, dup, requests);
        });
    }

    private static Object[] figures(TelemetryRecord r) {
        // Latency and confidence describe the requests the model ran on: a window of refused requests only
        // (percentiles 0) must not pull the weighted means down, so they weigh by valid requests, not by count.
        long n = r.validRequests();
        boolean conf = r.meanConfidence().isPresent();
        return new Object[] {r.count(), r.errors(), r.escalations(), r.nonFinite(), r.lowConfidence(),
            conf ? r.meanConfidence().getAsDouble() * n : 0.0, conf ? n : 0L,
            r.latencyMillis().p50() * n, r.latencyMillis().p95() * n, r.latencyMillis().p99() * n, n, r.latencyMillis().max(),
            r.escalation().map(e -> e.cloudAnswers()).orElse(0L), r.escalation().map(e -> e.cloudFailures()).orElse(0L),
            r.escalation().map(e -> e.addedMillis()).orElse(0.0), r.clientErrorCount()};
    }

    /** Drops dedupe rows older than {@code before} (a redelivery older than that is no longer expected). */
    public int pruneSeen(Instant before) {
        return store.tx(c -> {
            try (PreparedStatement history = c.prepareStatement("DELETE FROM device_resources_history WHERE at < ?")) {
                Jdbc.bind(history, before).executeUpdate();
            }
            try (PreparedStatement p = c.prepareStatement("DELETE FROM telemetry_seen WHERE received_at < ?")) {
                return Jdbc.bind(p, before).executeUpdate();
            }
        });
    }

    /** Totals for a model version between {@code from} (inclusive) and {@code to} (exclusive). */
    public Aggregate modelTotal(String model, String version, Instant from, Instant to) {
        return store.read(c -> {
            Aggregate a = one(c, "SELECT " + SUMS + ", NULL FROM telemetry_model WHERE model = ? AND version = ? AND bucket >= ? AND bucket < ?",
                    Optional.of(model), Optional.of(version), model, version, from, to);
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(DISTINCT fleet || '/' || device) FROM telemetry_device "
                    + "WHERE model = ? AND version = ? AND bucket >= ? AND bucket < ?")) {
                ResultSet r = Jdbc.bind(p, model, version, from, to).executeQuery();
                r.next();
                return withDevices(a, r.getLong(1)).withClientErrors(kinds(c, "SELECT kind, SUM(count) FROM telemetry_model_client_errors "
                        + "WHERE model = ? AND version = ? AND bucket >= ? AND bucket < ? GROUP BY kind", model, version, from, to));
            }
        });
    }

    /** Per-bucket series for a model version. */
    public List<Aggregate> modelSeries(String model, String version, Instant from, Instant to) {
        return store.read(c -> {
            Map<Long, Map<String, Long>> kinds = new HashMap<>();
            try (PreparedStatement p = c.prepareStatement("SELECT bucket, kind, SUM(count) FROM telemetry_model_client_errors "
                    + "WHERE model = ? AND version = ? AND bucket >= ? AND bucket < ? GROUP BY bucket, kind")) {
                ResultSet r = Jdbc.bind(p, model, version, from, to).executeQuery();
                while (r.next()) {
                    kinds.computeIfAbsent(r.getLong(1), k -> new TreeMap<>()).put(r.getString(2), r.getLong(3));
                }
            }
            return many(c, "SELECT " + SUMS + ", bucket FROM telemetry_model WHERE model = ? AND version = ? AND bucket >= ? "
                    + "AND bucket < ? GROUP BY bucket ORDER BY bucket", model, version, from, to).stream()
                    .map(a -> a.withClientErrors(kinds.getOrDefault(a.bucket().orElseThrow().toEpochMilli(), Map.of()))).toList();
        });
    }

    /** Totals for a device, per (model, version). */
    public List<Aggregate> deviceTotals(String fleet, String device, Instant from, Instant to) {
        return store.read(c -> {
            List<Aggregate> out = new ArrayList<>();
            Map<List<String>, Map<String, Long>> kinds = new HashMap<>();
            try (PreparedStatement p = c.prepareStatement("SELECT model, version, kind, SUM(count) FROM telemetry_device_client_errors "
                    + "WHERE fleet = ? AND device = ? AND bucket >= ? AND bucket < ? GROUP BY model, version, kind")) {
                ResultSet r = Jdbc.bind(p, fleet, device, from, to).executeQuery();
                while (r.next()) {
                    kinds.computeIfAbsent(List.of(r.getString(1), r.getString(2)), k -> new TreeMap<>()).put(r.getString(3), r.getLong(4));
                }
            }
            try (PreparedStatement p = c.prepareStatement("SELECT " + SUMS + ", model, version FROM telemetry_device WHERE fleet = ? AND device = ? "
                    + "AND bucket >= ? AND bucket < ? GROUP BY model, version ORDER BY model, version")) {
                ResultSet r = Jdbc.bind(p, fleet, device, from, to).executeQuery();
                while (r.next()) {
                    String m = r.getString(18);
                    String v = r.getString(19);
                    out.add(read(r, Optional.of(m), Optional.of(v), Optional.empty(), 1).withClientErrors(kinds.getOrDefault(List.of(m, v), Map.of())));
                }
            }
            return out;
        });
    }

    /**
     * Per-bucket series for a device, one aggregate per (model, version, bucket), ordered by model,
     * version and bucket (the console's charts). Client errors are counted in {@code clientErrorCount},
     * not split by kind.
     */
    public List<Aggregate> deviceSeries(String fleet, String device, Instant from, Instant to) {
        return store.read(c -> {
            List<Aggregate> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT " + SUMS + ", model, version, bucket FROM telemetry_device WHERE fleet = ? "
                    + "AND device = ? AND bucket >= ? AND bucket < ? GROUP BY model, version, bucket ORDER BY model, version, bucket")) {
                ResultSet r = Jdbc.bind(p, fleet, device, from, to).executeQuery();
                while (r.next()) {
                    out.add(read(r, Optional.of(r.getString(18)), Optional.of(r.getString(19)), Optional.of(Instant.ofEpochMilli(r.getLong(20))), 1));
                }
            }
            return out;
        });
    }

    /**
     * Totals of a model version over a set of devices ({@code fleet/device} keys), for rollout gates:
     * the devices of a wave against the baseline devices still on the previous version.
     */
    public Aggregate devicesTotal(String model, String version, Collection<String> deviceKeys, Instant from, Instant to) {
        if (deviceKeys.isEmpty()) {
            return empty(model, version);
        }
        if (store.kind() == DatabaseSettings.Kind.POSTGRESQL) {
            // one array parameter instead of a temporary table filled row by row: the leader judges every wave at every tick,
            // and at 10,000 devices the table cost one INSERT per device and tick (issue 18's bench: 400 statements per device)
            return store.read(c -> {
                java.sql.Array keys = c.createArrayOf("text", deviceKeys.toArray());
                try (PreparedStatement p = c.prepareStatement("SELECT " + SUMS + ", COUNT(DISTINCT fleet || '/' || device) FROM telemetry_device "
                        + "WHERE model = ? AND version = ? AND bucket >= ? AND bucket < ? AND (fleet || '/' || device) = ANY(?)")) {
                    Jdbc.bind(p, model, version, from, to);
                    p.setArray(5, keys);
                    ResultSet r = p.executeQuery();
                    r.next();
                    Aggregate a = read(r, Optional.of(model), Optional.of(version), Optional.empty(), r.getLong(18));
                    return a.withClientErrors(kinds(c, "SELECT kind, SUM(count) FROM telemetry_device_client_errors WHERE model = ? "
                            + "AND version = ? AND bucket >= ? AND bucket < ? AND (fleet || '/' || device) = ANY(?) GROUP BY kind", model, version,
                            from, to, keys));
                }
            });
        }
        return store.read(c -> {
            c.createStatement().execute("CREATE TEMP TABLE IF NOT EXISTS gate_devices (k TEXT PRIMARY KEY)");
            c.createStatement().execute("DELETE FROM gate_devices");
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO gate_devices (k) VALUES (?) ON CONFLICT DO NOTHING")) {
                for (String k : deviceKeys) {
                    ins.setString(1, k);
                    ins.addBatch();
                }
                ins.executeBatch();
            }
            try (PreparedStatement p = c.prepareStatement("SELECT " + SUMS + ", COUNT(DISTINCT fleet || '/' || device) FROM telemetry_device "
                    + "WHERE model = ? AND version = ? AND bucket >= ? AND bucket < ? AND (fleet || '/' || device) IN (SELECT k FROM gate_devices)")) {
                ResultSet r = Jdbc.bind(p, model, version, from, to).executeQuery();
                r.next();
                return read(r, Optional.of(model), Optional.of(version), Optional.empty(), r.getLong(18)).withClientErrors(kinds(c,
                        "SELECT kind, SUM(count) FROM telemetry_device_client_errors WHERE model = ? AND version = ? AND bucket >= ? AND bucket < ? "
                        + "AND (fleet || '/' || device) IN (SELECT k FROM gate_devices) GROUP BY kind", model, version, from, to));
            }
        });
    }

    /** Batches a device reported as dropped from its outbox (broker away too long). */
    public long lost(String fleet, String device) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT lost FROM telemetry_lost WHERE fleet = ? AND device = ?")) {
                ResultSet r = Jdbc.bind(p, fleet, device).executeQuery();
                return r.next() ? r.getLong(1) : 0L;
            }
        });
    }

    /** Distinct batches recorded as seen (not yet pruned). */
    public long seenBatches() {
        return store.read(c -> {
            try (ResultSet r = c.createStatement().executeQuery("SELECT COUNT(*) FROM telemetry_seen")) {
                r.next();
                return r.getLong(1);
            }
        });
    }

    private static Aggregate empty(String model, String version) {
        return new Aggregate(Optional.of(model), Optional.of(version), Optional.empty(), 0, 0, 0, 0, 0, OptionalDouble.empty(), 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, Map.of());
    }

    private static Aggregate withDevices(Aggregate a, long devices) {
        return new Aggregate(a.model(), a.version(), a.bucket(), a.count(), a.errors(), a.escalations(), a.nonFinite(), a.lowConfidence(),
                a.meanConfidence(), a.p50Ms(), a.p95Ms(), a.p99Ms(), a.maxMs(), a.batches(), devices, a.cloudAnswers(), a.cloudFailures(),
                a.escalationMillis(), a.clientErrorCount(), a.clientErrors());
    }

    /** Client errors by kind from a {@code SELECT kind, SUM(count) ... GROUP BY kind}. */
    private static Map<String, Long> kinds(Connection c, String sql, Object... args) throws SQLException {
        Map<String, Long> out = new TreeMap<>();
        try (PreparedStatement p = c.prepareStatement(sql)) {
            ResultSet r = Jdbc.bind(p, args).executeQuery();
            while (r.next()) {
                out.put(r.getString(1), r.getLong(2));
            }
        }
        return out;
    }

    private Aggregate one(Connection c, String sql, Optional<String> model, Optional<String> version, Object... args) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            ResultSet r = Jdbc.bind(p, args).executeQuery();
            r.next();
            return read(r, model, version, Optional.empty(), 0);
        }
    }

    private List<Aggregate> many(Connection c, String sql, String model, String version, Object... args) throws SQLException {
        List<Aggregate> out = new ArrayList<>();
        Object[] all = new Object[args.length + 2];
        all[0] = model;
        all[1] = version;
        System.arraycopy(args, 0, all, 2, args.length);
        try (PreparedStatement p = c.prepareStatement(sql)) {
            ResultSet r = Jdbc.bind(p, all).executeQuery();
            while (r.next()) {
                out.add(read(r, Optional.of(model), Optional.of(version), Optional.of(Instant.ofEpochMilli(r.getLong(18))), 0));
            }
        }
        return out;
    }

    private static Aggregate read(ResultSet r, Optional<String> model, Optional<String> version, Optional<Instant> bucket, long devices)
            throws SQLException {
        long count = r.getLong(1);
        long confCount = r.getLong(7);
        long weight = r.getLong(11);
        return new Aggregate(model, version, bucket, count, r.getLong(2), r.getLong(3), r.getLong(4), r.getLong(5),
                confCount == 0 ? OptionalDouble.empty() : OptionalDouble.of(r.getDouble(6) / confCount),
                weight == 0 ? 0 : r.getDouble(8) / weight, weight == 0 ? 0 : r.getDouble(9) / weight, weight == 0 ? 0 : r.getDouble(10) / weight,
                r.getDouble(12), r.getLong(13), devices, r.getLong(14), r.getLong(15), r.getDouble(16), r.getLong(17), Map.of());
    }
}
