package io.edgefleet.cloud.rollout;

import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Jdbc;
import io.edgefleet.protocols.messages.ShadowStats;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The shadow readings agents report (docs/shadow.md), per rollout, device and telemetry window ({@code shadow_readings},
 * migration V13), on SQLite or PostgreSQL: written by the ingest role as batches are stored, read by the rollout engine's
 * shadow gates and the status. A redelivered window is kept once. Thread-safe (every call is its own transaction).
 */
public final class ShadowReadings {
    private final CloudStore store;

    public ShadowReadings(CloudStore store) {
        this.store = store;
    }

    /**
     * One device's window.
     *
     * @param device {@code fleet/device}
     */
    public record Row(String device, Instant windowStart, Instant windowEnd, String activeVersion, String candidate, long samples,
            long agreements, long nonFinite, long dropped, OptionalDouble latencyRatio, OptionalDouble confidenceDiff) {
    }

    /**
     * A rollout's shadow readings for one candidate, all devices and windows together.
     *
     * @param devices devices that reported at least one sample
     * @param windows device windows with a latency ratio
     * @param agreement agreements / samples; NaN without samples
     * @param latencyRatio the sample-weighted median of the windows' median ratios; NaN without any
     * @param activeMillis the same median of the active version's paired model times; NaN without any
     * @param confidenceDiff sample-weighted mean of the windows' confidence differences; NaN without any
     */
    public record Totals(long samples, long agreements, long nonFinite, long dropped, int devices, int windows, double agreement,
            double latencyRatio, double activeMillis, double confidenceDiff) {
        /** Totals of the given rows. */
        static Totals of(List<Row> rows) {
            long samples = 0;
            long agreements = 0;
            long nonFinite = 0;
            long dropped = 0;
            double diffSum = 0;
            long diffN = 0;
            java.util.Set<String> devices = new java.util.HashSet<>();
            List<double[]> ratios = new ArrayList<>();
            List<double[]> actives = new ArrayList<>();
            for (Row r : rows) {
                samples = saturated(samples, r.samples());
                agreements = saturated(agreements, r.agreements());
                nonFinite = saturated(nonFinite, r.nonFinite());
                dropped = saturated(dropped, r.dropped());
                if (r.samples() > 0) {
                    devices.add(r.device());
                }
                if (r.latencyRatio().isPresent() && r.samples() > 0) {
                    ratios.add(new double[] {r.latencyRatio().getAsDouble(), r.samples()});
                }
                if (r.confidenceDiff().isPresent() && r.samples() > 0) {
                    diffSum += r.confidenceDiff().getAsDouble() * r.samples();
                    diffN += r.samples();
                }
            }
            return new Totals(samples, agreements, nonFinite, dropped, devices.size(), ratios.size(),
                    samples == 0 ? Double.NaN : (double) agreements / samples, weightedMedian(ratios), Double.NaN,
                    diffN == 0 ? Double.NaN : diffSum / diffN);
        }

        /**
         * The lower and upper bound of the agreement's Wilson score interval at {@link ShadowGate#Z} (one-sided 0.1 % each,
         * the bound the gate judges by); {@code [0, 1]} without samples.
         */
        public double[] agreementBounds() {
            return new double[] {ShadowGate.lowerBound(agreements, samples), ShadowGate.upperBound(agreements, samples)};
        }

        Totals withActiveMillis(double ms) {
            return new Totals(samples, agreements, nonFinite, dropped, devices, windows, agreement, latencyRatio, ms, confidenceDiff);
        }
    }

    /**
     * The totals of {@code rows} per device ({@code fleet/device}, in order of first appearance), for the status's per-device
     * table; {@code activeMillis} is NaN (rows do not carry it).
     */
    public static java.util.Map<String, Totals> perDevice(List<Row> rows) {
        java.util.Map<String, List<Row>> by = new java.util.LinkedHashMap<>();
        rows.forEach(r -> by.computeIfAbsent(r.device(), k -> new ArrayList<>()).add(r));
        java.util.Map<String, Totals> out = new java.util.LinkedHashMap<>();
        by.forEach((device, rs) -> out.put(device, Totals.of(rs)));
        return out;
    }

    /** {@code a + b} for counts >= 0, held at {@link Long#MAX_VALUE} instead of wrapping negative (absurd reported counts). */
    static long saturated(long a, long b) {
        long s = a + b;
        return s < 0 ? Long.MAX_VALUE : s;
    }

    /** The value below and above which half the weight lies; NaN for none. */
    static double weightedMedian(List<double[]> valueWeight) {
        if (valueWeight.isEmpty()) {
            return Double.NaN;
        }
        double[][] v = valueWeight.toArray(new double[0][]);
        Arrays.sort(v, java.util.Comparator.comparingDouble(x -> x[0]));
        double total = Arrays.stream(v).mapToDouble(x -> x[1]).sum();
        double acc = 0;
        for (double[] x : v) {
            acc += x[1];
            if (acc >= total / 2) {
                return x[0];
            }
        }
        return v[v.length - 1][0];
    }

    /** Stores the shadow readings of the batches' records that name a rollout; others (no shadow, no rollout) are skipped. */
    public void record(List<TelemetryBatch> batches) {
        List<Object[]> rows = new ArrayList<>();
        for (TelemetryBatch b : batches) {
            for (TelemetryRecord r : b.records()) {
                if (r.shadow().isEmpty() || r.shadow().get().rolloutId().isEmpty()) {
                    continue;
                }
                ShadowStats s = r.shadow().get();
                rows.add(new Object[] {s.rolloutId().get(), b.fleet(), b.device(), r.windowStart(), r.windowEnd(), r.model(), r.version(),
                        s.candidate(), s.samples(), s.agreements(), s.nonFinite(), s.dropped(), boxed(s.latencyRatio()), boxed(s.confidenceDiff()),
                        boxed(s.activeMillis())});
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO shadow_readings (rollout_id, fleet, device, window_start, window_end, model, "
                    + "active_version, candidate, samples, agreements, non_finite, dropped, latency_ratio, confidence_diff, active_ms) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rollout_id, fleet, device, window_start) DO NOTHING")) {
                for (Object[] row : rows) {
                    Jdbc.bind(p, row).addBatch();
                }
                p.executeBatch();
            }
            return null;
        });
    }

    private static Double boxed(OptionalDouble d) {
        return d.isPresent() ? d.getAsDouble() : null;
    }

    /**
     * Every window of {@code rolloutId} for {@code model}'s {@code candidate} reported by one of {@code devices}
     * ({@code fleet/device} keys: the rollout's own devices), oldest first. A reading that names the rollout but comes
     * from a device the rollout never targeted, or for another model, is stored (the ingest role does not know the
     * rollouts) but never read here: one device outside a rollout cannot pass or fail its shadow wave.
     */
    public List<Row> rows(String rolloutId, String model, String candidate, java.util.Set<String> devices) {
        return read(rolloutId, model, candidate, devices, null);
    }

    private List<Row> read(String rolloutId, String model, String candidate, java.util.Set<String> devices, List<double[]> actives) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT fleet, device, window_start, window_end, active_version, candidate, samples, "
                    + "agreements, non_finite, dropped, latency_ratio, confidence_diff, active_ms FROM shadow_readings WHERE rollout_id = ? "
                    + "AND model = ? AND candidate = ? ORDER BY window_start, fleet, device")) {
                ResultSet r = Jdbc.bind(p, rolloutId, model, candidate).executeQuery();
                List<Row> out = new ArrayList<>();
                while (r.next()) {
                    String device = r.getString(1) + "/" + r.getString(2);
                    if (!devices.contains(device)) {
                        continue;
                    }
                    Row row = new Row(device, Instant.ofEpochMilli(r.getLong(3)), Instant.ofEpochMilli(r.getLong(4)),
                            r.getString(5), r.getString(6), r.getLong(7), r.getLong(8), r.getLong(9), r.getLong(10), optional(r, 11),
                            optional(r, 12));
                    out.add(row);
                    OptionalDouble ms = optional(r, 13);
                    if (actives != null && ms.isPresent() && row.samples() > 0) {
                        actives.add(new double[] {ms.getAsDouble(), row.samples()});
                    }
                }
                return out;
            }
        });
    }

    /** The totals of {@link #rows}: only the rollout's own devices' readings of {@code model}'s {@code candidate}. */
    public Totals totals(String rolloutId, String model, String candidate, java.util.Set<String> devices) {
        List<double[]> actives = new ArrayList<>();
        Totals t = Totals.of(read(rolloutId, model, candidate, devices, actives));
        return t.withActiveMillis(weightedMedian(actives));
    }

    private static OptionalDouble optional(ResultSet r, int column) throws SQLException {
        double v = r.getDouble(column);
        return r.wasNull() ? OptionalDouble.empty() : OptionalDouble.of(v);
    }
}
