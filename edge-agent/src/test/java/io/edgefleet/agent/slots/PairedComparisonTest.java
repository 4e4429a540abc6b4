package io.edgefleet.agent.slots;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The self-test's latency decision as a pure function of paired timings: synthetic numbers, a
 * seeded random source, no clock. What the sign test promises (at most 1 % false alarms for a
 * candidate that is no slower, whatever the noise) is checked on simulated heavy-tailed noise.
 */
class PairedComparisonTest {
    private static final double FACTOR = 5.0;
    private static final double FLOOR = 2.0;

    @Test
    void critical_counts_are_the_exact_binomial_ones() {
        // smallest k with P(Binomial(n, 1/2) >= k) <= 1 %, computed independently (exact sums of binomial coefficients)
        assertThat(PairedComparison.criticalCount(10, 0.01)).isEqualTo(10);
        assertThat(PairedComparison.criticalCount(12, 0.01)).isEqualTo(11);
        assertThat(PairedComparison.criticalCount(20, 0.01)).isEqualTo(16);
        assertThat(PairedComparison.criticalCount(30, 0.01)).isEqualTo(22);
        assertThat(PairedComparison.criticalCount(60, 0.01)).isEqualTo(40);
        assertThat(PairedComparison.criticalCount(1000, 0.01)).isEqualTo(538);
        assertThat(PairedComparison.criticalCount(6, 0.01)).as("no count of 6 pairs is that rare").isEqualTo(7);
        assertThatThrownBy(() -> PairedComparison.criticalCount(1001, 0.01)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void a_near_zero_active_time_is_never_compared_by_a_bare_ratio() {
        // the RolloutTest failure: "median latency 7.18 ms is over 1000.0 times the active version's 0.00 ms";
        // here the candidate takes 1.9 ms where the active one takes 0.001 ms: 1,900 times, but under the 2 ms floor
        double[] active = new double[60];
        double[] candidate = new double[60];
        Arrays.fill(active, 0.001);
        Arrays.fill(candidate, 1.9);
        PairedComparison p = PairedComparison.of(active, candidate, FACTOR, FLOOR);
        assertThat(p.slower()).isZero();
        assertThat(p.tooSlow()).isFalse();
    }

    @Test
    void a_slowdown_above_the_floor_but_within_the_factor_is_not_refused() {
        double[] active = new double[40];
        double[] candidate = new double[40];
        Arrays.fill(active, 10.0);
        Arrays.fill(candidate, 45.0); // 35 ms slower, but 4.5 times the faster one's time: within the factor of 5
        assertThat(PairedComparison.of(active, candidate, FACTOR, FLOOR).tooSlow()).isFalse();
        Arrays.fill(candidate, 51.0);
        PairedComparison p = PairedComparison.of(active, candidate, FACTOR, FLOOR);
        assertThat(p.tooSlow()).isTrue();
        assertThat(p.describe("wall-clock time")).isEqualTo("more than 40.00 ms longer than the active version in 40 of 40 paired runs"
                + " of wall-clock time (28 needed; median 51.00 ms against 10.00 ms)");
    }

    @Test
    void a_candidate_that_is_no_slower_is_refused_in_at_most_one_round_of_a_hundred_whatever_the_noise() {
        SplittableRandom random = new SplittableRandom(14);
        int rounds = 20_000;
        int refused = 0;
        for (int r = 0; r < rounds; r++) {
            double[] active = new double[60];
            double[] candidate = new double[60];
            for (int i = 0; i < 60; i++) {
                // the same model cost (near zero) plus heavy-tailed load noise on each run: 30 % of runs lose a
                // scheduler slice of 1-20 ms, and the load level drifts from pair to pair
                double load = 1 + 10 * random.nextDouble();
                active[i] = 0.002 + noise(random, load);
                candidate[i] = 0.002 + noise(random, load);
            }
            if (PairedComparison.of(active, candidate, FACTOR, FLOOR).tooSlow()) {
                refused++;
            }
        }
        assertThat((double) refused / rounds).isLessThanOrEqualTo(PairedComparison.ALPHA);
    }

    @Test
    void a_ten_times_slower_candidate_is_caught_under_the_same_noise() {
        SplittableRandom random = new SplittableRandom(41);
        int rounds = 2_000;
        int caught = 0;
        for (int r = 0; r < rounds; r++) {
            double[] active = new double[60];
            double[] candidate = new double[60];
            for (int i = 0; i < 60; i++) {
                double load = 1 + 10 * random.nextDouble();
                active[i] = 1.0 + noise(random, load);
                candidate[i] = 10.0 + noise(random, load);
            }
            if (PairedComparison.of(active, candidate, FACTOR, FLOOR).tooSlow()) {
                caught++;
            }
        }
        assertThat((double) caught / rounds).isGreaterThanOrEqualTo(0.99);
    }

    private static double noise(SplittableRandom random, double load) {
        return random.nextDouble() < 0.3 ? load * (0.1 + 1.9 * random.nextDouble()) : 0.05 * random.nextDouble();
    }
}
