package io.edgefleet.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.serving.OverloadedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * The report page from a report built here (no simulation): a 10-device run of 60 s with one
 * two-wave rollout from 10 s to 40 s whose last wave activates only in the sample read after it
 * ended, a fault before the rollout and one running past the end of the run, gate values with
 * float noise and an error kind.
 */
class ReportHtmlTest {
    @TempDir
    Path dir;

    static Report report() {
        List<Report.Sample> timeline = new ArrayList<>();
        for (int t = 0; t <= 60; t++) {
            Map<String, Integer> versions = new TreeMap<>(t < 25 ? Map.of("-", 10) : Map.of("-", 8, "1", 2));
            timeline.add(new Report.Sample(t, 20, 0, 5, 2, 0.8341232876712329, 12.345678912, 40.1, 80.2, versions, 10, t >= 3 && t < 6 ? 0 : 10,
                    Optional.of("rollout-v1"), Optional.empty(), Map.of(), Map.of(), 1000L * t, !(t >= 3 && t < 6)));
        }
        List<Report.WaveSample> activations = new ArrayList<>();
        for (int t = 11; t < 40; t++) {
            activations.add(new Report.WaveSample(t, new TreeMap<>(Map.of(1, t < 25 ? 0L : 2L, 2, 0L))));
        }
        activations.add(new Report.WaveSample(40.2, new TreeMap<>(Map.of(1, 2L, 2, 8L))));
        Map<String, Object> eval1 = new LinkedHashMap<>();
        eval1.put("installFailures", 0);
        eval1.put("reportingDevices", 2);
        eval1.put("requests", 40);
        eval1.put("errorRate", 0.0);
        eval1.put("confidenceDrop", 0.012345678912345678);
        eval1.put("baselineVersion", "0");
        eval1.put("baselineDevices", 8);
        eval1.put("baselineRequests", 160);
        eval1.put("baselineErrorRate", 0.0);
        eval1.put("notJudged", Map.of("maxErrorRateIncrease", "3 of 50 requests on the baseline"));
        eval1.put("failures", List.of());
        eval1.put("verdict", "pass");
        Map<String, Object> eval2 = new LinkedHashMap<>(eval1);
        eval2.put("reportingDevices", 10);
        eval2.put("confidenceDrop", 0.2);
        eval2.remove("notJudged");
        Map<String, Object> gates = new LinkedHashMap<>();
        gates.put("minDevices", 2);
        gates.put("maxInstallFailures", 1);
        gates.put("maxErrorRateIncrease", 0.05);
        gates.put("maxConfidenceDrop", 0.15);
        gates.put("sustainedEvaluations", 3);
        Report.StepResult rollout = new Report.StepResult("rollout-v1", "rollout", 10, 40.2, Optional.of("1"), Optional.of("rough"),
                Optional.of("ro-1"), Optional.of("succeeded"), Optional.empty(), Optional.empty(),
                List.of(new Report.WaveResult(1, 2, Map.of("activated", 2L)), new Report.WaveResult(2, 8, Map.of("activated", 8L))),
                List.of(new Report.Gate(24.5, 1, true, eval1), new Report.Gate(40.1, 2, true, eval2)),
                Optional.of(new Report.Sync(5_000_000, 600_000, 10, 6_000_000, 0.8333333333333334, 0)), activations, gates);
        Map<String, Object> scenario = new LinkedHashMap<>();
        scenario.put("name", "unit");
        scenario.put("devices", 10);
        scenario.put("profiles", List.of(Map.of("count", 10, "profile", "raspberry-pi-4-4gb")));
        scenario.put("loadPerDevice", 2.0);
        return new Report(scenario, "embedded", Instant.parse("2026-11-30T06:31:32.514382993Z"), 60.4, true,
                List.of(new Report.Expectation("rollout-v1 ends succeeded", "succeeded", "succeeded", true)),
                List.of(Report.StepResult.plain("register-v1", "register", 0, 1, Optional.of("1"), Optional.of("rough")), rollout),
                List.of(new Report.FaultResult("broker-restart", "broker-restart at 3 s for 3 s", 3, 6, List.of(), "down 3 s", Map.of()),
                        new Report.FaultResult("corrupt-chunks", "corrupt-chunks on 10 % of the devices", 30, 200, List.of("dev-0001"), "1 caught",
                                Map.of())),
                new Report.Requests(1220, 71, 300, 120, Map.of("v1", new Report.VersionStats(1220, 71, 300, 0.8341232876712329, 0.56, 0.25,
                        12.345678, 40.123456)), Map.of("overloaded", 71L)),
                new Report.Telemetry(1149, 1149, 0, 0, 0, 0), timeline, Map.of("cores", 2, "java", "25"), Optional.empty());
    }

    @Test
    void waves_are_numbered_from_1_in_the_chart_and_the_gate_table_alike() {
        ReportPage page = new ReportPage(ReportHtml.render(report()));
        assertThat(page.chartWaves("rollout-v1")).containsExactly(1, 2);
        assertThat(page.gateWaves("rollout-v1")).containsExactly(1, 2);
    }

    @Test
    void the_last_waves_activations_read_after_the_rollout_ended_are_drawn() {
        Document chart = new ReportPage(ReportHtml.render(report())).rolloutChart("rollout-v1");
        List<Element> lines = ReportPage.elements(chart, "polyline");
        String[] wave2 = lines.get(1).getAttribute("points").trim().split(" ");
        double lastY = Double.parseDouble(wave2[wave2.length - 1].split(",")[1]);
        // 8 devices is the top tick (0, 2, ... 8): the last point of wave 2 sits on the plot's top edge.
        assertThat(lastY).isEqualTo((double) ReportChart.PLOT_Y);
    }

    @Test
    void each_rollout_chart_has_its_own_time_axis_from_the_rollouts_start() {
        Document chart = new ReportPage(ReportHtml.render(report())).rolloutChart("rollout-v1");
        List<String> ticks = ReportPage.elements(chart, "text").stream().filter(t -> t.getAttribute("class").equals("xtick"))
                .map(Element::getTextContent).toList();
        assertThat(ticks.getFirst()).isEqualTo("0 s");
        assertThat(ticks.getLast()).isEqualTo("30 s");
        // Only the fault that overlaps the rollout is shaded there, clipped to its end.
        assertThat(ReportPage.elements(chart, "rect").stream().filter(r -> r.getAttribute("class").equals("fault")).toList()).hasSize(1);
    }

    @Test
    void shading_stays_in_the_plot_device_counts_tick_at_whole_numbers_and_no_class_names_or_float_noise() throws Exception {
        Path html = ReportHtml.write(report(), dir.resolve("report.html"));
        ReportPage page = new ReportPage(Files.readString(html));
        page.assertReadable();
        assertThat(page.html()).contains("Errors by kind: overloaded: 71", "10 devices (10 raspberry-pi-4-4gb)")
                .contains("started 2026-11-30T06:31:32Z");
    }

    @Test
    void gate_values_stand_under_their_thresholds() {
        ReportPage page = new ReportPage(ReportHtml.render(report()));
        assertThat(page.gateHeadings("rollout-v1")).containsExactly("minDevices: reporting devices min 2",
                "maxInstallFailures: install failures max 1", "maxErrorRateIncrease: error rate over baseline max 0.05",
                "maxConfidenceDrop: confidence drop max 0.15");
        assertThat(page.html()).contains("Also in force: sustainedEvaluations 3.")
                .contains("<td class=\"\">0.0123</td>", "<td class=\"bad\">0.2</td>")
                .contains("title=\"not judged: 3 of 50 requests on the baseline\"");
    }

    @Test
    void ticks_for_counts_are_whole_numbers_and_reach_the_data() {
        assertThat(ReportChart.yTicks(2, true)).containsExactly(0.0, 1.0, 2.0);
        assertThat(ReportChart.yTicks(4, true)).containsExactly(0.0, 1.0, 2.0, 3.0, 4.0);
        assertThat(ReportChart.yTicks(7, true)).containsExactly(0.0, 2.0, 4.0, 6.0, 8.0);
        assertThat(ReportChart.yTicks(20, true)).containsExactly(0.0, 5.0, 10.0, 15.0, 20.0);
        assertThat(ReportChart.yTicks(0, true)).containsExactly(0.0, 1.0);
        assertThat(ReportChart.yTicks(1, false)).containsExactly(0.0, 0.25, 0.5, 0.75, 1.0);
    }

    @Test
    void error_kinds_are_named_for_people_in_the_summary_and_json_numbers_carry_no_float_noise() throws Exception {
        assertThat(Simulation.errorKind(new OverloadedException("busy", false))).isEqualTo("overloaded");
        assertThat(Simulation.errorKind(new OverloadedException("full", true))).isEqualTo("queue full");
        Report r = report();
        assertThat(r.summary(dir.resolve("report.html"))).contains("errors 71 (overloaded: 71)").doesNotContain("{", "Exception");
        Path json = r.writeJson(dir.resolve("report.json"));
        String text = Files.readString(json);
        assertThat(text).contains("\"accuracy\" : 0.834123", "\"ratio\" : 0.833333").doesNotContain("0.8341232876712329");
        ReportPage.assertNoFloatNoise(new com.fasterxml.jackson.databind.ObjectMapper()
                .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).readTree(text), "report");
    }

    @Test
    void an_ab_arm_b_answer_is_counted_under_the_version_that_answered_not_the_devices_active_one() {
        io.edgefleet.protocols.oip.InferTensor out = new io.edgefleet.protocols.oip.InferTensor("probs",
                io.edgefleet.protocols.oip.TensorData.ofFloats(new long[] {1, 3}, new float[] {0.1f, 0.8f, 0.1f}));
        io.edgefleet.protocols.oip.InferResponse armB = new io.edgefleet.protocols.oip.InferResponse("activity", Optional.of("4"),
                Optional.empty(), io.edgefleet.protocols.oip.Parameters.of("edgefleet.arm", "b", "edgefleet.experiment", "ab-1"),
                List.of(out));
        io.edgefleet.protocols.oip.InferResponse plain = new io.edgefleet.protocols.oip.InferResponse("activity", Optional.of("3"),
                Optional.empty(), io.edgefleet.protocols.oip.Parameters.EMPTY, List.of(out));
        assertThat(Simulation.answeringVersion("3", armB, false)).isEqualTo("4");
        assertThat(Simulation.answeringVersion("3", plain, false)).isEqualTo("3");
        assertThat(Simulation.answeringVersion("3", armB, true)).isEqualTo("3");
    }
}
