package io.edgefleet.cloud.sender;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.LatencyPercentiles;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** Telemetry no device could have measured is refused with a reason naming the record and the rule. */
class TelemetryPlausibilityTest {
    static final Instant NOW = Instant.parse("2026-11-30T01:00:00Z");
    static final Duration SKEW = Duration.ofMinutes(5);

    static TelemetryBatch batch(Instant sentAt, Instant start, Instant end, long count, long errors) {
        return new TelemetryBatch("f", "d", 1, sentAt, List.of(new TelemetryRecord("m", "1", start, end, count, errors,
                new LatencyPercentiles(1, 2, 3, 4), OptionalDouble.empty(), 0, 0, 0, Map.of())));
    }

    static Optional<String> problem(TelemetryBatch b) {
        return TelemetryPlausibility.problem(b, NOW, 10_000, SKEW);
    }

    @Test
    void a_window_an_agent_could_have_measured_passes() {
        assertThat(problem(batch(NOW, NOW.minusSeconds(10), NOW, 100_000, 3))).isEmpty();
        assertThat(problem(batch(NOW.plusSeconds(60), NOW.minusSeconds(10), NOW.plusSeconds(60), 1, 0))).as("within the clock skew").isEmpty();
        assertThat(problem(batch(NOW, NOW, NOW, 10_000, 0))).as("an empty-length window holds a second's worth").isEmpty();
    }

    @Test
    void a_window_in_the_future_or_sent_from_the_future_is_refused() {
        assertThat(problem(batch(NOW, NOW.plus(Duration.ofHours(1)), NOW.plus(Duration.ofHours(1)).plusSeconds(10), 5, 0)))
                .hasValueSatisfying(p -> assertThat(p).contains("ends in the future"));
        assertThat(problem(batch(NOW.plus(Duration.ofDays(1)), NOW.minusSeconds(10), NOW, 5, 0)))
                .hasValueSatisfying(p -> assertThat(p).contains("sentAt").contains("future"));
    }

    @Test
    void more_requests_than_the_window_could_hold_are_refused() {
        assertThat(problem(batch(NOW, NOW.minusSeconds(10), NOW, 100_001, 0)))
                .hasValueSatisfying(p -> assertThat(p).contains("100001 requests in 10 s").contains("max-requests-per-second"));
        assertThat(problem(batch(NOW, NOW.minusMillis(1), NOW, io.edgefleet.protocols.messages.TelemetryRecord.MAX_COUNT, 0))).isPresent();
        // beyond 2^40 a record does not even decode (its sums over devices and windows must stay far from a long's overflow)
        assertThatThrownBy(() -> batch(NOW, NOW.minusMillis(1), NOW, Long.MAX_VALUE, 0)).hasMessageContaining("a window may count");
    }

    @Test
    void negative_counts_and_errors_above_requests_never_decode() {
        MessageCodec json = MessageCodec.json();
        String ok = new String(json.encode(batch(NOW, NOW.minusSeconds(10), NOW, 5, 1)), StandardCharsets.UTF_8);
        assertThatThrownBy(() -> json.decode(ok.replace("\"count\":5", "\"count\":-5").getBytes(StandardCharsets.UTF_8), TelemetryBatch.class))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("count");
        assertThatThrownBy(() -> json.decode(ok.replace("\"errors\":1", "\"errors\":6").getBytes(StandardCharsets.UTF_8), TelemetryBatch.class))
                .isInstanceOf(ProtocolException.class).hasMessageContaining("errors");
    }
}
