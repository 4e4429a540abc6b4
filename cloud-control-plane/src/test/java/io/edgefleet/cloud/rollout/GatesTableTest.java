package io.edgefleet.cloud.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.rollout.Gates.Decision;
import io.edgefleet.cloud.rollout.Gates.Streaks;
import io.edgefleet.cloud.rollout.Gates.Verdict;
import io.edgefleet.cloud.store.Aggregate;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Gates#evaluate} as a table: the gates in force (only those named; no sample floor, one evaluation enough to fail and
 * no telemetry wait unless the row sets them), the readings, and the verdict with the sentence it gives: the failure reason
 * for {@code FAIL}, the first thing waited for for {@code WAIT}, the gates left unjudged (the noise floors) for {@code PASS}.
 * A pure function: no store, no clock.
 *
 * <p>Telemetry columns: {@code devices requests errors p95Ms meanConfidence escalations nonFinite}; {@code -} for no
 * baseline. Reachability: {@code updated staleUpdated others staleOthers}.
 */
class GatesTableTest {

    @ParameterizedTest(name = "{0} on wave [{1}] vs [{2}]: {5}")
    @CsvSource(delimiter = '|', textBlock = """
            # install failures: a hard gate, failing on the first evaluation
            {"maxInstallFailures": 0}                         | 2 100 0 4 0.9 0 0 | 2 100 0 4 0.9 0 0 | 1 | 2 0 0 0    | FAIL | install failures 1 > 0 (f1/d1: load-failed: boom)
            {"maxInstallFailures": 2}                         | 2 100 0 4 0.9 0 0 | 2 100 0 4 0.9 0 0 | 2 | 2 0 0 0    | PASS |
            # error rate, and its noise floor (minSamples): too few requests neither pass nor fail
            {"maxErrorRate": 0.05}                            | 2 100 10 4 0.9 0 0 | -                | 0 | 2 0 0 0    | FAIL | error rate 0.1000 > 0.0500
            {"maxErrorRate": 0.05}                            | 2 100 5 4 0.9 0 0 | -                 | 0 | 2 0 0 0    | PASS |
            {"maxErrorRate": 0.05, "minSamples": 30}          | 2 20 10 4 0.9 0 0 | -                 | 0 | 2 0 0 0    | PASS | 20 of 30 requests on the new version
            {"maxErrorRate": 0.05, "minSamples": 30}          | 2 30 10 4 0.9 0 0 | -                 | 0 | 2 0 0 0    | FAIL | error rate 0.3333 > 0.0500
            {"maxErrorRate": 0.05, "minSamples": 30, "minDevices": 1} | 2 20 10 4 0.9 0 0 | -         | 0 | 2 0 0 0    | WAIT | 20 of 30 requests on the new version (minSamples, to judge the noisy gates)
            {"maxErrorRate": 0.05, "minDevices": 2}           | 1 100 0 4 0.9 0 0 | -                 | 0 | 2 0 0 0    | WAIT | 1 of 2 updated device(s) have reported telemetry
            {"maxErrorRate": 0.05, "minDevices": 5}           | 2 100 0 4 0.9 0 0 | -                 | 0 | 2 0 0 0    | PASS |
            {"maxErrorRate": 0.05, "minRequests": 500, "minDevices": 1} | 2 100 0 4 0.9 0 0 | -       | 0 | 2 0 0 0    | WAIT | 100 of 500 requests on the new version
            # a noisy gate must hold its violation on sustainedEvaluations evaluations
            {"maxErrorRate": 0.05, "sustainedEvaluations": 3} | 2 100 10 4 0.9 0 0 | -                | 0 | 2 0 0 0    | WAIT | error rate 0.1000 > 0.0500 on 1 of 3 consecutive evaluations needed to fail
            # error rate against the baseline (devices still on the old version)
            {"maxErrorRateIncrease": 0.02}                    | 2 100 10 4 0.9 0 0 | 2 100 2 4 0.9 0 0 | 0 | 2 0 0 0   | FAIL | error rate 0.1000 is 0.0800 over the baseline's 0.0200 (max 0.0200)
            {"maxErrorRateIncrease": 0.02}                    | 2 100 3 4 0.9 0 0 | 2 100 2 4 0.9 0 0 | 0 | 2 0 0 0    | PASS |
            {"maxErrorRateIncrease": 0.02}                    | 2 100 10 4 0.9 0 0 | -                | 0 | 2 0 0 0    | PASS | no baseline: no device of the rollout is left on a previous version
            {"maxErrorRateIncrease": 0.02, "minSamples": 50}  | 2 100 10 4 0.9 0 0 | 2 40 0 4 0.9 0 0 | 0 | 2 0 0 0    | PASS | 40 of 50 requests on the baseline
            # p95: the ratio and an absolute floor must both be exceeded; a 0 ms baseline is judged by the floor alone
            {"maxP95Ratio": 2.0, "minP95IncreaseMs": 5}       | 2 100 0 12 0.9 0 0 | 2 100 0 4 0.9 0 0 | 0 | 2 0 0 0   | FAIL | p95 latency 12.000 ms is 8.000 ms over the baseline's 4.000 ms (max 2.00x and +5.0 ms)
            {"maxP95Ratio": 2.0, "minP95IncreaseMs": 5}       | 2 100 0 6 0.9 0 0 | 2 100 0 2 0.9 0 0 | 0 | 2 0 0 0    | PASS |
            {"maxP95Ratio": 2.0, "minP95IncreaseMs": 5}       | 2 100 0 3 0.9 0 0 | 2 100 0 0 0.9 0 0 | 0 | 2 0 0 0    | PASS |
            {"maxP95Ratio": 2.0, "minP95IncreaseMs": 5}       | 2 100 0 10 0.9 0 0 | 2 100 0 0 0.9 0 0 | 0 | 2 0 0 0   | FAIL | p95 latency 10.000 ms is 10.000 ms over the baseline's 0.000 ms (max 2.00x and +5.0 ms)
            # confidence, escalations, non-finite answers
            {"maxConfidenceDrop": 0.1}                        | 2 100 0 4 0.6 0 0 | 2 100 0 4 0.9 0 0 | 0 | 2 0 0 0    | FAIL | mean confidence dropped 0.300 below the baseline's 0.900 (max 0.100)
            {"maxConfidenceDrop": 0.1}                        | 2 100 0 4 0.85 0 0 | 2 100 0 4 0.9 0 0 | 0 | 2 0 0 0   | PASS |
            {"maxEscalationShare": 0.3}                       | 2 100 0 4 0.9 40 0 | -                | 0 | 2 0 0 0    | FAIL | escalated share 0.4000 > 0.3000
            {"maxEscalationShare": 0.3}                       | 2 100 0 4 0.9 30 0 | -                | 0 | 2 0 0 0    | PASS |
            {"maxNonFiniteRate": 0}                           | 2 100 0 4 0.9 0 1 | -                 | 0 | 2 0 0 0    | FAIL | non-finite outputs 0.0100 of answers > 0.0000
            {"maxNonFiniteRate": 0}                           | 2 0 0 0 0.9 0 0 | -                   | 0 | 2 0 0 0    | PASS |
            # stale: the updated devices unreachable only counts when they stand out against the others
            {"maxStale": 0}                                   | 2 100 0 4 0.9 0 0 | -                 | 0 | 2 2 18 0   | FAIL | 2 updated device(s) stale or offline > 0 (others: 0 of 18)
            {"maxStale": 0}                                   | 2 100 0 4 0.9 0 0 | -                 | 0 | 2 2 18 16  | PASS | 2 of 2 updated device(s) unreachable, as are 16 of the 18 others: the fleet, not the version
            {"maxStale": 1}                                   | 2 100 0 4 0.9 0 0 | -                 | 0 | 2 1 18 0   | PASS |
            """)
    void verdict_and_reason(String gates, String wave, String baseline, long installFailures, String reach, Verdict verdict, String said) {
        long[] x = Arrays.stream(reach.trim().split("\\s+")).mapToLong(Long::parseLong).toArray();
        Readings r = new Readings(installFailures, installFailures > 0 ? Optional.of("f1/d1: load-failed: boom") : Optional.empty(),
                (int) x[0], x[1], agg(wave), baseline.isBlank() || baseline.trim().equals("-") ? Optional.empty() : Optional.of("1"),
                baseline.isBlank() || baseline.trim().equals("-") ? Optional.empty() : Optional.of(agg(baseline)), (int) x[2], x[3]);
        Decision d = Gates.evaluate(GatesTest.gates(gates), r, Streaks.NONE);
        assertThat(d.verdict()).as("verdict; detail %s", d.detail()).isEqualTo(verdict);
        @SuppressWarnings("unchecked")
        Map<String, String> unjudged = (Map<String, String>) d.detail().getOrDefault("notJudged", Map.of());
        String actual = switch (d.verdict()) {
            case FAIL -> d.reason();
            case WAIT -> d.waiting().get(0).detail();
            case PASS -> String.join("; ", unjudged.values());
        };
        assertThat(actual).isEqualTo(said == null ? "" : said);
    }

    private static Aggregate agg(String cols) {
        String[] c = cols.trim().split("\\s+");
        return GatesTest.agg(Long.parseLong(c[0]), Long.parseLong(c[1]), Long.parseLong(c[2]), Double.parseDouble(c[3]), Double.parseDouble(c[4]),
                Long.parseLong(c[5]), Long.parseLong(c[6]));
    }
}
