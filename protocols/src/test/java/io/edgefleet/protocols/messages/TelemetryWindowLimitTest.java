package io.edgefleet.protocols.messages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.protocols.ProtocolException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The edges of {@link TelemetryRecord#MAX_WINDOW}: exactly one day is a window, one millisecond more or a negative one is not. */
class TelemetryWindowLimitTest {
    private static final Instant T0 = Instant.parse("2026-11-30T00:00:00Z");

    private static TelemetryRecord record(Instant start, Instant end) {
        return new TelemetryRecord("kws", "3", start, end, 10, 0, new LatencyPercentiles(1, 2, 3, 4), OptionalDouble.empty(), 0, 0, 0, Map.of(),
                Optional.empty(), Map.of());
    }

    @Test
    void exactly_one_day_is_accepted_and_decodes() {
        TelemetryRecord r = record(T0, T0.plus(Duration.ofDays(1)));
        MessageCodec json = MessageCodec.json();
        TelemetryBatch b = json.decode(json.encode(new TelemetryBatch("f", "d", 1, T0.plus(Duration.ofDays(1)), java.util.List.of(r))),
                TelemetryBatch.class);
        assertThat(b.records().get(0).windowEnd()).isEqualTo(T0.plus(Duration.ofDays(1)));
        assertThat(record(T0, T0).windowEnd()).as("an empty window").isEqualTo(T0);
    }

    @Test
    void one_millisecond_over_a_day_or_a_negative_window_is_refused_naming_windowEnd() {
        assertThatThrownBy(() -> record(T0, T0.plus(Duration.ofDays(1)).plusMillis(1))).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("windowEnd").hasMessageContaining("longer than 24 hours");
        assertThatThrownBy(() -> record(T0, T0.minusMillis(1))).isInstanceOf(ProtocolException.class).hasMessageContaining("windowEnd")
                .hasMessageContaining("before windowStart");
    }
}
