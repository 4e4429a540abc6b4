package io.edgefleet.cloud.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.drift.DriftRepository.WindowScore;
import io.edgefleet.cloud.rollout.Gates.Decision;
import io.edgefleet.cloud.rollout.Gates.Streaks;
import io.edgefleet.cloud.rollout.Gates.Verdict;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The drift gate ({@code noDriftAlarm}) through {@link Gates#evaluate}, as a table in {@link GatesTableTest}'s style: the
 * candidate's judged windows since the rollout began (newest first, {@code maxPsi:alarm}, {@code -} for none), its
 * reference ({@code samples}, {@code traffic}, {@code learning:N} while one is learned, {@code none}) and the verdict
 * with its sentence: the failure for {@code FAIL}, the first wait for {@code WAIT}. The monitor's rule is
 * {@code consecutive-windows} 3, {@code threshold} 0.2, {@code min-samples} 200, {@code reference-windows} 20.
 */
class DriftGateTableTest {

    @ParameterizedTest(name = "windows [{0}], reference {1}: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            # the alarm (three breaching windows in a row, judged by the monitor) fails the wave at once
            0.84:true 0.61:false 0.55:false | samples    | FAIL | input drift on m/2: the drift alarm is raised (newest window: worst feature x[2] PSI 0.840, threshold 0.20; the alarm takes 3 breaching windows in a row and clears after as many clean ones)
            # an alarm that is clearing still fails: the monitor has not cleared it yet
            0.05:true                       | traffic    | FAIL | input drift on m/2: the drift alarm is raised (newest window: worst feature x[2] PSI 0.050, threshold 0.20; the alarm takes 3 breaching windows in a row and clears after as many clean ones)
            # breaching windows without the alarm are the monitor's noise judgement at work: no second judgement here
            0.84:false 0.61:false 0.05:false | samples   | PASS |
            0.05:false 0.04:false 0.06:false | samples   | PASS |
            # fewer judged windows than the alarm needs could not have raised it: the wave waits, saying why
            0.05:false                      | samples    | WAIT | 1 of 3 judged drift windows on m/2 since the rollout began (each needs 200 values per feature)
            -                               | samples    | WAIT | 0 of 3 judged drift windows on m/2 since the rollout began (each needs 200 values per feature)
            -                               | learning:7 | WAIT | m/2 has no drift reference yet: learning one from traffic, 7 of 20 windows
            -                               | none       | WAIT | m/2 has no drift reference: give a sample set (edgefleet model drift m 2 --reference FILE) or wait for 20 windows of traffic
            """)
    void verdict_and_reason(String windows, String reference, Verdict verdict, String said) {
        Decision d = Gates.evaluate(GatesTest.gates("{\"noDriftAlarm\": true}"), readings(windows, reference, Optional.of(false)), Streaks.NONE);
        assertThat(d.verdict()).as("verdict; detail %s", d.detail()).isEqualTo(verdict);
        String actual = switch (d.verdict()) {
            case FAIL -> d.reason();
            case WAIT -> d.waiting().get(0).detail();
            case PASS -> "";
        };
        assertThat(actual).isEqualTo(said == null ? "" : said);
    }

    @Test
    void the_baseline_in_alarm_is_shown_but_does_not_hold_a_clean_candidate() {
        Decision d = Gates.evaluate(GatesTest.gates("{\"noDriftAlarm\": true}"), readings("0.05:false 0.04:false 0.06:false", "samples",
                Optional.of(true)), Streaks.NONE);
        assertThat(d.verdict()).isEqualTo(Verdict.PASS);
        assertThat(d.detail()).containsEntry("baselineDriftAlarm", true).containsEntry("driftAlarm", false).containsEntry("driftWindows", 3)
                .containsEntry("driftWorstFeature", "x[2]").containsEntry("driftReference", "samples");
    }

    @Test
    void without_a_drift_monitor_the_gate_waits_and_says_so_and_without_the_gate_nothing_is_read() {
        Readings none = GatesTest.readings(GatesTest.refused(300, 0), null);
        Decision d = Gates.evaluate(GatesTest.gates("{\"noDriftAlarm\": true}"), none, Streaks.NONE);
        assertThat(d.verdict()).isEqualTo(Verdict.WAIT);
        assertThat(d.waiting().get(0).detail()).isEqualTo("no drift monitor runs in this control plane: the drift gate cannot be judged");
        Decision off = Gates.evaluate(GatesTest.gates("{\"noDriftAlarm\": false}"), readings("0.9:true", "samples", Optional.empty()),
                Streaks.NONE);
        assertThat(off.verdict()).as("the gate off: an alarm does not hold the wave").isEqualTo(Verdict.PASS);
        assertThat(off.detail()).doesNotContainKey("driftAlarm");
    }

    @Test
    void the_spec_reads_the_gate_and_refuses_a_misspelt_one() {
        var mapper = io.edgefleet.protocols.Json.jsonMapper(io.edgefleet.protocols.DecodeLimits.DEFAULT);
        RolloutSpec spec = RolloutSpec.read(mapper, mapper.valueToTree(java.util.Map.of("model", "m", "version", "2",
                "waves", List.of(java.util.Map.of("percent", 100)), "gates", java.util.Map.of("noDriftAlarm", true))));
        assertThat(spec.effectiveGates().driftGate()).isTrue();
        assertThat(spec.effectiveGates().minDevices()).as("a telemetry gate: the default minDevices stays").hasValue(1);
        assertThat(RolloutSpec.Gates.defaults().driftGate()).as("off by default").isFalse();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RolloutSpec.read(mapper, mapper.valueToTree(java.util.Map.of("model", "m",
                "version", "2", "waves", List.of(java.util.Map.of("percent", 100)), "gates", java.util.Map.of("noDriftAlarms", true)))))
                .hasMessageStartingWith("unknown key 'gates.noDriftAlarms'");
    }

    private static Readings readings(String windows, String reference, Optional<Boolean> baselineAlarm) {
        List<WindowScore> ws = new ArrayList<>();
        Instant t = Instant.parse("2026-11-30T12:00:00Z");
        if (!windows.isBlank() && !windows.trim().equals("-")) {
            for (String w : windows.trim().split("\\s+")) {
                String[] c = w.split(":");
                ws.add(new WindowScore("m", "2", t, 300, Double.parseDouble(c[0]), Double.parseDouble(c[0]) / 2, "x[2]", OptionalDouble.empty(),
                        Boolean.parseBoolean(c[1])));
                t = t.minusSeconds(10);
            }
        }
        String ref = reference.trim();
        Optional<String> source = ref.equals("none") || ref.startsWith("learning") ? Optional.empty() : Optional.of(ref);
        OptionalDouble learning = ref.startsWith("learning:") ? OptionalDouble.of(Double.parseDouble(ref.substring(9))) : OptionalDouble.empty();
        DriftReading drift = new DriftReading("m", "2", ws, 3, 0.2, 200, source, learning, 20, baselineAlarm);
        return GatesTest.readings(GatesTest.refused(300, 0), null).withDrift(Optional.of(drift));
    }
}
