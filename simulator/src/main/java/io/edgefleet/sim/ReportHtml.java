package io.edgefleet.sim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
    /** Fault shading colours, one per fault type in the order the scenario first uses them. */
    private static final String[] FAULT_COLORS = {"#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

    private ReportHtml() {
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
                .append("svg{display:block;margin:6px 0}code{background:#f5f5f5;padding:0 3px}")
                .append(".wide{overflow-x:auto}table.gates{font-size:12px}table.gates th{font-weight:600}.short{color:#999}.nj{color:#aaa;text-align:center}")
                .append("</style></head><body>\n");
        b.append("<h1>EdgeFleet simulation: ").append(esc(String.valueOf(r.scenario().get("name")))).append(" <span class=\"")
                .append(r.passed() ? "ok\">PASSED" : "bad\">FAILED").append("</span></h1>\n");
        b.append("<p>").append(esc(String.valueOf(r.scenario().get("devices")))).append(" devices (")
                .append(esc(profiles(r.scenario().get("profiles")))).append("), broker: ").append(esc(r.broker()))
                .append(", started ").append(r.startedAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)).append(", ")
                .append(String.format(Locale.ROOT, "%.0f s", r.seconds()))
                .append(", load ").append(esc(ReportGates.value(r.scenario().get("loadPerDevice")))).append(" requests/s per device.</p>\n");

        b.append("<h2>Expectations</h2><table><tr><th></th><th>what</th><th>expected</th><th>actual</th></tr>");
        for (Report.Expectation e : r.expectations()) {
            b.append("<tr><td class=\"").append(e.ok() ? "ok\">ok" : "bad\">FAILED").append("</td><td>").append(esc(e.what()))
                    .append("</td><td>").append(esc(e.expected())).append("</td><td>").append(esc(e.actual())).append("</td></tr>");
        }
        b.append("</table>\n");

        List<ReportChart.Band> bands = bands(r);
        List<Report.Sample> tl = r.timeline();
        double[] t = tl.stream().mapToDouble(Report.Sample::t).toArray();
        ReportChart.Axis run = ReportChart.Axis.run(r.seconds());

        b.append("<h2>Rollout progress</h2><p>Devices by the model version they serve (shaded: faults; dashed lines: steps). Below, each "
                + "rollout on its own time axis, from its start: activated devices per wave, waves numbered from 1 as in the gate tables.</p>");
        Set<String> versions = new LinkedHashSet<>();
        tl.forEach(s -> versions.addAll(s.versions().keySet()));
        List<ReportChart.Series> vs = new ArrayList<>();
        for (String v : versions) {
            vs.add(new ReportChart.Series(v.equals("-") ? "no model" : "v" + v, t,
                    tl.stream().mapToDouble(s -> s.versions().getOrDefault(v, 0)).toArray()));
        }
        b.append(ReportChart.render("devices per version", vs, bands, stepLines(r), run, ReportChart.YAxis.COUNTS));
        for (Report.StepResult s : r.steps()) {
            if (s.rolloutId().isEmpty() || s.activations().isEmpty()) {
                continue;
            }
            b.append(rolloutChart(s, bands));
        }

        b.append("<h2>Gate evaluations</h2><p>Each gate in force with its threshold in the heading and the value measured at each "
                + "evaluation (red: over its maximum; grey: under its minimum, the wave waits; —: not judged yet, hover for why).</p>");
        for (Report.StepResult s : r.steps()) {
            if (s.gates().isEmpty()) {
                continue;
            }
            b.append("<p><b>").append(esc(s.name())).append("</b>: ").append(esc(s.state().orElse(""))).append(s.reason().map(x -> " — " + esc(x)).orElse(""))
                    .append("</p>").append(ReportGates.render(s));
        }

        b.append(ReportEvaluation.render(r));

        b.append("<h2>Requests</h2>");
        b.append(ReportChart.render("latency (ms)", List.of(series("p50", tl, t, Report.Sample::p50Ms), series("p95", tl, t, Report.Sample::p95Ms),
                series("p99", tl, t, Report.Sample::p99Ms)), bands, stepLines(r), run, ReportChart.YAxis.VALUES));
        b.append(ReportChart.render("share of requests", List.of(
                series("cloud answered", tl, t, s -> s.requests() == 0 ? 0 : (double) s.cloud() / s.requests()),
                series("errors", tl, t, s -> s.requests() == 0 ? 0 : (double) s.errors() / s.requests()),
                series("accuracy", tl, t, Report.Sample::accuracy)), bands, stepLines(r), run, ReportChart.YAxis.SHARES));
        b.append("<table><tr><th>edge version</th><th>requests</th><th>errors</th><th>cloud answered</th><th>edge model alone</th>"
                + "<th>answers given</th><th>p50 ms</th><th>p95 ms</th></tr>");
        r.requests().byVersion().forEach((v, s) -> b.append(String.format(Locale.ROOT,
                "<tr><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%.2f</td><td>%.2f</td></tr>", esc(v), s.requests(),
                s.errors(), Report.pct(s.cloudShare()), s.edgeAccuracy() < 0 ? "n/a" : Report.pct(s.edgeAccuracy()), Report.pct(s.accuracy()), s.p50Ms(), s.p95Ms())));
        b.append("</table>");
        if (!r.requests().errorKinds().isEmpty()) {
            b.append("<p class=\"error-kinds\">Errors by kind: ").append(esc(Report.counts(r.requests().errorKinds()))).append("</p>");
        }

        b.append("<h2>Connectivity</h2>");
        b.append(ReportChart.render("devices", List.of(series("MQTT connected", tl, t, Report.Sample::connected),
                series("online (control plane)", tl, t, Report.Sample::online)), bands, stepLines(r), run, ReportChart.YAxis.COUNTS));

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
        b.append("<h2>Environment</h2><p>").append(esc(compact(r.environment()))).append("</p>");
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

    private static ReportChart.Series series(String name, List<Report.Sample> tl, double[] t, ToDoubleFunction<Report.Sample> f) {
        return new ReportChart.Series(name, t, tl.stream().mapToDouble(f).toArray());
    }

    /**
     * A rollout's activated devices per wave on its own time axis (its start to its end, labelled
     * from 0), one series per wave number from 1, ending with the counts read after it ended.
     */
    private static String rolloutChart(Report.StepResult s, List<ReportChart.Band> bands) {
        List<Report.WaveSample> a = s.activations();
        Set<Integer> waves = new java.util.TreeSet<>();
        s.waves().forEach(w -> waves.add(w.wave()));
        a.forEach(x -> waves.addAll(x.activatedByWave().keySet()));
        double[] at = new double[a.size() + 1];
        at[0] = s.startedAt();
        for (int i = 0; i < a.size(); i++) {
            at[i + 1] = a.get(i).t();
        }
        List<ReportChart.Series> ws = new ArrayList<>();
        for (int w : waves) {
            double[] y = new double[a.size() + 1];
            for (int i = 0; i < a.size(); i++) {
                y[i + 1] = a.get(i).activatedByWave().getOrDefault(w, 0L);
            }
            ws.add(new ReportChart.Series("wave " + w, at, y));
        }
        double end = Math.max(s.endedAt(), at[at.length - 1]);
        String title = String.format(Locale.ROOT, "%s (v%s, %s): activated devices per wave; seconds from its start at %.1f s", s.name(),
                s.version().orElse("?"), s.state().orElse("?"), s.startedAt());
        return "<div class=\"rollout-chart\" data-step=\"" + esc(s.name()) + "\">" + ReportChart.render(title, ws, bands, List.of(),
                new ReportChart.Axis(s.startedAt(), end, s.startedAt(), "s"), ReportChart.YAxis.COUNTS) + "</div>\n";
    }

    private static List<ReportChart.Band> bands(Report r) {
        List<ReportChart.Band> out = new ArrayList<>();
        List<String> types = new ArrayList<>();
        for (Report.FaultResult f : r.faults()) {
            if (!types.contains(f.type())) {
                types.add(f.type());
            }
            out.add(new ReportChart.Band(f.at(), Math.max(f.until(), f.at() + 0.5), f.type(), FAULT_COLORS[types.indexOf(f.type()) % FAULT_COLORS.length]));
        }
        return out;
    }

    private static List<ReportChart.Band> stepLines(Report r) {
        List<ReportChart.Band> out = new ArrayList<>();
        for (Report.StepResult s : r.steps()) {
            if (!s.type().equals("wait")) {
                out.add(new ReportChart.Band(s.startedAt(), s.startedAt(), s.name(), "#888"));
            }
        }
        return out;
    }

    /** {@code "8 raspberry-pi-4-4gb, 6 jetson-orin-nano-8gb"} from the scenario's profile list. */
    private static String profiles(Object list) {
        if (!(list instanceof List<?> l)) {
            return String.valueOf(list);
        }
        List<String> out = new ArrayList<>();
        for (Object o : l) {
            out.add(o instanceof Map<?, ?> m ? m.get("count") + " " + m.get("profile") : String.valueOf(o));
        }
        return String.join(", ", out);
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
        int width = ReportChart.W;
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">", width, h));
        int x0 = 170;
        int bw = width - x0 - 260;
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

    static String compact(Map<String, Object> m) {
        StringBuilder b = new StringBuilder();
        m.forEach((k, v) -> {
            if (b.length() > 0) {
                b.append(", ");
            }
            b.append(k).append(": ").append(ReportGates.value(v));
        });
        return b.toString();
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
