package io.edgefleet.protocols.drift;

import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.TensorData;

/**
 * Takes the values drift statistics describe out of one request's input tensor: a few rows (samples) of a bounded
 * number of features, so the cost per request is bounded whatever the tensor's size.
 *
 * <ul>
 * <li>rank 0: one row of one feature; rank 1 {@code [F]}: one row of {@code F} features;</li>
 * <li>rank 2 {@code [N, F]}: the first {@link #MAX_ROWS} of the {@code N} rows, {@code F} features each;</li>
 * <li>rank 3 or more (image-like, {@code [N, ...]}): one row per batch element (at most {@link #MAX_ROWS}) whose
 *     features are the channels' mean intensities: channels are axis 1 when it is at most 4 long (NCHW), else the last
 *     axis when it is at most 4 long (NHWC), else axis 1 when it is at most {@link #MAX_FEATURES} long ([N, C, T]
 *     sequences), else the whole element is one channel. Each channel's mean is taken over at most {@link #MAX_ELEMENTS_PER_ROW} elements spread evenly over it.
 *     Per-pixel statistics are not kept: pixels of one image are not independent samples, and the per-request channel
 *     mean is (see docs/drift.md).</li>
 * </ul>
 * When there are more than {@link #MAX_FEATURES} features, {@link #MAX_FEATURES} are kept, spread evenly:
 * feature {@code i} of the kept ones is feature {@code floor(i * F / MAX_FEATURES)}.
 * Non-finite values are left out of the channel means and reported as NaN features (which the accumulator skips).
 * BYTES tensors have no rows.
 *
 * <p>Cost per request and tensor: at most {@code MAX_ROWS × MAX_FEATURES} values for rank ≤ 2 and
 * {@code MAX_ROWS × MAX_ELEMENTS_PER_ROW} element reads for image-like tensors. Pure function, thread-safe.
 */
public final class FeatureRows {
    /** The most rows (samples) taken from one request's tensor. */
    public static final int MAX_ROWS = 8;
    /** The most features described per tensor. */
    public static final int MAX_FEATURES = 32;
    /** The most elements read per row of an image-like tensor. */
    public static final int MAX_ELEMENTS_PER_ROW = 4096;

    private FeatureRows() {
    }

    /** The rows of {@code data}: {@code rows[r][f]}, all rows the same length; empty for BYTES or empty tensors. */
    public static double[][] of(TensorData data) {
        return of(data, MAX_ROWS);
    }

    /**
     * The rows of {@code data}, at most {@code maxRows} of them: the cloud reads every row of an operator's reference
     * samples (stacked on axis 0), the agent at most {@link #MAX_ROWS} per request.
     */
    public static double[][] of(TensorData data, int maxRows) {
        if (data.type() == DataType.BYTES || data.elementCount() == 0) {
            return new double[0][];
        }
        long[] shape = data.shape();
        int total = data.elementCount();
        if (shape.length <= 1) {
            return new double[][] {pick(data, 0, total)};
        }
        int n = (int) Math.max(1, shape[0]);
        int per = total / n;
        int rows = Math.min(maxRows, n);
        double[][] out = new double[rows][];
        if (shape.length == 2) {
            for (int r = 0; r < rows; r++) {
                out[r] = pick(data, r * per, per);
            }
            return out;
        }
        int last = shape.length - 1;
        boolean channelsLast = !(shape[1] >= 1 && shape[1] <= 4) && shape[last] >= 1 && shape[last] <= 4;
        boolean channelsFirst = !channelsLast && shape[1] >= 1 && shape[1] <= MAX_FEATURES;
        int channels = channelsLast ? (int) shape[last] : channelsFirst ? (int) shape[1] : 1;
        int perChannel = per / channels;
        int stride = Math.max(1, perChannel / Math.max(1, MAX_ELEMENTS_PER_ROW / channels));
        for (int r = 0; r < rows; r++) {
            double[] row = new double[channels];
            int base = r * per;
            for (int c = 0; c < channels; c++) {
                double sum = 0;
                int k = 0;
                for (int j = 0; j < perChannel; j += stride) {
                    int index = channelsLast ? base + j * channels + c : base + c * perChannel + j;
                    double v = data.getDouble(index);
                    if (Double.isFinite(v)) {
                        sum += v;
                        k++;
                    }
                }
                row[c] = k == 0 ? Double.NaN : sum / k;
            }
            out[r] = row;
        }
        return out;
    }

    private static double[] pick(TensorData data, int offset, int features) {
        int kept = Math.min(MAX_FEATURES, features);
        double[] row = new double[kept];
        for (int i = 0; i < kept; i++) {
            row[i] = data.getDouble(offset + (int) ((long) i * features / kept));
        }
        return row;
    }
}
