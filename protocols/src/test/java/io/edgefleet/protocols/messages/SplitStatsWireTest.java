package io.edgefleet.protocols.messages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.protocols.ProtocolException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The {@code split} field's feedback counts on the wire: round trip, older agents' records without them, bounds. */
class SplitStatsWireTest {
    final MessageCodec json = MessageCodec.json();

    static TelemetryBatch batch(SplitStats s) {
        TelemetryRecord r = new TelemetryRecord("m", "1", Instant.ofEpochMilli(0), Instant.ofEpochMilli(1000), 3, 0,
                new LatencyPercentiles(1, 2, 3, 4), OptionalDouble.empty(), 0, 0, 0, Map.of()).withSplit(Optional.of(s));
        return new TelemetryBatch(TelemetryBatch.SCHEMA_VERSION, "f", "d", 1, Instant.ofEpochMilli(1000), List.of(r), 0);
    }

    @Test
    void feedback_counts_round_trip_and_an_older_agents_record_reads_as_unlabelled() {
        SplitStats s = new SplitStats("ab-1", "b", 3, 0, 3, 3, 3, 2.4, 2.0, 7, 5);
        byte[] wire = json.encode(batch(s));
        TelemetryBatch back = json.decode(wire, TelemetryBatch.class);
        assertThat(back.records().get(0).split()).contains(s);

        String old = new String(wire, java.nio.charset.StandardCharsets.UTF_8).replace(",\"labelled\":7", "").replace(",\"correct\":5", "")
                .replace("\"labelled\":7,", "").replace("\"correct\":5,", "");
        assertThat(old).doesNotContain("labelled").doesNotContain("correct");
        SplitStats read = json.decode(old.getBytes(java.nio.charset.StandardCharsets.UTF_8), TelemetryBatch.class).records().get(0).split().orElseThrow();
        assertThat(read.labelled()).isZero();
        assertThat(read.correct()).isZero();
        assertThat(read.requests()).isEqualTo(3);
    }

    @Test
    void more_correct_than_labelled_or_negative_counts_are_refused() {
        assertThatThrownBy(() -> new SplitStats("ab-1", "a", 0, 0, 0, 0, 0, 0, 0, 1, 2)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("split.correct");
        assertThatThrownBy(() -> new SplitStats("ab-1", "a", 0, 0, 0, 0, 0, 0, 0, -1, 0)).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("split.labelled");
    }
}
