package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** Numbers printed for people: no 16-digit floats (the rollout status printed errorRate=0.012345678901234568). */
class NumbersTest {
    @Test
    void doubles_get_four_significant_digits_and_integers_none() {
        assertThat(Numbers.human(0.012345678901234568)).isEqualTo("0.01235");
        assertThat(Numbers.human(1.0 / 3)).isEqualTo("0.3333");
        assertThat(Numbers.human(12.3456)).isEqualTo("12.35");
        assertThat(Numbers.human(3.0)).isEqualTo("3");
        assertThat(Numbers.human(1234.5678)).isEqualTo("1235");
        assertThat(Numbers.human(Double.NaN)).isEqualTo("n/a");
    }

    @Test
    void json_values_read_as_text() throws Exception {
        var n = new ObjectMapper().readTree("{\"p95Ms\": 12.345678901234, \"n\": 7, \"reason\": \"ok\", \"v\": [0.1000000000001], \"x\": null}");
        assertThat(Numbers.human(n.get("p95Ms"))).isEqualTo("12.35");
        assertThat(Numbers.human(n.get("n"))).isEqualTo("7");
        assertThat(Numbers.human(n.get("reason"))).isEqualTo("ok");
        assertThat(Numbers.human(n.get("v"))).isEqualTo("[0.1]");
        assertThat(Numbers.human(n.get("x"))).isEqualTo("-");
    }
}
