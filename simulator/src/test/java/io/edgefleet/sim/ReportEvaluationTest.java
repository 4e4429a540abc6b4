package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The report's shadow, A/B and drift sections (text summary and HTML page) from fixed inputs, no simulation: a candidate
 * stopped in its shadow wave, one that passed, an A/B experiment with a significant confidence drop, and a drift alarm.
 */
class ReportEvaluationTest {
    @TempDir
    Path dir;

    static Report report() {
        Report base = ReportHtmlTest.report();
        Report.Shadow stopped = new Report.Shadow(List.of(1), 212, 0.7028, 0.7891, 0.95, 4, 1.0213, -0.0121, 0, 3, 0,
                ShadowReadout.verdict(List.of(1), "rolled-back", Optional.of(1), 0));
        Report.Shadow passed = new Report.Shadow(List.of(1), 240, 0.9917, Double.NaN, 0.95, 4, 0.98, 0.001, 0, 0, 0,
                ShadowReadout.verdict(List.of(1), "succeeded", Optional.empty(), 0));
        List<Report.StepResult> steps = new ArrayList<>(base.steps());
        steps.add(shadowStep("rollout-v2", "2", "rolled-back", Optional.of(1), stopped));
        steps.add(shadowStep("rollout-v3", "3", "succeeded", Optional.empty(), passed));
        Report.ExperimentResult ab = new Report.ExperimentResult("experiment-v4", "ab-1f2e3d4c", "activity", "share", 0.5, 90, 120, 0.95, 200, true,
                new Report.Arm("3", 612, 0, 8, Optional.of(new Report.Interval(0, 0, 0.0062, Optional.empty())),
                        Optional.of(new Report.Interval(0.412, 0.398, 0.426, Optional.empty())),
                        Optional.of(new Report.Interval(0.8233, 0.8101, 0.8365, Optional.empty())), 612),
                new Report.Arm("4", 598, 1, 8, Optional.of(new Report.Interval(0.00167, 0.0003, 0.0094, Optional.empty())),
                        Optional.of(new Report.Interval(0.409, 0.395, 0.423, Optional.empty())),
                        Optional.of(new Report.Interval(0.3712, 0.3689, 0.3735, Optional.empty())), 597),
                Map.of("errorRate", new Report.Interval(0.00167, -0.0046, 0.0094, Optional.of(false)),
                        "latencyMs", new Report.Interval(-0.003, -0.023, 0.017, Optional.of(false)),
                        "confidence", new Report.Interval(-0.4521, -0.4655, -0.4387, Optional.of(true))));
        List<Report.FaultResult> faults = new ArrayList<>(base.faults());
        faults.add(new Report.FaultResult("input-drift", "input-drift on 50 % of the devices, inputs shifted by 2.0 sd on 4 features", 90, 130,
                List.of("dev-0001"), "drift alarm for activity/3 17.2 s after the shift (worst feature x[2], PSI 0.41)",
                Map.of("alarmSeconds", 17.2, "alarmSubject", "activity/3", "worstFeature", "x[2]", "maxPsi", 0.41)));
        return new Report(base.scenario(), base.broker(), base.startedAt(), base.seconds(), base.passed(), base.expectations(), steps, faults,
                base.requests(), base.telemetry(), base.timeline(), base.environment(), base.security(), List.of(ab));
    }

    static Report.StepResult shadowStep(String name, String version, String state, Optional<Integer> stoppedIn, Report.Shadow shadow) {
        return new Report.StepResult(name, "rollout", 40, 70, Optional.of(version), Optional.of("good"), Optional.of("ro-" + version), Optional.of(state),
                Optional.of("shadow: agreed with the active version on 70.3 %"), stoppedIn, List.of(), List.of(), Optional.empty(), List.of(), Map.of(),
                Optional.of(shadow));
    }

    @Test
    void the_summary_shows_agreement_with_its_bound_the_verdict_and_the_ab_comparison_with_intervals() {
        String text = report().summary(dir.resolve("report.html"));
        assertThat(text).contains("shadow wave 1: agreement 70.3 % (upper bound 78.9 %, min 95.0 %) over 212 samples on 4 devices, latency ratio 1.02, "
                + "confidence diff -0.012, non-finite 0: rolled back in shadow wave 1, no device answered with it");
        assertThat(text).contains("agreement 99.2 % (upper bound n/a, min 95.0 %) over 240 samples").contains("passed shadow wave 1, then succeeded");
        assertThat(text).contains("experiment-v4  A/B ab-1f2e3d4c, v3 (A) vs v4 (B), share 50 % to B, 30 s: judged at 95 %");
        assertThat(text).contains("arm A v3       612 requests on 8 devices (612 answers seen), error rate 0.00 % [0.00 %, 0.62 %], "
                + "latency 0.412 [0.398, 0.426] ms, confidence 0.823 [0.810, 0.837]");
        assertThat(text).contains("arm B v4       598 requests on 8 devices (597 answers seen)");
        assertThat(text).contains("B - A: error rate 0.17 % [-0.46 %, 0.94 %] not significant; latency ms -0.003 [-0.023, 0.017] not significant; "
                + "confidence -0.452 [-0.466, -0.439] significant");
        assertThat(text).contains("drift alarm for activity/3 17.2 s after the shift");
    }

    @Test
    void the_page_has_a_shadow_table_an_ab_table_per_experiment_and_the_drift_alarm() {
        String html = ReportHtml.render(report());
        List<List<String>> shadow = rows(table(html, "shadow"));
        assertThat(shadow.get(0)).startsWith("rollout", "candidate", "samples", "devices", "agreement", "upper bound", "min");
        assertThat(shadow.get(1)).containsExactly("rollout-v2", "v2", "212", "4", "70.3 %", "78.9 %", "95.0 %", "1.02", "-0.012", "0", "3", "0",
                "rolled back in shadow wave 1, no device answered with it");
        assertThat(shadow.get(2)).startsWith("rollout-v3", "v3", "240", "4", "99.2 %", "n/a", "95.0 %");
        assertThat(shadow.get(2).get(12)).isEqualTo("passed shadow wave 1, then succeeded");

        List<List<String>> ab = rows(table(html, "ab"));
        assertThat(ab).hasSize(4);
        assertThat(ab.get(1)).containsExactly("A", "v3", "612", "612", "8", "0.00 % [0.00 %, 0.62 %]", "0.412 [0.398, 0.426]", "0.823 [0.810, 0.837]");
        assertThat(ab.get(2)).startsWith("B", "v4", "598", "597", "8");
        assertThat(ab.get(3)).containsExactly("B − A", "", "", "", "", "0.17 % [-0.46 %, 0.94 %] not significant", "-0.003 [-0.023, 0.017] not significant",
                "-0.452 [-0.466, -0.439] significant");
        assertThat(html).contains("judged (each arm has at least 200 requests)");

        List<List<String>> drift = rows(table(html, "drift"));
        assertThat(drift.get(1)).containsExactly("input-drift on 50 % of the devices, inputs shifted by 2.0 sd on 4 features", "raised for activity/3",
                "17.2 s", "x[2]", "0.41");
    }

    @Test
    void the_json_carries_the_shadow_readings_and_the_experiments() throws Exception {
        JsonNode j = Report.JSON.readTree(Report.JSON.writeValueAsBytes(report()));
        assertThat(j.path("experiments").get(0).path("difference").path("confidence").path("significant").asBoolean()).isTrue();
        assertThat(j.path("experiments").get(0).path("b").path("requests").asLong()).isEqualTo(598);
        JsonNode s = j.path("steps").get(2).path("shadow");
        assertThat(s.path("agreement").asDouble()).isEqualTo(0.7028);
        assertThat(s.path("verdict").asText()).isEqualTo("rolled back in shadow wave 1, no device answered with it");
    }

    @Test
    void a_report_without_shadow_ab_or_drift_has_no_such_section() {
        assertThat(ReportHtml.render(ReportHtmlTest.report())).doesNotContain("Candidates on live traffic");
    }

    private static String table(String html, String cls) {
        Matcher m = Pattern.compile("(?s)<table class=\"" + cls + "\">.*?</table>").matcher(html);
        assertThat(m.find()).as("a table of class " + cls).isTrue();
        return m.group();
    }

    /** The table's cells as text, row by row (parsed with the JDK's XML parser: the markup must be well formed). */
    private static List<List<String>> rows(String table) {
        Document d = ReportPage.svg(table.replace("&nbsp;", " "));
        List<List<String>> out = new ArrayList<>();
        NodeList trs = d.getElementsByTagName("tr");
        for (int i = 0; i < trs.getLength(); i++) {
            List<String> cells = new ArrayList<>();
            NodeList cs = ((Element) trs.item(i)).getChildNodes();
            for (int c = 0; c < cs.getLength(); c++) {
                cells.add(cs.item(c).getTextContent());
            }
            out.add(cells);
        }
        return out;
    }
}
