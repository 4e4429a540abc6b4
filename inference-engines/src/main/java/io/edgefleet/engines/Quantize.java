package io.edgefleet.engines;

import io.edgefleet.protocols.manifest.Quantization;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.TensorData;

/** Affine (de)quantization with a model's own parameters: {@code real = scale * (q - zeroPoint)}. */
public final class Quantize {
    private Quantize() {
    }

    /** Reals to INT8 or UINT8, rounding half away from zero and clamping to the type's range. */
    public static TensorData quantize(float[] values, long[] shape, DataType type, Quantization q) {
        int min;
        int max;
        if (type == DataType.INT8) {
            min = -128;
            max = 127;
        } else if (type == DataType.UINT8) {
            min = 0;
            max = 255;
        } else {
            throw new IllegalArgumentException("quantize to INT8 or UINT8, not " + type);
        }
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            long v = Math.round(values[i] / q.scale()) + q.zeroPoint();
            out[i] = (byte) Math.max(min, Math.min(max, v));
        }
        return type == DataType.INT8 ? TensorData.ofInt8(shape, out) : TensorData.ofUint8(shape, out);
    }

    /** Quantized elements (INT8, UINT8, INT16, INT32) to reals. */
    public static float[] dequantize(TensorData t, Quantization q) {
        if (!t.type().isInteger()) {
            throw new IllegalArgumentException("dequantize an integer tensor, not " + t.type());
        }
        float[] out = new float[t.elementCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (q.scale() * (t.getLong(i) - q.zeroPoint()));
        }
        return out;
    }
}
