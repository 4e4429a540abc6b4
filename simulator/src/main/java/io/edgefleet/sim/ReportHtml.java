package io.edgefleet.sim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * Renders a {@link Report} as one self-contained HTML page: inline SVG charts (no script, no
 * external files), the tables behind them, and the report's JSON embedded at the end so the page
 * alone is enough to share a run.
 */
public final class ReportHtml {
    private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
    private static final int W = 960;
    private static final int H = 230;
    private static final int PAD_L = 60;
    private static final int PAD_R = 150;
    private static final int PAD_T = 28;
    private static final int PAD_B = 30;

    private ReportHtml() {
    }

    record Series(String name, double[] x, double[] y) {
    }

    record Band(double from, double to, String label, String color) {
    }

    public static Path write(Report r, Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(file, render(r));
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String render(Report r) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>EdgeFleet simulation: ")
                .append(esc(String.valueOf(r.scenario().get("name")))).append("</title>\n<style>")
                .append("body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222}")
                .append("h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}")
                .append("table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}")
                .append("th{background:#f5f5f5}.ok{color:#2ca02c;font-weight:600}.bad{color:#d62728;font-weight:600}")
                .append("svg{display:block;margin:6px 0}code{background:#f5f5f5;padding:0 3px}</style></head><body>\n");
        b.append("<h1>EdgeFleet simulation: ").append(esc(String.valueOf(r.scenario().get("name")))).append(" <span class=\"")
                .append(r.passed() ? "ok\">PASSED" : "bad\">FAILED").append("</span></h1>\n");
        b.append("<p>").append(esc(String.valueOf(r.scenario().get("devices")))).append(" devices ")
                .append(esc(String.valueOf(r.scenario().get("profiles")))).append(", broker: ").append(esc(r.broker()))
                .append(", started ").append(r.startedAt()).append(", ").append(String.format(Locale.ROOT, "%.0f s", r.seconds()))
                .append(", load ").append(esc(String.valueOf(r.scenario().get("loadPerDevice")))).append(" requests/s per device.</p>\n");

        b.append("<h2>Expectations</h2><table><tr><th></th><th>what</th><th>expected</th><th>actual</th></tr>");
        for (Report.Expectation e : r.expectations()) {
            b.append("<tr><td class=\"").append(e.ok() ? "ok\">ok" : "bad\">FAILED").append("</td><td>").append(esc(e.what()))
                    .append("</td><td>").append(esc(e.expected())).append("</td><td>").append(esc(e.actual())).append("</td></tr>");
        }
        b.append("</table>\n");

        List<Band> bands = bands(r);
        List<Report.Sample> tl = r.timeline();
        double[] t = tl.stream().mapToDouble(Report.Sample::t).toArray();

        b.append("<h2>Rollout progress</h2><p>Devices by the model version they serve (shaded: faults; lines: steps).</p>");
        Set<String> versions = new LinkedHashSet<>();
        tl.forEach(s -> versions.addAll(s.versions().keySet()));
        List<Series> vs = new ArrayList<>();
        for (String v : versions) {
            vs.add(new Series(v.equals("-") ? "no model" : "v" + v, t, tl.stream().mapToDouble(s -> s.versions().getOrDefault(v, 0)).toArray()));
        }
        b.append(chart("devices per version", vs, bands, stepLines(r), Double.NaN));
        for (Report.StepResult s : r.steps()) {
            if (s.rolloutId().isEmpty()) {
                continue;
            }
            List<Report.Sample> mine = tl.stream().filter(x -> x.rollout().equals(s.rolloutId())).toList();
            if (mine.isEmpty()) {
                continue;
            }
            double[] mt = mine.stream().mapToDouble(Report.Sample::t).toArray();
            Set<Integer> waves = new LinkedHashSet<>();
            mine.forEach(x -> waves.addAll(x.activatedByWave().keySet()));
            List<Series> ws = new ArrayList<>();
            for (int w : waves) {
                ws.add(new Series("wave " + (w + 1), mt, mine.stream().mapToDouble(x -> x.activatedByWave().getOrDefault(w, 0L)).toArray()));
            }
            b.append(chart(s.name() + " (v" + s.version().orElse("?") + ", " + s.state().orElse("?") + "): activated devices per wave", ws,
                    bands, List.of(), Double.NaN));
        }

        b.append("<h2>Gate evaluations</h2>");
        for (Report.StepResult s : r.steps()) {
            if (s.gates().isEmpty()) {
                continue;
            }
            b.append("<p><b>").append(esc(s.name())).append("</b>: ").append(esc(s.state().orElse(""))).append(s.reason().map(x -> " — " + esc(x)).orElse(""))
                    .append("</p><table><tr><th>t (s)</th><th>wave</th><th>verdict</th><th>values</th></tr>");
            List<Report.Gate> gs = s.gates();
            for (Report.Gate g : gs.subList(Math.max(0, gs.size() - 12), gs.size())) {
                b.append(String.format(Locale.ROOT, "<tr><td>%.1f</td><td>%d</td><td class=\"%s\">%s</td><td><code>%s</code></td></tr>", g.at(), g.wave() + 1,
                        g.passed() ? "ok" : "bad", g.passed() ? "passed" : "failed", esc(compact(g.values()))));
            }
            b.append("</table>");
        }

        b.append("<h2>Requests</h2>");
        b.append(chart("latency (ms)", List.of(series("p50", tl, t, Report.Sample::p50Ms), series("p95", tl, t, Report.Sample::p95Ms),
                series("p99", tl, t, Report.Sample::p99Ms)), bands, stepLines(r), Double.NaN));
        b.append(chart("share of requests", List.of(
                series("cloud answered", tl, t, s -> s.requests() == 0 ? 0 : (double) s.cloud() / s.requests()),
                series("errors", tl, t, s -> s.requests() == 0 ? 0 : (double) s.errors() / s.requests()),
                series("accuracy", tl, t, Report.Sample::accuracy)), bands, stepLines(r), 1.0));
        b.append("<table><tr><th>edge version</th><th>requests</th><th>errors</th><th>cloud answered</th><th>edge model alone</th>"
                + "<th>answers given</th><th>p50 ms</th><th>p95 ms</th></tr>");
        r.requests().byVersion().forEach((v, s) -> b.append(String.format(Locale.ROOT,
                "<tr><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%.2f</td><td>%.2f</td></tr>", esc(v), s.requests(),
                s.errors(), Report.pct(s.cloudShare()), s.edgeAccuracy() < 0 ? "n/a" : Report.pct(s.edgeAccuracy()), Report.pct(s.accuracy()), s.p50Ms(), s.p95Ms())));
        b.append("</table>");
        if (!r.requests().errorKinds().isEmpty()) {
            b.append("<p>Errors by kind: <code>").append(esc(compact(new LinkedHashMap<>(r.requests().errorKinds())))).append("</code></p>");
        }

        b.append("<h2>Connectivity</h2>");
        b.append(chart("devices", List.of(series("MQTT connected", tl, t, Report.Sample::connected),
                series("online (control plane)", tl, t, Report.Sample::online)), bands, stepLines(r), Double.NaN));

        b.append("<h2>Model sync: bytes synced vs full size</h2>");
        b.append(syncBars(r));

        b.append("<h2>Faults</h2><table><tr><th>t (s)</th><th>fault</th><th>devices</th><th>what happened</th></tr>");
        for (Report.FaultResult f : r.faults()) {
            b.append(String.format(Locale.ROOT, "<tr><td>%.1f–%.1f</td><td>%s</td><td>%s</td><td>%s</td></tr>", f.at(), f.until(), esc(f.description()),
                    f.devices().isEmpty() ? "all" : esc(f.devices().size() + ": " + String.join(", ", f.devices().subList(0, Math.min(8, f.devices().size())))
                            + (f.devices().size() > 8 ? ", …" : "")), esc(f.outcome())));
        }
        b.append("</table>");

        Report.Telemetry tm = r.telemetry();
        b.append("<h2>Telemetry accounting</h2><table>")
                .append(row("recorded on the devices", tm.recorded())).append(row("ingested by the cloud", tm.ingested()))
                .append(row("lost in killed agents' open windows", tm.lostOnKilled()))
                .append(row("at most allowed for those (one open window before each kill)", tm.lostOnKilledBound())).append(row("lost otherwise", tm.lost()))
                .append(row("redelivered batches dropped as duplicates", tm.duplicatesDropped())).append("</table>");

        b.append("<h2>Steps</h2><table><tr><th>step</th><th>from (s)</th><th>to (s)</th><th>outcome</th></tr>");
        for (Report.StepResult s : r.steps()) {
            b.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%.1f</td><td>%.1f</td><td>%s</td></tr>", esc(s.name()), s.startedAt(), s.endedAt(),
                    esc(s.type() + s.version().map(v -> " v" + v).orElse("") + s.state().map(x -> ": " + x).orElse("")
                            + s.stoppedInWave().map(w -> ", stopped in wave " + w).orElse(""))));
        }
        b.append("</table>");
        b.append("<h2>Environment</h2><p><code>").append(esc(compact(r.environment()))).append("</code></p>");
        b.append("\n<script type=\"application/json\" id=\"report\">");
        try {
            b.append(Report.JSON.writeValueAsString(r).replace("</", "<\\/"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        b.append("</script>\n</body></html>\n");
        return b.toString();
    }

    private static String row(String k, long v) {
        return String.format(Locale.ROOT, "<tr><td>%s</td><td>%,d</td></tr>", k, v);
    }

    private static Series series(String name, List<Report.Sample> tl, double[] t, ToDoubleFunction<Report.Sample> f) {
        return new Series(name, t, tl.stream().mapToDouble(f).toArray());
    }

    private static List<Band> bands(Report r) {
        List<Band> out = new ArrayList<>();
        for (Report.FaultResult f : r.faults()) {
            out.add(new Band(f.at(), Math.max(f.until(), f.at() + 0.5), f.type(), "#d62728"));
        }
        return out;
    }

    private static List<Band> stepLines(Report r) {
        List<Band> out = new ArrayList<>();
        for (Report.StepResult s : r.steps()) {
            if (!s.type().equals("wait")) {
                out.add(new Band(s.startedAt(), s.startedAt(), s.name(), "#888"));
            }
        }
        return out;
    }

    static String chart(String title, List<Series> series, List<Band> bands, List<Band> lines, double fixedMax) {
        double xMax = 1;
        double yMax = 0;
        for (Series s : series) {
            for (double x : s.x()) {
                xMax = Math.max(xMax, x);
            }
            for (double y : s.y()) {
                if (Double.isFinite(y)) {
                    yMax = Math.max(yMax, y);
                }
            }
        }
        yMax = Double.isNaN(fixedMax) ? niceMax(yMax) : fixedMax;
        double xm = xMax;
        double ym = yMax;
        int pw = W - PAD_L - PAD_R;
        int ph = H - PAD_T - PAD_B;
        java.util.function.DoubleUnaryOperator sx = x -> PAD_L + x / xm * pw;
        java.util.function.DoubleUnaryOperator sy = y -> PAD_T + ph - Math.min(y, ym) / ym * ph;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">", W, H,
                esc(title)));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"16\" font-size=\"13\" font-weight=\"600\">%s</text>", PAD_L, esc(title)));
        for (Band band : bands) {
            b.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\" opacity=\"0.12\"><title>%s</title></rect>",
                    sx.applyAsDouble(band.from()), PAD_T, Math.max(1.5, sx.applyAsDouble(band.to()) - sx.applyAsDouble(band.from())), ph, band.color(),
                    esc(band.label())));
        }
        for (Band l : lines) {
            double x = sx.applyAsDouble(l.from());
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-dasharray=\"3,3\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" fill=\"#666\" transform=\"rotate(-90 %.1f %d)\" text-anchor=\"end\">%s</text>",
                    x, x, PAD_T, PAD_T + ph, l.color(), x + 9, PAD_T + 2, x + 9, PAD_T + 2, esc(l.label())));
        }
        for (int i = 0; i <= 4; i++) {
            double y = ym * i / 4;
            double py = sy.applyAsDouble(y);
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/><text x=\"%d\" y=\"%.1f\" font-size=\"10\" "
                    + "text-anchor=\"end\">%s</text>", PAD_L, PAD_L + pw, py, py, PAD_L - 4, py + 3, fmt(y)));
        }
        double step = niceMax(xm / 8);
        for (double x = 0; x <= xm + 1e-9; x += step) {
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%s s</text>", sx.applyAsDouble(x),
                    H - 10, fmt(x)));
        }
        b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>", PAD_L, PAD_T, pw, ph));
        for (int i = 0; i < series.size(); i++) {
            Series s = series.get(i);
            String color = COLORS[i % COLORS.length];
            StringBuilder pts = new StringBuilder();
            for (int k = 0; k < s.x().length; k++) {
                if (Double.isFinite(s.y()[k])) {
                    pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", sx.applyAsDouble(s.x()[k]), sy.applyAsDouble(s.y()[k])));
                }
            }
            b.append("<polyline fill=\"none\" stroke-width=\"1.6\" stroke=\"").append(color).append("\" points=\"").append(pts).append("\"/>");
            b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>",
                    PAD_L + pw + 10, PAD_T + 4 + i * 16, color, PAD_L + pw + 24, PAD_T + 13 + i * 16, esc(s.name())));
        }
        b.append("</svg>\n");
        return b.toString();
    }

    private static String syncBars(Report r) {
        List<Report.StepResult> rs = r.steps().stream().filter(s -> s.sync().isPresent()).toList();
        if (rs.isEmpty()) {
            return "<p>No rollouts.</p>";
        }
        long max = 1;
        for (Report.StepResult s : rs) {
            max = Math.max(max, Math.max(s.sync().get().fullBytes(), s.sync().get().bytesFetched()));
        }
        int rowH = 44;
        int h = rs.size() * rowH + 20;
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">", W, h));
        int x0 = 170;
        int bw = W - x0 - 260;
        for (int i = 0; i < rs.size(); i++) {
            Report.Sync y = rs.get(i).sync().get();
            int top = 10 + i * rowH;
            double full = (double) y.fullBytes() / max * bw;
            double got = (double) y.bytesFetched() / max * bw;
            b.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%d\" font-size=\"12\">%s (v%s)</text>", top + 20, esc(rs.get(i).name()),
                    esc(rs.get(i).version().orElse("?"))));
            b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"14\" fill=\"#ccc\"/>", x0, top, full));
            b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"14\" fill=\"#1f77b4\"/>", x0, top + 16, got));
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">full files: %s (%d devices × %s)</text>", x0 + bw + 8, top + 11,
                    Report.mb(y.fullBytes()), y.devicesActivated(), Report.mb(y.variantBytes())));
            b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\">synced: %s (%s)%s</text>", x0 + bw + 8, top + 27,
                    Report.mb(y.bytesFetched()), Report.pct(y.ratio()), y.corruptedChunks() > 0 ? ", " + y.corruptedChunks() + " corrupted chunks re-fetched" : ""));
        }
        b.append("</svg>\n");
        return b.toString();
    }

    static double niceMax(double v) {
        if (v <= 0) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    static String compact(Map<String, Object> m) {
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> {
            if (b.length() > 0) {
                b.append(", ");
            }
            b.append(k).append('=').append(v instanceof Double d ? String.format(Locale.ROOT, "%.3g", d) : String.valueOf(v));
        });
        return b.toString();
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
