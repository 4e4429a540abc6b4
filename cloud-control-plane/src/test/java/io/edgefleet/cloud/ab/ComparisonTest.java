package io.edgefleet.cloud.ab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The comparison's statistics against published values, and its false-alarm rate measured on identical arms. */
class ComparisonTest {
    @Test
    void wilson_matches_newcombes_published_examples() {
        // Newcombe (1998), Statistics in Medicine 17:857, table I: 81/263 -> 0.2553..0.3662; 0/10 -> 0..0.2775
        Comparison.Estimate e = Comparison.wilson(81, 263, 1.959964);
        assertThat(e.low()).isCloseTo(0.2553, within(1e-4));
        assertThat(e.high()).isCloseTo(0.3662, within(1e-4));
        Comparison.Estimate zero = Comparison.wilson(0, 10, 1.959964);
        assertThat(zero.low()).isZero();
        assertThat(zero.high()).isCloseTo(0.2775, within(1e-4));
    }

    @Test
    void newcombes_hybrid_interval_matches_the_published_example() {
        // Newcombe (1998), Statistics in Medicine 17:873, table II, example (a): 56/70 - 48/80 -> 0.0524..0.3339 (method 10)
        Comparison.Estimate d = Comparison.newcombe(Comparison.wilson(48, 80, 1.959964), Comparison.wilson(56, 70, 1.959964));
        assertThat(d.value()).isCloseTo(0.2, within(1e-9));
        assertThat(d.low()).isCloseTo(0.0524, within(1e-4));
        assertThat(d.high()).isCloseTo(0.3339, within(1e-4));
    }

    @Test
    void welch_interval_matches_a_direct_computation() {
        // a: 1, 2, 3, 4 (mean 2.5, var 5/3); b: 2, 4, 6, 8, 10 (mean 6, var 10)
        var a = Comparison.Moments.of(4, 10, 30);
        var b = Comparison.Moments.of(5, 30, 220);
        Comparison.Estimate d = Comparison.welch(a, b, 0.95);
        double va = (5.0 / 3) / 4;
        double vb = 10.0 / 5;
        double df = Math.pow(va + vb, 2) / (va * va / 3 + vb * vb / 4);
        double t = new org.apache.commons.math3.distribution.TDistribution(df).inverseCumulativeProbability(0.975);
        assertThat(d.value()).isCloseTo(3.5, within(1e-12));
        assertThat(d.high() - d.value()).isCloseTo(t * Math.sqrt(va + vb), within(1e-9));
        assertThat(df).isBetween(4.0, 6.0);
    }

    @Test
    void a_higher_error_rate_and_lower_confidence_are_significant_and_identical_arms_rarely_are() {
        ArmTotals a = new ArmTotals(2000, 20, 2000 * 5.0, 2000 * 26.0, 1980, 1980 * 0.9, 1980 * 0.82, 2);
        ArmTotals b = new ArmTotals(500, 25, 500 * 5.0, 500 * 26.0, 475, 475 * 0.8, 475 * 0.65, 2);
        Map<String, Object> c = Comparison.toJson(a, b, 0.95, 100);
        assertThat(c.get("judged")).isEqualTo(true);
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> diff = (Map<String, Map<String, Object>>) c.get("difference");
        assertThat(diff.get("errorRate").get("significant")).isEqualTo(true);
        assertThat((double) diff.get("errorRate").get("low")).isPositive();
        assertThat(diff.get("confidence").get("significant")).isEqualTo(true);
        assertThat((double) diff.get("confidence").get("high")).isNegative();

        // false alarms: two arms drawn from the same distribution, 2,000 experiments; at 95 % about 5 % of the error-rate
        // differences and of the latency differences exclude 0 (binomial sd 0.49 %: the bounds are 4 sd)
        Random random = new Random(20);
        int errorAlarms = 0;
        int latencyAlarms = 0;
        int runs = 2000;
        for (int i = 0; i < runs; i++) {
            ArmTotals x = draw(random, 800);
            ArmTotals y = draw(random, 200);
            Map<String, Object> j = Comparison.toJson(x, y, 0.95, 100);
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> d = (Map<String, Map<String, Object>>) j.get("difference");
            errorAlarms += Boolean.TRUE.equals(d.get("errorRate").get("significant")) ? 1 : 0;
            latencyAlarms += Boolean.TRUE.equals(d.get("latencyMs").get("significant")) ? 1 : 0;
        }
        System.out.printf("false alarms at 95 %%: error rate %.2f %%, latency %.2f %% of %d identical experiments%n",
                100.0 * errorAlarms / runs, 100.0 * latencyAlarms / runs, runs);
        assertThat(errorAlarms / (double) runs).isBetween(0.0, 0.07);
        assertThat(latencyAlarms / (double) runs).isBetween(0.03, 0.07);
    }

    @Test
    void wilson_bounds_at_zero_and_all_are_exact() {
        // computed as centre - half, the bound at 0 of n is a rounding residue (1.7e-18 at 0 of 400); it is exactly 0
        for (int n : new int[] {1, 7, 200, 400, 12_345}) {
            assertThat(Comparison.wilson(0, n, 1.959964).low()).as("0 of %d", n).isEqualTo(0.0);
            assertThat(Comparison.wilson(n, n, 1.959964).high()).as("%d of %d", n, n).isEqualTo(1.0);
            assertThat(Comparison.wilson(n, n, 1.959964).low()).isLessThan(1.0);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> sub(Map<String, Object> m, String key) {
        return (Map<String, Object>) m.get(key);
    }

    @Test
    void accuracy_per_arm_is_a_wilson_interval_and_its_difference_newcombes_judged_at_min_labelled() {
        // arm A 81 of 263 labelled answers right, arm B 48 of 80 (Newcombe's published counts)
        ArmTotals a = new ArmTotals(1000, 0, 1000, 1000, 0, 0, 0, 2, 263, 81);
        ArmTotals b = new ArmTotals(300, 0, 300, 300, 0, 0, 0, 2, 80, 48);
        Map<String, Object> c = Comparison.toJson(a, b, 0.95, 200, 100);
        Map<String, Object> accA = sub(sub(c, "a"), "accuracy");
        assertThat((double) accA.get("value")).isCloseTo(81.0 / 263, within(1e-12));
        assertThat((double) accA.get("low")).isCloseTo(0.2553, within(1e-4));
        assertThat((double) accA.get("high")).isCloseTo(0.3662, within(1e-4));
        assertThat(sub(c, "a").get("labelled")).isEqualTo(263L);
        assertThat(sub(c, "b").get("correct")).isEqualTo(48L);
        Map<String, Object> d = sub(sub(c, "difference"), "accuracy");
        Comparison.Estimate expected = Comparison.newcombe(Comparison.wilson(81, 263, 1.959964), Comparison.wilson(48, 80, 1.959964));
        assertThat((double) d.get("value")).isCloseTo(48.0 / 80 - 81.0 / 263, within(1e-12));
        assertThat((double) d.get("low")).isCloseTo(expected.low(), within(1e-6)).isPositive();
        assertThat((double) d.get("high")).isCloseTo(expected.high(), within(1e-6));
        assertThat(d.get("significant")).isEqualTo(true);
        assertThat(c.get("accuracyJudged")).as("arm B has 80 of the 100 labels needed").isEqualTo(false);
        assertThat(Comparison.toJson(a, b, 0.95, 200, 80).get("accuracyJudged")).isEqualTo(true);
        assertThat(c.get("judged")).as("requests are judged apart").isEqualTo(true);

        // nothing labelled: no accuracy at all, neither per arm nor as a difference
        Map<String, Object> none = Comparison.toJson(new ArmTotals(10, 0, 10, 10, 0, 0, 0, 1), b, 0.95, 200, 100);
        assertThat(sub(none, "a")).doesNotContainKey("accuracy").containsEntry("labelled", 0L);
        assertThat(sub(none, "difference")).doesNotContainKey("accuracy");
        assertThat(none.get("accuracyJudged")).isEqualTo(false);
    }

    @Test
    void identical_accuracies_rarely_differ_significantly() {
        // 2,000 simulated experiments of two arms both right 90 % of the time (600 and 150 labels): about 5 % false alarms
        Random r = new Random(29);
        int alarms = 0;
        int runs = 2000;
        for (int i = 0; i < runs; i++) {
            long ca = 0;
            long cb = 0;
            for (int k = 0; k < 600; k++) {
                ca += r.nextDouble() < 0.9 ? 1 : 0;
            }
            for (int k = 0; k < 150; k++) {
                cb += r.nextDouble() < 0.9 ? 1 : 0;
            }
            Map<String, Object> c = Comparison.toJson(new ArmTotals(600, 0, 600, 600, 0, 0, 0, 1, 600, ca),
                    new ArmTotals(150, 0, 150, 150, 0, 0, 0, 1, 150, cb), 0.95, 100, 100);
            alarms += Boolean.TRUE.equals(sub(sub(c, "difference"), "accuracy").get("significant")) ? 1 : 0;
        }
        System.out.printf("false alarms at 95 %%: accuracy %.2f %% of %d identical experiments%n", 100.0 * alarms / runs, runs);
        assertThat(alarms / (double) runs).isBetween(0.02, 0.07);
    }

    private static ArmTotals draw(Random r, int n) {
        long errors = 0;
        double sum = 0;
        double sumSq = 0;
        for (int i = 0; i < n; i++) {
            if (r.nextDouble() < 0.05) {
                errors++;
                continue;
            }
            double ms = Math.exp(1.5 + 0.5 * r.nextGaussian()); // log-normal, like model times
            sum += ms;
            sumSq += ms * ms;
        }
        return new ArmTotals(n, errors, sum, sumSq, 0, 0, 0, 1);
    }
}
