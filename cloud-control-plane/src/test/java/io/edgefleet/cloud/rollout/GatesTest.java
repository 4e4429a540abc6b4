package io.edgefleet.cloud.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.rollout.Gates.Decision;
import io.edgefleet.cloud.rollout.Gates.Streaks;
import io.edgefleet.cloud.rollout.Gates.Verdict;
import io.edgefleet.cloud.store.Aggregate;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** {@link Gates} as a pure function: synthetic readings in, a verdict with its reasons out. */
class GatesTest {

    /** Telemetry of {@code devices} devices: {@code count} requests, {@code errors} errors, a p95, a mean confidence, escalations and NaNs. */
    static Aggregate agg(long devices, long count, long errors, double p95Ms, double confidence, long escalations, long nonFinite) {
        return new Aggregate(Optional.of("m"), Optional.of("2"), Optional.empty(), count, errors, escalations, nonFinite, 0,
                count == 0 ? OptionalDouble.empty() : OptionalDouble.of(confidence), p95Ms / 2, p95Ms, p95Ms * 1.2, p95Ms * 2, count, devices, 0, 0, 0, 0, java.util.Map.of());
    }

    static Aggregate healthy(long count) {
        return agg(2, count, 0, 4.0, 0.9, 0, 0);
    }

    static Readings readings(Aggregate wave, Aggregate baseline) {
        return new Readings(0, Optional.empty(), 2, 0, wave, Optional.ofNullable(baseline).map(b -> "1"), Optional.ofNullable(baseline));
    }

    /** Only the named gates, with one evaluation enough to fail and no sample floor unless a test sets them. */
    static RolloutSpec.Gates gates(String json) {
        try {
            RolloutSpec.Gates g = io.edgefleet.protocols.Json.jsonMapper(io.edgefleet.protocols.DecodeLimits.DEFAULT)
                    .readValue(json, RolloutSpec.Gates.class);
            return g.over(new RolloutSpec.Gates(Optional.of(0), Optional.empty(), OptionalDouble.empty(), OptionalDouble.empty(),
                    OptionalDouble.empty(), OptionalDouble.empty(), OptionalDouble.empty(), OptionalDouble.empty(), Optional.empty(),
                    Optional.of(0), Optional.of(0), OptionalDouble.of(0), Optional.of(1), OptionalDouble.empty()));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    static Decision once(String json, Readings r) {
        return Gates.evaluate(gates(json), r, Streaks.NONE);
    }

    static Aggregate refused(long count, long clientErrors) {
        return new Aggregate(Optional.of("m"), Optional.of("2"), Optional.empty(), count, 0, 0, 0, 0, OptionalDouble.of(0.9), 2, 4, 5, 8, count, 2,
                0, 0, 0, clientErrors, java.util.Map.of("invalid-input", clientErrors));
    }

    @Test
    void a_wave_whose_clients_are_refused_fails_the_client_error_gate_and_a_few_refusals_do_not() {
        Decision surge = once("{\"maxClientErrorRateIncrease\": 0.05}", readings(refused(151, 150), refused(300, 0)));
        assertThat(surge.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(surge.failures()).singleElement().asString().startsWith("client error rate 0.9934 (150 of 151 requests");
        Decision noise = once("{\"maxClientErrorRateIncrease\": 0.05}", readings(refused(151, 9), refused(300, 0)));
        assertThat(noise.verdict()).as("under the floor of 10 refusals").isEqualTo(Verdict.PASS);
        Decision thin = once("{\"maxClientErrorRateIncrease\": 0.05}", readings(refused(40, 40), refused(300, 0)));
        assertThat(thin.verdict()).as("40 requests are under the 50 a side the gate needs").isEqualTo(Verdict.PASS);
        assertThat(thin.detail()).extractingByKey("notJudged").asString().contains("maxClientErrorRateIncrease");
    }

    @Test
    void max_error_rate_increase_fails_over_the_baseline_and_passes_within_it() {
        Decision bad = once("{\"maxErrorRateIncrease\": 0.02}", readings(agg(2, 1000, 80, 4, 0.9, 0, 0), agg(8, 4000, 120, 4, 0.9, 0, 0)));
        assertThat(bad.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(bad.reason()).contains("error rate 0.0800").contains("0.0500 over the baseline's 0.0300");
        Decision ok = once("{\"maxErrorRateIncrease\": 0.02}", readings(agg(2, 1000, 40, 4, 0.9, 0, 0), agg(8, 4000, 120, 4, 0.9, 0, 0)));
        assertThat(ok.verdict()).isEqualTo(Verdict.PASS);
        assertThat(ok.failures()).isEmpty();
    }

    @Test
    void an_error_rate_increase_on_fewer_requests_than_min_samples_is_not_judged() {
        // 2 errors in 5 requests is a 40 % error rate, and noise.
        Decision few = once("{\"maxErrorRateIncrease\": 0.02, \"minSamples\": 30}", readings(agg(1, 5, 2, 4, 0.9, 0, 0), healthy(4000)));
        assertThat(few.verdict()).isEqualTo(Verdict.PASS);
        assertThat(few.detail().get("notJudged").toString()).contains("maxErrorRateIncrease=5 of 30 requests on the new version");
        Decision thinBaseline = once("{\"maxErrorRateIncrease\": 0.02, \"minSamples\": 30}", readings(agg(1, 500, 200, 4, 0.9, 0, 0), healthy(3)));
        assertThat(thinBaseline.verdict()).isEqualTo(Verdict.PASS);
        assertThat(thinBaseline.detail().get("notJudged").toString()).contains("3 of 30 requests on the baseline");
        Decision enough = once("{\"maxErrorRateIncrease\": 0.02, \"minSamples\": 30}", readings(agg(1, 30, 12, 4, 0.9, 0, 0), healthy(30)));
        assertThat(enough.verdict()).isEqualTo(Verdict.FAIL);
    }

    @Test
    void max_escalation_share_fails_above_the_share() {
        Decision bad = once("{\"maxEscalationShare\": 0.3}", readings(agg(2, 100, 0, 4, 0.9, 31, 0), null));
        assertThat(bad.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(bad.reason()).isEqualTo("escalated share 0.3100 > 0.3000");
        assertThat(once("{\"maxEscalationShare\": 0.3}", readings(agg(2, 100, 0, 4, 0.9, 30, 0), null)).verdict()).isEqualTo(Verdict.PASS);
    }

    @Test
    void max_stale_fails_when_more_updated_devices_went_stale() {
        Readings two = new Readings(0, Optional.empty(), 3, 2, healthy(100), Optional.empty(), Optional.empty());
        assertThat(once("{\"maxStale\": 1}", two).reason()).isEqualTo("2 updated device(s) stale or offline > 1");
        assertThat(once("{\"maxStale\": 2}", two).verdict()).isEqualTo(Verdict.PASS);
    }

    @Test
    void max_stale_ignores_an_outage_of_the_whole_fleet_and_needs_a_sustained_violation() {
        // a broker restart: the 2 updated devices and all 18 others are offline at once
        Readings outage = new Readings(0, Optional.empty(), 2, 2, healthy(100), Optional.empty(), Optional.empty(), 18, 18);
        Decision d = once("{\"maxStale\": 0}", outage);
        assertThat(d.verdict()).isEqualTo(Verdict.PASS);
        assertThat(d.detail()).extractingByKey("notJudged").asString().contains("the fleet, not the version");
        // the version stands out: both updated devices gone, every other device reachable
        Readings crashed = new Readings(0, Optional.empty(), 2, 2, healthy(100), Optional.empty(), Optional.empty(), 18, 0);
        assertThat(once("{\"maxStale\": 0}", crashed).reason()).isEqualTo("2 updated device(s) stale or offline > 0 (others: 0 of 18)");
        // with the default of three evaluations, one is not enough, three with new evidence are
        RolloutSpec.Gates three = gates("{\"maxStale\": 0, \"sustainedEvaluations\": 3}");
        Decision first = Gates.evaluate(three, crashed, Streaks.NONE);
        assertThat(first.verdict()).isEqualTo(Verdict.WAIT);
        Readings more = new Readings(0, Optional.empty(), 2, 2, healthy(200), Optional.empty(), Optional.empty(), 18, 0);
        Readings most = new Readings(0, Optional.empty(), 2, 2, healthy(300), Optional.empty(), Optional.empty(), 18, 0);
        Decision third = Gates.evaluate(three, most, Gates.evaluate(three, more, first.streaks()).streaks());
        assertThat(third.verdict()).isEqualTo(Verdict.FAIL);
    }

    @Test
    void max_stale_needs_the_updated_devices_to_stand_out_by_a_binomial_test_not_a_bare_share() {
        // The demo on a loaded machine: both updated devices still stale after a broker restart, as 16 of the 18 others.
        Readings busy = new Readings(0, Optional.empty(), 2, 2, healthy(100), Optional.empty(), Optional.empty(), 18, 16);
        Decision d = once("{\"maxStale\": 0}", busy);
        assertThat(d.verdict()).isEqualTo(Verdict.PASS);
        assertThat(d.detail()).extractingByKey("notJudged").asString().contains("2 of 2 updated device(s) unreachable, as are 16 of the 18");
        // Against a mostly reachable fleet the same two stand out: P = (2/18)^2 = 0.012.
        Readings few = new Readings(0, Optional.empty(), 2, 2, healthy(100), Optional.empty(), Optional.empty(), 18, 2);
        assertThat(once("{\"maxStale\": 0}", few).verdict()).isEqualTo(Verdict.FAIL);
        // One canary gone while one other device is: P = 1/18 = 0.056, the version.
        Readings one = new Readings(0, Optional.empty(), 1, 1, healthy(100), Optional.empty(), Optional.empty(), 18, 1);
        assertThat(once("{\"maxStale\": 0}", one).verdict()).isEqualTo(Verdict.FAIL);
        // One of two canaries gone while 3 of 18 others are: P = 1 - (15/18)^2 = 0.31, the fleet.
        Readings noise = new Readings(0, Optional.empty(), 2, 1, healthy(100), Optional.empty(), Optional.empty(), 18, 3);
        assertThat(once("{\"maxStale\": 0}", noise).verdict()).isEqualTo(Verdict.PASS);
    }

    @Test
    void the_binomial_upper_tail_is_exact() {
        assertThat(Gates.upperTail(2, 2, 16.0 / 18)).isCloseTo(0.790, org.assertj.core.data.Offset.offset(0.001));
        assertThat(Gates.upperTail(1, 2, 0.5)).isCloseTo(0.75, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(Gates.upperTail(0, 5, 0.3)).isEqualTo(1.0);
        assertThat(Gates.upperTail(3, 3, 0.0)).isZero();
        assertThat(Gates.upperTail(7, 20, 0.2)).isCloseTo(0.0867, org.assertj.core.data.Offset.offset(0.0001));
    }

    @Test
    void install_failures_fail_at_once_with_the_device_error() {
        Readings r = new Readings(2, Optional.of("f/d1: SELF_TEST: output is NaN"), 1, 0, healthy(0), Optional.empty(), Optional.empty());
        Decision d = Gates.evaluate(gates("{\"maxInstallFailures\": 1, \"sustainedEvaluations\": 5}"), r, Streaks.NONE);
        assertThat(d.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(d.reason()).isEqualTo("install failures 2 > 1 (f/d1: SELF_TEST: output is NaN)");
    }

    @Test
    void non_finite_answers_fail_at_once() {
        Decision d = Gates.evaluate(gates("{\"maxNonFiniteRate\": 0, \"sustainedEvaluations\": 3}"),
                readings(agg(1, 10, 0, 4, 0.9, 0, 1), null), Streaks.NONE);
        assertThat(d.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(d.reason()).contains("non-finite outputs 0.1000");
    }

    @Test
    void the_p95_gate_needs_both_the_ratio_and_the_absolute_floor() {
        String g = "{\"maxP95Ratio\": 3.0, \"minP95IncreaseMs\": 5}";
        // 0.26 ms -> 1.5 ms is 5.8x, but 1.2 ms is scheduling noise on a busy box.
        assertThat(once(g, readings(agg(2, 500, 0, 1.5, 0.9, 0, 0), agg(8, 500, 0, 0.26, 0.9, 0, 0))).verdict()).isEqualTo(Verdict.PASS);
        // 2 ms -> 5.5 ms: over the floor but under the ratio.
        assertThat(once(g, readings(agg(2, 500, 0, 5.5, 0.9, 0, 0), agg(8, 500, 0, 2.0, 0.9, 0, 0))).verdict()).isEqualTo(Verdict.PASS);
        // 2 ms -> 20 ms: both.
        Decision slow = once(g, readings(agg(2, 500, 0, 20, 0.9, 0, 0), agg(8, 500, 0, 2.0, 0.9, 0, 0)));
        assertThat(slow.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(slow.reason()).contains("p95 latency 20.000 ms is 18.000 ms over the baseline's 2.000 ms");
        assertThat(slow.detail()).containsEntry("p95Ratio", 10.0);
    }

    @Test
    void a_p95_baseline_of_zero_is_judged_by_the_floor_not_skipped_nor_a_bare_ratio() {
        String g = "{\"maxP95Ratio\": 3.0, \"minP95IncreaseMs\": 5}";
        Decision tiny = once(g, readings(agg(2, 500, 0, 0.4, 0.9, 0, 0), agg(8, 500, 0, 0.0, 0.9, 0, 0)));
        assertThat(tiny.verdict()).isEqualTo(Verdict.PASS);
        assertThat(tiny.detail()).containsEntry("p95IncreaseMs", 0.4).doesNotContainKey("p95Ratio");
        Decision slow = once(g, readings(agg(2, 500, 0, 17.0, 0.9, 0, 0), agg(8, 500, 0, 0.0, 0.9, 0, 0)));
        assertThat(slow.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(slow.reason()).contains("17.000 ms over the baseline's 0.000 ms");
    }

    @Test
    void a_p95_comparison_needs_min_samples_on_both_sides() {
        String g = "{\"maxP95Ratio\": 3.0, \"minP95IncreaseMs\": 1, \"minSamples\": 50}";
        Decision d = once(g, readings(agg(2, 49, 0, 40, 0.9, 0, 0), agg(8, 500, 0, 2, 0.9, 0, 0)));
        assertThat(d.verdict()).isEqualTo(Verdict.PASS);
        assertThat(d.detail().get("notJudged").toString()).contains("maxP95Ratio=49 of 50 requests on the new version");
        assertThat(once(g, readings(agg(2, 50, 0, 40, 0.9, 0, 0), agg(8, 500, 0, 2, 0.9, 0, 0))).verdict()).isEqualTo(Verdict.FAIL);
    }

    @Test
    void comparisons_without_a_baseline_are_not_judged_and_say_so() {
        Decision d = once("{\"maxP95Ratio\": 3.0, \"maxConfidenceDrop\": 0.1}", readings(agg(2, 500, 0, 40, 0.1, 0, 0), null));
        assertThat(d.verdict()).isEqualTo(Verdict.PASS);
        assertThat(d.detail().get("notJudged").toString()).contains("maxP95Ratio=no baseline").contains("maxConfidenceDrop=no baseline");
    }

    @Test
    void a_confidence_drop_fails_over_the_limit() {
        Decision d = once("{\"maxConfidenceDrop\": 0.1}", readings(agg(2, 500, 0, 4, 0.7, 0, 0), agg(8, 500, 0, 4, 0.9, 0, 0)));
        assertThat(d.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(d.reason()).contains("mean confidence dropped 0.200 below the baseline's 0.900");
    }

    @Test
    void a_noisy_violation_fails_only_when_sustained_over_evaluations_with_new_telemetry() {
        RolloutSpec.Gates g = gates("{\"maxErrorRate\": 0.05, \"sustainedEvaluations\": 3}");
        Decision first = Gates.evaluate(g, readings(agg(2, 100, 10, 4, 0.9, 0, 0), null), Streaks.NONE);
        assertThat(first.verdict()).isEqualTo(Verdict.WAIT);
        assertThat(first.waiting()).singleElement().satisfies(w -> {
            assertThat(w.condition()).isEqualTo("confirmation");
            assertThat(w.gate()).contains("maxErrorRate");
            assertThat(w.have()).isEqualTo(1);
            assertThat(w.need()).isEqualTo(3);
            assertThat(w.missing()).isEqualTo(2);
        });
        // No new requests: the streak neither grows nor breaks.
        Decision same = Gates.evaluate(g, readings(agg(2, 100, 10, 4, 0.9, 0, 0), null), first.streaks());
        assertThat(same.verdict()).isEqualTo(Verdict.WAIT);
        assertThat(same.streaks().violations()).containsEntry("maxErrorRate", 1);
        Decision second = Gates.evaluate(g, readings(agg(2, 200, 20, 4, 0.9, 0, 0), null), same.streaks());
        assertThat(second.streaks().violations()).containsEntry("maxErrorRate", 2);
        Decision third = Gates.evaluate(g, readings(agg(2, 300, 30, 4, 0.9, 0, 0), null), second.streaks());
        assertThat(third.verdict()).isEqualTo(Verdict.FAIL);
        assertThat(third.reason()).isEqualTo("error rate 0.1000 > 0.0500 on 3 consecutive evaluations");
    }

    @Test
    void a_passing_evaluation_with_new_telemetry_breaks_the_streak() {
        RolloutSpec.Gates g = gates("{\"maxErrorRate\": 0.05, \"sustainedEvaluations\": 2}");
        Decision first = Gates.evaluate(g, readings(agg(2, 100, 10, 4, 0.9, 0, 0), null), Streaks.NONE);
        Decision recovered = Gates.evaluate(g, readings(agg(2, 400, 10, 4, 0.9, 0, 0), null), first.streaks());
        assertThat(recovered.verdict()).isEqualTo(Verdict.PASS);
        assertThat(recovered.streaks().violations()).isEmpty();
        Decision again = Gates.evaluate(g, readings(agg(2, 500, 40, 4, 0.9, 0, 0), null), recovered.streaks());
        assertThat(again.verdict()).as("one violation after a pass starts a new streak").isEqualTo(Verdict.WAIT);
    }

    @Test
    void a_wave_waits_for_min_devices_and_min_requests_capped_at_the_updated_devices() {
        RolloutSpec.Gates g = gates("{\"minDevices\": 3, \"minRequests\": 100, \"maxNonFiniteRate\": 0}");
        Readings r = new Readings(0, Optional.empty(), 2, 0, agg(1, 40, 0, 4, 0.9, 0, 0), Optional.empty(), Optional.empty());
        Decision d = Gates.evaluate(g, r, Streaks.NONE);
        assertThat(d.verdict()).isEqualTo(Verdict.WAIT);
        assertThat(d.waiting()).extracting(Waiting::condition, w -> w.gate().orElseThrow(), Waiting::have, Waiting::need, Waiting::missing)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("telemetry", "minDevices", 1L, 2L, 1L),
                        org.assertj.core.groups.Tuple.tuple("telemetry", "minRequests", 40L, 100L, 60L));
    }

    @Test
    void a_wave_that_asks_for_evidence_does_not_pass_on_noisy_gates_it_had_too_few_requests_to_judge() {
        // The canary 15x slower passed its wave on 6 requests before this rule.
        RolloutSpec.Gates g = gates("{\"minDevices\": 1, \"minSamples\": 30, \"maxP95Ratio\": 3.0, \"minP95IncreaseMs\": 1}");
        Decision few = Gates.evaluate(g, readings(agg(2, 6, 0, 13.3, 0.9, 0, 0), agg(18, 164, 0, 0.85, 0.9, 0, 0)), Streaks.NONE);
        assertThat(few.verdict()).isEqualTo(Verdict.WAIT);
        assertThat(few.waiting()).singleElement().satisfies(w -> {
            assertThat(w.gate()).contains("minSamples");
            assertThat(w.have()).isEqualTo(6);
            assertThat(w.need()).isEqualTo(30);
        });
        // Without a baseline the comparison can never be judged: nothing to wait for.
        assertThat(Gates.evaluate(g, readings(agg(2, 6, 0, 13.3, 0.9, 0, 0), null), Streaks.NONE).verdict()).isEqualTo(Verdict.PASS);
    }

    @Test
    void gates_that_need_no_telemetry_never_wait_for_it() {
        RolloutSpec.Gates g = gates("{\"minDevices\": 5, \"maxInstallFailures\": 1, \"maxStale\": 0}");
        Readings quiet = new Readings(1, Optional.of("f/d2: no activation within PT10S"), 1, 0, healthy(0), Optional.empty(), Optional.empty());
        assertThat(Gates.evaluate(g, quiet, Streaks.NONE).verdict()).isEqualTo(Verdict.PASS);
    }

    @Test
    void nothing_to_wait_for_when_no_device_of_the_wave_updated() {
        RolloutSpec.Gates g = gates("{\"minDevices\": 1, \"maxNonFiniteRate\": 0}");
        Readings none = new Readings(0, Optional.empty(), 0, 0, healthy(0), Optional.empty(), Optional.empty());
        assertThat(Gates.evaluate(g, none, Streaks.NONE).verdict()).isEqualTo(Verdict.PASS);
    }

    @Test
    void a_gates_block_is_merged_over_the_defaults() {
        RolloutSpec spec = spec("{\"maxP95Ratio\": 2.0}");
        RolloutSpec.Gates e = spec.effectiveGates();
        assertThat(e.maxP95Ratio()).hasValue(2.0);
        assertThat(e.maxInstallFailures()).hasValue(0);
        assertThat(e.maxErrorRateIncrease()).hasValue(0.05);
        assertThat(e.maxNonFiniteRate()).hasValue(0.0);
        assertThat(e.minDevices()).hasValue(1);
        assertThat(e.minSamples()).hasValue(30);
        assertThat(e.sustainedEvaluations()).hasValue(3);
        assertThat(e.minP95IncreaseMs()).hasValue(5.0);
        assertThat(spec(null).effectiveGates()).isEqualTo(RolloutSpec.Gates.defaults());
        // A block naming only install/stale gates asks for no telemetry: minDevices defaults to 0.
        assertThat(spec("{\"maxInstallFailures\": 1}").effectiveGates().minDevices()).hasValue(0);
        assertThat(spec("{\"maxInstallFailures\": 1}").effectiveGates().maxInstallFailures()).hasValue(1);
    }

    @Test
    void an_unknown_key_is_refused_with_its_path() {
        var m = io.edgefleet.protocols.Json.jsonMapper(io.edgefleet.protocols.DecodeLimits.DEFAULT);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RolloutSpec.read(m, m.readTree(
                "{\"model\": \"m\", \"version\": \"2\", \"waves\": [{\"percent\": 100}], \"gates\": {\"minDevice\": 3}}")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("unknown key 'gates.minDevice' (known: ");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RolloutSpec.read(m, m.readTree(
                "{\"model\": \"m\", \"version\": \"2\", \"waves\": [{\"percent\": 100, \"bak\": \"1s\"}]}")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("unknown key 'waves[0].bak'");
    }

    static RolloutSpec spec(String gates) {
        var m = io.edgefleet.protocols.Json.jsonMapper(io.edgefleet.protocols.DecodeLimits.DEFAULT);
        try {
            return RolloutSpec.read(m, m.readTree("{\"model\": \"m\", \"version\": \"2\", \"waves\": [{\"percent\": 100}]"
                    + (gates == null ? "" : ", \"gates\": " + gates) + "}"));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
