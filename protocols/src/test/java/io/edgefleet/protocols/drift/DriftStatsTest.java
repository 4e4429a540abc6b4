package io.edgefleet.protocols.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.LatencyPercentiles;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class DriftStatsTest {
    final MessageCodec json = MessageCodec.json();

    @Test
    void rank_two_tensors_give_one_row_per_batch_element_capped_at_eight_and_32_features_spread_evenly() {
        float[] v = new float[10 * 64];
        for (int i = 0; i < v.length; i++) {
            v[i] = i;
        }
        double[][] rows = FeatureRows.of(TensorData.ofFloats(new long[] {10, 64}, v));
        assertThat(rows).hasNumberOfRows(8);
        assertThat(rows[0]).hasSize(32);
        assertThat(rows[0][1]).as("feature 2 of 64").isEqualTo(2);
        assertThat(rows[3][31]).as("row 3, feature 62").isEqualTo(3 * 64 + 62);
        assertThat(FeatureRows.of(TensorData.ofFloats(new long[] {10, 64}, v), 100)).as("the cloud reads every row").hasNumberOfRows(10);
        assertThat(FeatureRows.of(TensorData.ofFloats(new long[] {4}, 1, 2, 3, 4))).isDeepEqualTo(new double[][] {{1, 2, 3, 4}});
        assertThat(FeatureRows.of(TensorData.ofStrings(new long[] {1}, "a"))).isEmpty();
    }

    @Test
    void image_tensors_give_per_channel_means_for_nchw_and_nhwc() {
        // NCHW [2, 3, 4, 4]: channel c of image b holds the value 10 * b + c
        float[] nchw = new float[2 * 3 * 16];
        for (int b = 0; b < 2; b++) {
            for (int c = 0; c < 3; c++) {
                for (int p = 0; p < 16; p++) {
                    nchw[b * 48 + c * 16 + p] = 10 * b + c;
                }
            }
        }
        assertThat(FeatureRows.of(TensorData.ofFloats(new long[] {2, 3, 4, 4}, nchw))).isDeepEqualTo(new double[][] {{0, 1, 2}, {10, 11, 12}});
        // NHWC [1, 64, 64, 3] (12,288 elements, more than the 4,096 read per row): channel c holds c + 0.5
        float[] nhwc = new float[64 * 64 * 3];
        for (int p = 0; p < 64 * 64; p++) {
            for (int c = 0; c < 3; c++) {
                nhwc[p * 3 + c] = c + 0.5f;
            }
        }
        assertThat(FeatureRows.of(TensorData.ofFloats(new long[] {1, 64, 64, 3}, nhwc))).isDeepEqualTo(new double[][] {{0.5, 1.5, 2.5}});
    }

    @Test
    void a_record_without_drift_has_no_drift_key_and_an_old_agents_json_decodes_with_none() {
        TelemetryRecord old = new TelemetryRecord("m", "1", Instant.EPOCH, Instant.EPOCH.plusSeconds(1), 1, 0, new LatencyPercentiles(1, 1, 1, 1),
                OptionalDouble.empty(), 0, 0, 0, Map.of());
        byte[] encoded = json.encode(new TelemetryBatch("f", "d", 1, Instant.EPOCH, List.of(old)));
        assertThat(new String(encoded, StandardCharsets.UTF_8)).doesNotContain("drift");
        assertThat(json.decode(encoded, TelemetryBatch.class).records().get(0).drift()).isEmpty();
    }

    @Test
    void drift_statistics_survive_the_codec_and_unknown_fields_next_to_them_are_ignored() {
        DriftAccumulator acc = new DriftAccumulator();
        for (int i = 0; i < 100; i++) {
            acc.addRows("x", new double[][] {{i, -i}});
            acc.addConfidence(i / 100.0);
        }
        acc.addRows("x", new double[][] {{Double.NaN, Double.POSITIVE_INFINITY}});
        TelemetryRecord r = new TelemetryRecord("m", "1", Instant.EPOCH, Instant.EPOCH.plusSeconds(1), 101, 0, new LatencyPercentiles(1, 1, 1, 1),
                OptionalDouble.empty(), 0, 0, 0, Map.of(), Optional.empty(), Map.of(), acc.stats());
        String text = new String(json.encode(new TelemetryBatch("f", "d", 1, Instant.EPOCH, List.of(r))), StandardCharsets.UTF_8);
        text = text.replace("\"drift\":{", "\"drift\":{\"perPixel\":[1,2],"); // what a newer agent might add
        DriftStats back = json.decode(text.getBytes(StandardCharsets.UTF_8), TelemetryBatch.class).records().get(0).drift().orElseThrow();
        FeatureSketch f0 = back.inputs().get("x").get(0);
        assertThat(f0.count()).as("non-finite values skipped").isEqualTo(100);
        assertThat(f0.mean()).isCloseTo(49.5, within(1e-9));
        assertThat(f0.variance()).isCloseTo(841.6666666, within(1e-6));
        assertThat(f0.decode().quantile(0.5)).isCloseTo(49.5, within(1.0));
        assertThat(back.confidence().orElseThrow().count()).isEqualTo(100);
    }

    /**
     * From an attack: a mean of 1e200 (finite, so accepted) overflowed inside the cloud's merge and broke the judging of every
     * window after it; a NaN centroid threw from the library half-way through a merge. Both are refused before any merge,
     * and a record with one bad sketch merges nothing.
     */
    @Test
    void sketches_that_would_overflow_or_poison_a_merge_are_refused_and_a_record_merges_whole_or_not_at_all() {
        DriftAccumulator good = new DriftAccumulator();
        for (int i = 0; i < 50; i++) {
            good.addRows("x", new double[][] {{i, 2 * i}});
        }
        DriftStats stats = good.stats().orElseThrow();
        FeatureSketch f = stats.inputs().get("x").get(0);
        assertThatThrownBy(() -> new FeatureSketch(f.count(), 1e200, f.m2(), f.digest())).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("1e100");
        assertThatThrownBy(() -> new FeatureSketch(f.count(), f.mean(), 1e300, f.digest())).isInstanceOf(ProtocolException.class);
        // a digest whose first centroid's mean is NaN (header intact)
        byte[] raw = Base64.getDecoder().decode(f.digest());
        // t-digest's small encoding: a 30-byte header (encoding, min, max, compression, two array sizes, the cells used),
        // then (weight, mean) as floats per centroid: the first centroid's mean is at byte 34
        ByteBuffer.wrap(raw).putFloat(34, Float.NaN);
        FeatureSketch nan = new FeatureSketch(f.count(), f.mean(), f.m2(), Base64.getEncoder().encodeToString(raw));
        assertThatThrownBy(nan::decode).isInstanceOf(ProtocolException.class).hasMessageContaining("centroid");
        // a digest whose header's min is -infinity (or its max NaN): every centroid finite, yet the library's cdf divides
        // infinity by infinity, so the cloud's PSI of that feature was NaN, judged "within" the threshold and written to
        // the API's last_window_features and the store's mean_psi as NaN
        for (int[] at : new int[][] {{4, 0}, {12, 1}}) {
            byte[] hdr = Base64.getDecoder().decode(f.digest());
            ByteBuffer.wrap(hdr).putDouble(at[0], at[1] == 0 ? Double.NEGATIVE_INFINITY : Double.NaN);
            FeatureSketch odd = new FeatureSketch(f.count(), f.mean(), f.m2(), Base64.getEncoder().encodeToString(hdr));
            assertThatThrownBy(odd::decode).as("header bound at byte " + at[0]).isInstanceOf(ProtocolException.class)
                    .hasMessageContaining("min or max");
        }
        // a record holding one good and one poisoned sketch: nothing of it is merged
        DriftAccumulator into = new DriftAccumulator();
        DriftStats mixed = new DriftStats(Map.of("x", List.of(f, nan)), Optional.empty());
        assertThatThrownBy(() -> into.merge(mixed)).isInstanceOf(ProtocolException.class);
        assertThat(into.isEmpty()).as("the good sketch was not merged either").isTrue();
        into.merge(stats);
        assertThat(into.stats().orElseThrow().inputs().get("x").get(0).count()).isEqualTo(50);
    }

    /** From an attack: a malformed drift field refused the whole batch, and with it the counts rollout gates judge. */
    @Test
    void a_malformed_drift_field_is_ignored_and_the_record_kept() {
        DriftAccumulator acc = new DriftAccumulator();
        for (int i = 0; i < 20; i++) {
            acc.addRows("x", new double[][] {{i}});
        }
        TelemetryRecord r = new TelemetryRecord("m", "1", Instant.EPOCH, Instant.EPOCH.plusSeconds(1), 20, 1, new LatencyPercentiles(1, 1, 1, 1),
                OptionalDouble.empty(), 0, 0, 0, Map.of(), Optional.empty(), Map.of(), acc.stats());
        String text = new String(json.encode(new TelemetryBatch("f", "d", 1, Instant.EPOCH, List.of(r))), StandardCharsets.UTF_8);
        assertThat(text).contains("\"count\":20,");
        long before = LenientDriftStats.dropped();
        for (String bad : List.of(text.replaceFirst("\"count\":20,\"mean\"", "\"count\":-5,\"mean\""), text.replace("\"drift\":{", "\"drift\":\"hello\",\"x\":{"))) {
            TelemetryRecord back = json.decode(bad.getBytes(StandardCharsets.UTF_8), TelemetryBatch.class).records().get(0);
            assertThat(back.drift()).as(bad).isEmpty();
            assertThat(back.count()).isEqualTo(20);
            assertThat(back.errors()).isEqualTo(1);
        }
        assertThat(LenientDriftStats.dropped()).isEqualTo(before + 2);
    }

    @Test
    void hostile_digests_are_refused_before_the_library_sizes_anything_from_them() {
        ByteBuffer huge = ByteBuffer.allocate(30);
        huge.putInt(2).putDouble(0).putDouble(1).putFloat(1e9f).putShort((short) 10).putShort((short) 5);
        String hugeDigest = Base64.getEncoder().encodeToString(huge.array());
        assertThatThrownBy(() -> new FeatureSketch(5, 0, 0, hugeDigest).decode()).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("compression 10..200");
        assertThatThrownBy(() -> new FeatureSketch(5, 0, 0, "!!not base64!!").decode()).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("not base64");
        assertThatThrownBy(() -> new FeatureSketch(5, 0, 0, "AAAAAg==").decode()).isInstanceOf(ProtocolException.class)
                .hasMessageContaining("truncated");
        assertThatThrownBy(() -> new FeatureSketch(1, 0, -1, "")).isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> new FeatureSketch(1, Double.NaN, 0, "")).isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> new FeatureSketch(1, 0, 0, "A".repeat(FeatureSketch.MAX_DIGEST_CHARS + 1))).isInstanceOf(ProtocolException.class);
        DriftAccumulator acc = new DriftAccumulator();
        acc.addRows("x", new double[][] {{1}});
        FeatureSketch good = acc.stats().orElseThrow().inputs().get("x").get(0);
        assertThatThrownBy(() -> new FeatureSketch(7, good.mean(), good.m2(), good.digest()).decode()).as("count and digest disagree")
                .isInstanceOf(ProtocolException.class).hasMessageContaining("holds 1 values");
        assertThatThrownBy(() -> new DriftStats(Map.of("x", List.of()), Optional.empty())).isInstanceOf(ProtocolException.class);
    }
}
