package io.edgefleet.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A rollout's gate evaluations as an HTML table: one column per gate in force, its threshold in
 * the heading, the value the evaluation measured in each row (red when over a maximum, grey when
 * under a minimum, a dash with the reason on hover when the gate could not judge yet; the
 * failures and violation streaks on hover over the verdict). The names
 * are the control plane's (docs/control-plane.md#rollout-gates); the wave column is the wave's
 * number, from 1.
 */
final class ReportGates {
    private ReportGates() {
    }

    /** A gate shown as a column: the value it reads from an evaluation's values, and whether its threshold is a minimum. */
    record Column(String gate, String label, boolean minimum, boolean count, Function<Map<String, Object>, Optional<Double>> value) {
    }

    static final List<Column> COLUMNS = List.of(
            new Column("minDevices", "reporting devices", true, true, v -> num(v, "reportingDevices")),
            new Column("minRequests", "requests", true, true, v -> num(v, "requests")),
            new Column("maxInstallFailures", "install failures", false, true, v -> num(v, "installFailures")),
            new Column("maxStale", "updated devices stale", false, true, v -> num(v, "staleAfterUpdate")),
            new Column("maxNonFiniteRate", "non-finite answers", false, false, v -> num(v, "nonFiniteRate")),
            new Column("maxErrorRate", "error rate", false, false, v -> num(v, "errorRate")),
            new Column("maxErrorRateIncrease", "error rate over baseline", false, false,
                    v -> num(v, "errorRate").flatMap(w -> num(v, "baselineErrorRate").map(b -> w - b))),
            new Column("maxP95Ratio", "p95 / baseline p95", false, false, v -> num(v, "p95Ratio")),
            new Column("maxConfidenceDrop", "confidence drop", false, false, v -> num(v, "confidenceDrop")),
            new Column("maxEscalationShare", "escalated share", false, false, v -> num(v, "escalationShare")),
            new Column("maxClientErrorRateIncrease", "client-error rate over baseline", false, false, v -> num(v, "clientErrorIncrease")));

    static String render(Report.StepResult s) {
        Map<String, Object> inForce = s.gatesInForce();
        List<Column> cols = COLUMNS.stream().filter(c -> inForce.get(c.gate()) instanceof Number).toList();
        StringBuilder b = new StringBuilder();
        List<String> settings = new ArrayList<>();
        inForce.forEach((k, v) -> {
            if (cols.stream().noneMatch(c -> c.gate().equals(k))) {
                settings.add(k + " " + value(v));
            }
        });
        if (!settings.isEmpty()) {
            b.append("<p class=\"gate-settings\">Also in force: ").append(ReportHtml.esc(String.join(", ", settings))).append(".</p>");
        }
        b.append("<div class=\"wide\"><table class=\"gates\" data-step=\"").append(ReportHtml.esc(s.name())).append("\"><tr><th>t (s)</th><th>wave</th><th>verdict</th>");
        for (Column c : cols) {
            b.append("<th data-gate=\"").append(c.gate()).append("\">").append(ReportHtml.esc(c.label())).append("<br><small class=\"threshold\">")
                    .append(c.minimum() ? "min " : "max ").append(value(inForce.get(c.gate()))).append("</small></th>");
        }
        b.append("<th>baseline</th></tr>");
        List<Report.Gate> gs = s.gates();
        for (Report.Gate g : gs.subList(Math.max(0, gs.size() - 12), gs.size())) {
            Map<String, Object> v = g.values();
            String verdict = String.valueOf(v.getOrDefault("verdict", g.passed() ? "pass" : "fail"));
            String notes = notes(v);
            b.append(String.format(Locale.ROOT, "<tr class=\"gate-eval\" data-wave=\"%d\"><td>%.1f</td><td>%d</td><td class=\"%s\"%s>%s</td>", g.wave(),
                    g.at(), g.wave(), g.passed() ? "ok" : "bad", notes.isEmpty() ? "" : " title=\"" + ReportHtml.esc(notes) + "\"",
                    g.passed() ? "passed" : ReportHtml.esc(verdict.equals("fail") ? "failed" : verdict)));
            Map<?, ?> notJudged = v.get("notJudged") instanceof Map<?, ?> m ? m : Map.of();
            for (Column c : cols) {
                double threshold = ((Number) inForce.get(c.gate())).doubleValue();
                Optional<Double> x = c.value().apply(v);
                if (notJudged.containsKey(c.gate()) || x.isEmpty()) {
                    Object why = notJudged.get(c.gate());
                    b.append("<td class=\"nj\" title=\"").append(ReportHtml.esc(why == null ? "not measured" : "not judged: " + why)).append("\">—</td>");
                    continue;
                }
                boolean beyond = c.minimum() ? x.get() < threshold : x.get() > threshold;
                b.append("<td class=\"").append(beyond ? (c.minimum() ? "short" : "bad") : "").append("\">")
                        .append(c.count() ? String.format(Locale.ROOT, "%,.0f", x.get()) : value(x.get())).append("</td>");
            }
            b.append("<td>").append(ReportHtml.esc(baseline(v))).append("</td></tr>");
        }
        b.append("</table></div>");
        return b.toString();
    }

    private static String baseline(Map<String, Object> v) {
        if (!v.containsKey("baselineVersion")) {
            return "none";
        }
        return String.format(Locale.ROOT, "v%s, %s devices, %s requests", v.get("baselineVersion"), value(v.get("baselineDevices")),
                value(v.get("baselineRequests")));
    }

    private static String notes(Map<String, Object> v) {
        List<String> out = new ArrayList<>();
        if (v.get("failures") instanceof List<?> l) {
            l.forEach(x -> out.add(String.valueOf(x)));
        }
        if (v.get("violationStreaks") instanceof Map<?, ?> m) {
            m.forEach((k, n) -> out.add(k + " violated on " + n + " evaluation(s) in a row"));
        }
        return String.join("; ", out);
    }

    private static Optional<Double> num(Map<String, Object> v, String key) {
        return v.get(key) instanceof Number n ? Optional.of(n.doubleValue()) : Optional.empty();
    }

    /** A threshold or measured value for a reader: whole numbers plain, others with three significant digits at most. */
    static String value(Object o) {
        if (!(o instanceof Number n)) {
            return String.valueOf(o);
        }
        double d = n.doubleValue();
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return String.format(Locale.ROOT, "%,.0f", d);
        }
        String s = new java.math.BigDecimal(d).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString();
        return s;
    }
}
