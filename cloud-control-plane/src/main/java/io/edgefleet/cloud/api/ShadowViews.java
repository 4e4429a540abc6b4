package io.edgefleet.cloud.api;

import io.edgefleet.cloud.rollout.RolloutEngine;
import io.edgefleet.cloud.rollout.RolloutSpec;
import io.edgefleet.cloud.rollout.ShadowReadings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code shadow} block of a rollout's status (docs/shadow.md), for a rollout with a shadow wave: the shadow gates in
 * force, the readings of all devices together ({@code totals}, with {@code agreementLow}/{@code agreementHigh}: the
 * Wilson bounds at z = 3.09 the gate judges by), the same per device ({@code devices}: {@code device}, the totals' keys
 * without {@code devices}, {@code windows}, {@code lastWindowStart}) and the latest device windows ({@code windows},
 * newest first, at most {@value #MAX_WINDOWS}). Values that do not exist yet (no sample) are left out rather than NaN.
 */
final class ShadowViews {
    static final int MAX_WINDOWS = 50;

    private ShadowViews() {
    }

    static void addTo(Map<String, Object> status, RolloutEngine engine, String id, RolloutSpec spec) {
        if (spec.waves().stream().noneMatch(RolloutSpec.Wave::shadow)) {
            return;
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("gates", spec.effectiveShadowGates());
        engine.shadowTotals(id).ifPresent(t -> out.put("totals", totals(t)));
        List<ShadowReadings.Row> rows = engine.shadowRows(id);
        out.put("devices", devices(rows));
        out.put("windows", rows.subList(Math.max(0, rows.size() - MAX_WINDOWS), rows.size()).reversed().stream().map(ShadowViews::row).toList());
        status.put("shadow", out);
    }

    /**
     * The per-device entries of {@code rows} (in order of first appearance): {@code device}, its totals without
     * {@code devices}, {@code windows} and {@code lastWindowStart} (of its last row; rows come by window start). One pass
     * over the rows for the counts and last starts, so a status of a large shadow wave stays linear in its rows (it was
     * two scans of every row per device: quadratic, on every console poll).
     */
    static List<Map<String, Object>> devices(List<ShadowReadings.Row> rows) {
        Map<String, long[]> windows = new java.util.HashMap<>();
        Map<String, ShadowReadings.Row> last = new java.util.HashMap<>();
        for (ShadowReadings.Row r : rows) {
            windows.computeIfAbsent(r.device(), k -> new long[1])[0]++;
            last.put(r.device(), r);
        }
        List<Map<String, Object>> devices = new java.util.ArrayList<>();
        ShadowReadings.perDevice(rows).forEach((device, t) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("device", device);
            m.putAll(totals(t));
            m.remove("devices");
            m.put("windows", windows.get(device)[0]);
            m.put("lastWindowStart", last.get(device).windowStart().toString());
            devices.add(m);
        });
        return devices;
    }

    static Map<String, Object> totals(ShadowReadings.Totals t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("samples", t.samples());
        m.put("agreements", t.agreements());
        put(m, "agreement", t.agreement());
        if (t.samples() > 0) {
            double[] bounds = t.agreementBounds();
            m.put("agreementLow", bounds[0]);
            m.put("agreementHigh", bounds[1]);
        }
        put(m, "latencyRatio", t.latencyRatio());
        put(m, "activeMs", t.activeMillis());
        put(m, "confidenceDiff", t.confidenceDiff());
        m.put("nonFinite", t.nonFinite());
        m.put("dropped", t.dropped());
        m.put("devices", t.devices());
        return m;
    }

    private static Map<String, Object> row(ShadowReadings.Row r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", r.device());
        m.put("windowStart", r.windowStart().toString());
        m.put("activeVersion", r.activeVersion());
        m.put("samples", r.samples());
        m.put("agreements", r.agreements());
        r.latencyRatio().ifPresent(v -> m.put("latencyRatio", v));
        r.confidenceDiff().ifPresent(v -> m.put("confidenceDiff", v));
        m.put("nonFinite", r.nonFinite());
        m.put("dropped", r.dropped());
        return m;
    }

    private static void put(Map<String, Object> m, String key, double v) {
        if (Double.isFinite(v)) {
            m.put(key, v);
        }
    }
}
