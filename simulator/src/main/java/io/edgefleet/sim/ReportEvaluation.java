package io.edgefleet.sim;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The report page's "Candidates on live traffic" section (issue 20): per rollout with a shadow wave, the candidate's
 * agreement with the active version against the gate's minimum and the verdict (docs/shadow.md); per A/B experiment,
 * each arm's requests, error rate, latency and confidence with their intervals and the B − A differences, significant
 * or not (docs/ab.md); per input-drift fault, the drift alarm the control plane raised (docs/drift.md). Absent when the
 * run had none of them.
 */
final class ReportEvaluation {
    private ReportEvaluation() {
    }

    static String render(Report r) {
        List<Report.StepResult> shadows = r.steps().stream().filter(s -> s.shadow().isPresent()).toList();
        List<Report.FaultResult> drifts = r.faults().stream().filter(f -> f.type().equals("input-drift")).toList();
        if (shadows.isEmpty() && r.experiments().isEmpty() && drifts.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder("<h2>Candidates on live traffic</h2>");
        if (!shadows.isEmpty()) {
            b.append("<p>Shadow waves: the candidate runs next to the active version on sampled live requests and never answers. "
                    + "Agreement is the share of samples with the same top-1 class; the gate stops the wave when the upper end of its "
                    + "interval (Wilson, one-sided 0.1 %) is below the minimum.</p>");
            b.append("<table class=\"shadow\"><tr><th>rollout</th><th>candidate</th><th>samples</th><th>devices</th><th>agreement</th>"
                    + "<th>upper bound</th><th>min</th><th>latency ratio</th><th>confidence diff</th><th>non-finite</th><th>dropped</th>"
                    + "<th>answers with it in shadow</th><th>verdict</th></tr>");
            for (Report.StepResult s : shadows) {
                Report.Shadow x = s.shadow().get();
                boolean stopped = x.verdict().startsWith("rolled back");
                b.append("<tr><td>").append(ReportHtml.esc(s.name())).append("</td><td>v").append(ReportHtml.esc(s.version().orElse("?")))
                        .append("</td><td>").append(String.format(Locale.ROOT, "%,d", x.samples())).append("</td><td>").append(x.devices())
                        .append("</td><td class=\"").append(Double.isFinite(x.agreement()) && x.agreement() >= x.minAgreement() ? "ok" : "bad")
                        .append("\">").append(Report.pctOrNa(x.agreement())).append("</td><td>").append(Report.pctOrNa(x.agreementUpper()))
                        .append("</td><td>").append(Report.pctOrNa(x.minAgreement())).append("</td><td>").append(Report.num(x.latencyRatio(), "%.2f"))
                        .append("</td><td>").append(Report.num(x.confidenceDiff(), "%+.3f")).append("</td><td>").append(x.nonFinite())
                        .append("</td><td>").append(x.dropped()).append("</td><td>").append(String.format(Locale.ROOT, "%,d", x.answersWithCandidate()))
                        .append("</td><td class=\"").append(stopped ? "bad" : "ok").append("\">").append(ReportHtml.esc(x.verdict()))
                        .append("</td></tr>");
            }
            b.append("</table>");
        }
        for (Report.ExperimentResult e : r.experiments()) {
            b.append(String.format(Locale.ROOT, "<p class=\"ab\"><b>%s</b>: A/B experiment %s on %s, v%s (A) vs v%s (B), %s; intervals at %.0f %%, %s.</p>",
                    ReportHtml.esc(e.step()), ReportHtml.esc(e.id()), ReportHtml.esc(e.model()), ReportHtml.esc(e.a().version()),
                    ReportHtml.esc(e.b().version()), e.splitBy().equals("key") ? "split by key, " + Report.pct(e.share()) + " of keys to B"
                            : Report.pct(e.share()) + " of requests to B", e.level() * 100,
                    e.judged() ? "judged (each arm has at least " + e.minSamples() + " requests)"
                            : "<span class=\"bad\">not judged</span> (fewer than " + e.minSamples() + " requests in an arm)"));
            b.append("<table class=\"ab\"><tr><th>arm</th><th>version</th><th>requests</th><th>answers seen by clients</th><th>devices</th>"
                    + "<th>error rate</th><th>latency (ms)</th><th>confidence</th></tr>");
            for (Report.Arm a : List.of(e.a(), e.b())) {
                b.append("<tr><td>").append(a == e.a() ? "A" : "B").append("</td><td>v").append(ReportHtml.esc(a.version())).append("</td><td>")
                        .append(String.format(Locale.ROOT, "%,d", a.requests())).append("</td><td>").append(String.format(Locale.ROOT, "%,d", a.answersSeen()))
                        .append("</td><td>").append(a.devices()).append("</td><td>").append(ReportHtml.esc(Report.interval(a.errorRate(), true)))
                        .append("</td><td>").append(ReportHtml.esc(Report.interval(a.latencyMs(), false))).append("</td><td>")
                        .append(ReportHtml.esc(Report.interval(a.confidence(), false))).append("</td></tr>");
            }
            b.append("<tr class=\"diff\"><td>B − A</td><td></td><td></td><td></td><td></td>");
            for (String k : List.of("errorRate", "latencyMs", "confidence")) {
                Report.Interval d = e.difference().get(k);
                b.append("<td>").append(d == null ? "n/a" : ReportHtml.esc(Report.interval(Optional.of(d), k.equals("errorRate")))
                        + d.significant().map(sig -> sig ? " <span class=\"bad\">significant</span>" : " <span class=\"short\">not significant</span>")
                                .orElse("")).append("</td>");
            }
            b.append("</tr></table>");
        }
        if (!drifts.isEmpty()) {
            b.append("<table class=\"drift\"><tr><th>input drift</th><th>drift alarm</th><th>after the shift</th><th>worst feature</th><th>PSI</th></tr>");
            for (Report.FaultResult f : drifts) {
                Map<String, Object> m = f.measured();
                boolean raised = m.containsKey("alarmSeconds");
                b.append("<tr><td>").append(ReportHtml.esc(f.description())).append("</td><td class=\"").append(raised ? "bad\">raised for "
                        + ReportHtml.esc(String.valueOf(m.get("alarmSubject"))) : "short\">none").append("</td><td>")
                        .append(raised ? ReportHtml.esc(m.get("alarmSeconds") + " s") : "—").append("</td><td>")
                        .append(raised ? ReportHtml.esc(String.valueOf(m.get("worstFeature"))) : "—").append("</td><td>")
                        .append(raised ? ReportHtml.esc(String.valueOf(m.get("maxPsi"))) : "—").append("</td></tr>");
            }
            b.append("</table>");
        }
        return b.append('\n').toString();
    }
}
