package io.edgefleet.agent.slots;

import java.util.Arrays;
import java.util.Locale;

/**
 * The self-test's latency decision on paired, interleaved timings of the active version and the
 * candidate on the same input: a pure function of the two arrays, so it is tested with synthetic
 * numbers.
 *
 * <p>Let {@code m} be the median over the pairs of the faster run of each pair (what an undisturbed
 * run of the faster version takes). A pair counts as <em>slower</em> when the candidate's run took
 * longer than the active version's run of the same pair by more than
 * {@code threshold = max(floorMillis, (maxFactor - 1) * m)}: more than the absolute floor, and more
 * than {@code maxFactor} times the faster version's time in all. The candidate is too slow when at
 * least {@link #needed} of the {@link #pairs} pairs are slower: a one-sided sign test.
 *
 * <p>Why a candidate that is no slower is called too slow at most {@code alpha} of the time, whatever the
 * machine's load does: its run and the active one's are then exchangeable within a pair (the order
 * alternates, so neither gains from going first), {@code m} and so the threshold do not change when
 * the two runs of a pair swap, hence given the threshold each pair is slower with probability at
 * most 1/2, and the count is at most binomial(n, 1/2); {@code needed} is the smallest count that
 * such a count reaches with probability at most {@code alpha}. No ratio to a near-zero time is
 * taken without the absolute floor, and no decision rests on a median of a handful of runs.
 *
 * @param pairs pairs timed
 * @param slower pairs in which the candidate was slower (as defined above)
 * @param needed slower pairs needed to call the candidate too slow; {@code pairs + 1} when no count can be significant
 * @param thresholdMillis how much longer a candidate's run had to take to count
 * @param activeMedianMillis median of the active version's runs, for the message
 * @param candidateMedianMillis median of the candidate's runs, for the message
 */
record PairedComparison(int pairs, int slower, int needed, double thresholdMillis, double activeMedianMillis,
        double candidateMedianMillis) {
    /** False-alarm bound of one self-test round: the chance that a candidate no slower than the active version is called too slow. */
    static final double ALPHA = 0.01;

    /** {@link #of(double[], double[], double, double, double)} at {@link #ALPHA}. */
    static PairedComparison of(double[] activeMillis, double[] candidateMillis, double maxFactor, double floorMillis) {
        return of(activeMillis, candidateMillis, maxFactor, floorMillis, ALPHA);
    }

    /**
     * @param activeMillis the active version's run of each pair
     * @param candidateMillis the candidate's run of the same pairs, same length
     * @param maxFactor how many times the faster version's time a candidate's run may take, >= 1
     * @param floorMillis a slowdown of at most this many milliseconds never counts
     * @param alpha the false-alarm bound of this comparison
     */
    static PairedComparison of(double[] activeMillis, double[] candidateMillis, double maxFactor, double floorMillis, double alpha) {
        if (activeMillis.length != candidateMillis.length || activeMillis.length == 0) {
            throw new IllegalArgumentException("need the same number (> 0) of active and candidate runs, got "
                    + activeMillis.length + " and " + candidateMillis.length);
        }
        int n = activeMillis.length;
        double[] faster = new double[n];
        for (int i = 0; i < n; i++) {
            faster[i] = Math.min(activeMillis[i], candidateMillis[i]);
        }
        double threshold = Math.max(floorMillis, (maxFactor - 1) * median(faster));
        int slower = 0;
        for (int i = 0; i < n; i++) {
            if (candidateMillis[i] - activeMillis[i] > threshold) {
                slower++;
            }
        }
        return new PairedComparison(n, slower, criticalCount(n, alpha), threshold, median(activeMillis), median(candidateMillis));
    }

    boolean tooSlow() {
        return slower >= needed;
    }

    /** The smallest k with P(Binomial(n, 1/2) >= k) <= alpha; n + 1 when even k = n is not that rare. */
    static int criticalCount(int n, double alpha) {
        if (n < 1 || n > 1000) {
            throw new IllegalArgumentException("n must be 1..1000, got " + n); // 2^-n stays a normal double
        }
        double[] pmf = new double[n + 1];
        pmf[0] = Math.pow(0.5, n);
        for (int j = 0; j < n; j++) {
            pmf[j + 1] = pmf[j] * (n - j) / (j + 1);
        }
        double tail = 0;
        for (int k = n; k >= 0; k--) {
            tail += pmf[k];
            if (tail > alpha) {
                return k + 1;
            }
        }
        return 0;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    /** "more than 4.21 ms longer than the active version in 57 of 60 paired runs of wall-clock time (40 needed; median 11.20 ms against 1.05 ms)". */
    String describe(String measure) {
        return String.format(Locale.ROOT, "more than %.2f ms longer than the active version in %d of %d paired runs of %s"
                + " (%d needed; median %.2f ms against %.2f ms)", thresholdMillis, slower, pairs, measure, needed, candidateMedianMillis,
                activeMedianMillis);
    }
}
