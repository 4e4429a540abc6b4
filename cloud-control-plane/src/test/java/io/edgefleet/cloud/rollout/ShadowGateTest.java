package io.edgefleet.cloud.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The shadow wave's gates on synthetic readings, their false-alarm rate measured, and the spec's shadow checks. */
class ShadowGateTest {
    static final RolloutSpec.ShadowGates DEFAULTS = RolloutSpec.ShadowGates.defaults();

    static ShadowReadings.Totals totals(long samples, long agreements, long nonFinite, double ratio, double activeMs) {
        ShadowReadings.Row row = new ShadowReadings.Row("f/d", java.time.Instant.EPOCH, java.time.Instant.EPOCH.plusSeconds(10), "1", "2", samples,
                agreements, nonFinite, 0, Double.isNaN(ratio) ? OptionalDouble.empty() : OptionalDouble.of(ratio), OptionalDouble.empty());
        return ShadowReadings.Totals.of(List.of(row)).withActiveMillis(activeMs);
    }

    static Gates.Decision judge(ShadowReadings.Totals t) {
        return ShadowGate.evaluate(DEFAULTS, t, 0, Optional.empty(), 0);
    }

    @Test
    void waits_for_samples_then_passes_an_agreeing_candidate() {
        assertThat(judge(totals(199, 199, 0, 1.0, 5)).verdict()).isEqualTo(Gates.Verdict.WAIT);
        assertThat(judge(totals(199, 199, 0, 1.0, 5)).waiting().get(0).gate()).contains("shadowGates.minSamples");
        Gates.Decision d = judge(totals(200, 198, 0, 1.1, 5));
        assertThat(d.verdict()).isEqualTo(Gates.Verdict.PASS);
        assertThat(d.detail()).containsEntry("shadowSamples", 200L).containsEntry("shadowAgreement", 0.99);
    }

    @Test
    void fails_a_candidate_disagreeing_on_30_percent_at_the_first_judged_evaluation() {
        Gates.Decision d = judge(totals(200, 140, 0, 1.0, 5));
        assertThat(d.verdict()).isEqualTo(Gates.Verdict.FAIL);
        assertThat(d.reason()).contains("agreed with the active version on 70.0% of 200 shadow samples").contains("below the minimum of 95.0%");
    }

    @Test
    void waits_when_the_agreement_is_below_the_line_but_not_confidently() {
        Gates.Decision d = judge(totals(200, 188, 0, 1.0, 5)); // 94 %: upper bound about 97 %
        assertThat(d.verdict()).isEqualTo(Gates.Verdict.WAIT);
        assertThat(d.waiting().get(0).condition()).isEqualTo("confirmation");
    }

    @Test
    void any_non_finite_answer_fails_at_once_even_before_enough_samples() {
        Gates.Decision d = judge(totals(10, 9, 1, 1.0, 5));
        assertThat(d.verdict()).isEqualTo(Gates.Verdict.FAIL);
        assertThat(d.reason()).contains("NaN or infinity");
    }

    @Test
    void a_slower_candidate_fails_only_above_the_ratio_and_the_floor() {
        assertThat(judge(totals(300, 300, 0, 2.5, 4)).verdict()).as("2.5 times 4 ms: 6 ms more").isEqualTo(Gates.Verdict.FAIL);
        assertThat(judge(totals(300, 300, 0, 2.5, 0.2)).verdict()).as("2.5 times 0.2 ms: 0.3 ms more, under the 1 ms floor")
                .isEqualTo(Gates.Verdict.PASS);
        assertThat(judge(totals(300, 300, 0, 1.8, 40)).verdict()).isEqualTo(Gates.Verdict.PASS);
    }

    @Test
    void failed_shadow_loads_fail_the_wave() {
        Gates.Decision d = ShadowGate.evaluate(DEFAULTS, totals(0, 0, 0, Double.NaN, Double.NaN), 1, Optional.of("f/d: verification-failed: x"), 0);
        assertThat(d.verdict()).isEqualTo(Gates.Verdict.FAIL);
        assertThat(d.reason()).contains("1 shadow load(s) failed").contains("verification-failed");
    }

    /**
     * The false-alarm rate, measured: a candidate that truly agrees on 97 % (above the 95 % line) judged after every 20
     * new samples from 200 to 2,000 (91 looks per rollout, far more than a wave gets), over 2,000 seeded rollouts.
     */
    @Test
    void a_candidate_above_the_line_is_almost_never_stopped_over_many_looks_and_one_at_70_percent_always_is() {
        Random random = new Random(20);
        int falseStops = 0;
        int rollouts = 2000;
        for (int r = 0; r < rollouts; r++) {
            long n = 0;
            long k = 0;
            while (n < 2000) {
                for (int i = 0; i < 20; i++) {
                    n++;
                    k += random.nextDouble() < 0.97 ? 1 : 0;
                }
                if (n >= 200 && judge(totals(n, k, 0, 1.0, 5)).verdict() == Gates.Verdict.FAIL) {
                    falseStops++;
                    break;
                }
            }
        }
        System.out.printf("shadow gate: %d of %d rollouts of a 97 %%-agreeing candidate stopped over 91 looks each (%.2f %%)%n", falseStops, rollouts,
                100.0 * falseStops / rollouts);
        assertThat((double) falseStops / rollouts).isLessThan(0.005);
        int caught = 0;
        for (int r = 0; r < 500; r++) {
            long k = 0;
            for (int i = 0; i < 200; i++) {
                k += random.nextDouble() < 0.70 ? 1 : 0;
            }
            caught += judge(totals(200, k, 0, 1.0, 5)).verdict() == Gates.Verdict.FAIL ? 1 : 0;
        }
        assertThat(caught).as("a 70 % candidate stopped at its first judged look").isEqualTo(500);
    }

    static RolloutSpec spec(String json) throws Exception {
        var m = io.edgefleet.protocols.Json.jsonMapper(io.edgefleet.protocols.DecodeLimits.DEFAULT);
        return RolloutSpec.read(m, m.readTree(json));
    }

    @Test
    void the_spec_refuses_misplaced_or_unknown_shadow_waves_and_gates_naming_the_field() throws Exception {
        RolloutSpec ok = spec("{\"model\": \"m\", \"version\": \"2\", \"waves\": [{\"percent\": 10, \"mode\": \"shadow\"}, {\"percent\": 100}],"
                + " \"shadowGates\": {\"minAgreement\": 0.9}}");
        assertThat(ok.shadowWave(0)).isTrue();
        assertThat(ok.shadowWave(1)).isFalse();
        assertThat(ok.effectiveShadowGates().minAgreement().getAsDouble()).isEqualTo(0.9);
        assertThat(ok.effectiveShadowGates().minSamples()).contains(200);
        assertThatThrownBy(() -> spec("{\"model\": \"m\", \"version\": \"2\", \"waves\": [{\"percent\": 100, \"mode\": \"shadow\"}]}"))
                .hasMessageContaining("waves[0].mode: the last wave must be a normal one");
        assertThatThrownBy(() -> spec("{\"model\": \"m\", \"version\": \"2\", \"waves\": [{\"percent\": 10}, {\"percent\": 50, \"mode\": \"shadow\"},"
                + " {\"percent\": 100}]}")).hasMessageContaining("waves[1].mode: a shadow wave must come before every normal wave");
        assertThatThrownBy(() -> spec("{\"model\": \"m\", \"version\": \"2\", \"waves\": [{\"percent\": 10, \"mode\": \"shade\"}, {\"percent\": 100}]}"))
                .hasMessageContaining("waves[0].mode: 'shade' is not normal or shadow");
        assertThatThrownBy(() -> spec("{\"model\": \"m\", \"version\": \"2\", \"waves\": [{\"percent\": 100}], \"shadowGates\": {\"minAgreemnt\": 1}}"))
                .hasMessageStartingWith("unknown key 'shadowGates.minAgreemnt'");
        assertThatThrownBy(() -> spec("{\"model\": \"m\", \"version\": \"2\", \"waves\": [{\"percent\": 100}], \"shadowGates\": {\"minAgreement\": 1.5}}"))
                .hasMessageContaining("shadowGates.minAgreement must be a share between 0 and 1");
        assertThatThrownBy(() -> spec("{\"model\": \"m\", \"version\": \"2\", \"waves\": [{\"percent\": 100}], \"shadowGates\": {\"maxLatencyRatio\": 0.5}}"))
                .hasMessageContaining("shadowGates.maxLatencyRatio must be a ratio >= 1");
    }

    @Test
    void shadow_command_ids_are_their_own_intent() {
        String shadow = Intent.SHADOW.commandId("ro-1", "f/d1");
        assertThat(shadow).endsWith("-s").isNotEqualTo(Intent.DEPLOY.commandId("ro-1", "f/d1"));
        assertThat(Intent.of(shadow)).isEqualTo(Intent.SHADOW);
    }
}
