package io.edgefleet.cloud.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.store.Aggregate;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The client-error gate as a pure function of synthetic readings: it trips on a real surge and stays quiet on noise. */
class ClientErrorGateTest {
    static Aggregate reading(long count, Map<String, Long> clientErrors) {
        long refused = clientErrors.values().stream().mapToLong(Long::longValue).sum();
        return new Aggregate(Optional.of("cls"), Optional.of("2"), Optional.empty(), count, 0, 0, 0, 0, OptionalDouble.empty(), 1, 2, 3, 4, 1, 1,
                0, 0, 0, refused, clientErrors);
    }

    @Test
    void a_version_whose_clients_are_all_refused_fails_the_gate_naming_the_kind() {
        Map<String, Object> detail = new HashMap<>();
        Optional<String> failure = ClientErrorGate.check(0.05, 0, reading(151, Map.of("invalid-input", 150L)), reading(400, Map.of()), detail);
        assertThat(failure).hasValueSatisfying(f -> assertThat(f).startsWith("client error rate 0.9934 (150 of 151 requests: {invalid-input=150})")
                .contains("over the baseline's 0.0000 (max 0.0500"));
        assertThat((double) detail.get("clientErrorZ")).isGreaterThan(ClientErrorGate.MIN_Z);
    }

    @Test
    void the_default_gates_include_it() {
        assertThat(RolloutSpec.Gates.defaults().maxClientErrorRateIncrease()).hasValue(0.05);
    }

    @Test
    void too_few_requests_on_either_side_wait_instead_of_judging() {
        Map<String, Object> detail = new HashMap<>();
        assertThat(ClientErrorGate.check(0.05, 0, reading(20, Map.of("invalid-input", 20L)), reading(400, Map.of()), detail)).isEmpty();
        assertThat(detail.get("clientErrorGate")).isEqualTo("waiting for 50 requests on each side (wave 20, baseline 400)");
        assertThat(ClientErrorGate.check(0.05, 0, reading(200, Map.of("invalid-input", 200L)), reading(10, Map.of()), new HashMap<>())).isEmpty();
        // the spec's minRequests raises the bar
        assertThat(ClientErrorGate.check(0.05, 500, reading(200, Map.of("invalid-input", 200L)), reading(600, Map.of()), new HashMap<>())).isEmpty();
        assertThat(ClientErrorGate.check(0.05, 500, reading(600, Map.of("invalid-input", 600L)), reading(600, Map.of()), new HashMap<>())).isPresent();
    }

    @Test
    void an_increase_under_the_threshold_under_the_floor_or_within_noise_passes() {
        // 5% vs 1%: +4 points, under the 5-point threshold
        assertThat(ClientErrorGate.check(0.05, 0, reading(600, Map.of("bad-request", 30L)), reading(600, Map.of("bad-request", 6L)),
                new HashMap<>())).isEmpty();
        // 9 refusals of 60 (15%) over a clean baseline: under the absolute floor of 10 refusals
        assertThat(ClientErrorGate.check(0.05, 0, reading(60, Map.of("invalid-input", 9L)), reading(1000, Map.of()), new HashMap<>())).isEmpty();
        // 10 of 50 (20%) vs 6 of 60 (10%): +10 points but z about 1.5, well within what two small samples do by chance
        Map<String, Object> detail = new HashMap<>();
        assertThat(ClientErrorGate.check(0.05, 0, reading(50, Map.of("invalid-input", 10L)), reading(60, Map.of("invalid-input", 6L)), detail))
                .isEmpty();
        assertThat((double) detail.get("clientErrorZ")).isBetween(1.0, 2.0);
        // the same shares on ten times the requests are no longer chance
        assertThat(ClientErrorGate.check(0.05, 0, reading(500, Map.of("invalid-input", 100L)), reading(600, Map.of("invalid-input", 60L)),
                new HashMap<>())).isPresent();
    }

    @Test
    void a_baseline_already_refusing_as_much_keeps_the_gate_quiet() {
        assertThat(ClientErrorGate.check(0.05, 0, reading(1000, Map.of("unknown-model", 300L)), reading(1000, Map.of("unknown-model", 290L)),
                new HashMap<>())).isEmpty();
    }
}
