package io.edgefleet.protocols.oip;

import io.edgefleet.protocols.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The contents of one tensor: element type, concrete shape and row-major elements.
 *
 * <p>Fixed-size types are held as little-endian bytes (the layout of the binary tensor
 * extension and of the native runtimes), {@link DataType#BYTES} as one byte array per element.
 * Immutable: factories copy their arguments and accessors return copies or read-only views.
 * The element count always matches the shape; a factory refuses anything else.
 */
public final class TensorData {
    private static final java.lang.invoke.VarHandle I16 = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.invoke.VarHandle I32 = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.invoke.VarHandle I64 = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.invoke.VarHandle F32 = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.invoke.VarHandle F64 = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(double[].class, ByteOrder.LITTLE_ENDIAN);
    private final DataType type;
    private final long[] shape;
    private final int elementCount;
    private final byte[] raw;
    private final byte[][] strings;

    private TensorData(DataType type, long[] shape, byte[] raw, byte[][] strings) {
        this.type = type;
        this.shape = shape;
        long count = Shapes.elementCount(shape, Integer.MAX_VALUE, "shape");
        this.elementCount = (int) count;
        this.raw = raw;
        this.strings = strings;
        if (type == DataType.BYTES) {
            if (strings.length != count) {
                throw mismatch(shape, count, strings.length);
            }
        } else if (raw.length != count * type.elementBytes()) {
            throw new ProtocolException("data", "shape " + Shapes.format(shape) + " of " + type + " needs "
                    + count * type.elementBytes() + " bytes, got " + raw.length);
        }
    }

    private static ProtocolException mismatch(long[] shape, long expected, long got) {
        return new ProtocolException("data", "expected " + expected + " elements for shape "
                + Shapes.format(shape) + ", got " + got);
    }

    /** Fixed-size elements from little-endian bytes, e.g. the tail of a binary-extension body. */
    public static TensorData ofRaw(DataType type, long[] shape, byte[] littleEndian) {
        Objects.requireNonNull(type, "type");
        if (type == DataType.BYTES) {
            throw new IllegalArgumentException("BYTES tensors are built with ofByteStrings");
        }
        return new TensorData(type, shape.clone(), littleEndian.clone(), null);
    }

    /**
     * Like {@link #ofRaw} but takes ownership of {@code littleEndian} instead of copying it: for
     * decoders and runtimes that fill a fresh array and never touch it again, so that a tensor's
     * bytes are not copied once more on their way in. The caller must not modify the array after.
     */
    public static TensorData adoptRaw(DataType type, long[] shape, byte[] littleEndian) {
        Objects.requireNonNull(type, "type");
        if (type == DataType.BYTES) {
            throw new IllegalArgumentException("BYTES tensors are built with ofByteStrings");
        }
        return new TensorData(type, shape.clone(), Objects.requireNonNull(littleEndian, "littleEndian"), null);
    }

    public static TensorData ofFloats(long[] shape, float... values) {
        ByteBuffer b = alloc(values.length, 4);
        b.asFloatBuffer().put(values);
        return new TensorData(DataType.FP32, shape.clone(), b.array(), null);
    }

    public static TensorData ofDoubles(long[] shape, double... values) {
        ByteBuffer b = alloc(values.length, 8);
        b.asDoubleBuffer().put(values);
        return new TensorData(DataType.FP64, shape.clone(), b.array(), null);
    }

    /** FP16 from floats, rounded to the nearest half-precision value. */
    public static TensorData ofHalfFloats(long[] shape, float... values) {
        ByteBuffer b = alloc(values.length, 2);
        for (float v : values) {
            b.putShort(Float.floatToFloat16(v));
        }
        return new TensorData(DataType.FP16, shape.clone(), b.array(), null);
    }

    public static TensorData ofInts(long[] shape, int... values) {
        ByteBuffer b = alloc(values.length, 4);
        b.asIntBuffer().put(values);
        return new TensorData(DataType.INT32, shape.clone(), b.array(), null);
    }

    public static TensorData ofLongs(long[] shape, long... values) {
        ByteBuffer b = alloc(values.length, 8);
        b.asLongBuffer().put(values);
        return new TensorData(DataType.INT64, shape.clone(), b.array(), null);
    }

    /** INT8 elements. */
    public static TensorData ofInt8(long[] shape, byte... values) {
        return new TensorData(DataType.INT8, shape.clone(), values.clone(), null);
    }

    /** UINT8 elements; each byte is read as 0..255. */
    public static TensorData ofUint8(long[] shape, byte... values) {
        return new TensorData(DataType.UINT8, shape.clone(), values.clone(), null);
    }

    public static TensorData ofBooleans(long[] shape, boolean... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) (values[i] ? 1 : 0);
        }
        return new TensorData(DataType.BOOL, shape.clone(), b, null);
    }

    public static TensorData ofByteStrings(long[] shape, List<byte[]> elements) {
        byte[][] copy = new byte[elements.size()][];
        for (int i = 0; i < copy.length; i++) {
            copy[i] = Objects.requireNonNull(elements.get(i), "element").clone();
        }
        return new TensorData(DataType.BYTES, shape.clone(), null, copy);
    }

    public static TensorData ofStrings(long[] shape, String... values) {
        List<byte[]> list = new ArrayList<>(values.length);
        for (String s : values) {
            list.add(s.getBytes(StandardCharsets.UTF_8));
        }
        return ofByteStrings(shape, list);
    }

    private static ByteBuffer alloc(int count, int size) {
        return ByteBuffer.allocate(Math.multiplyExact(count, size)).order(ByteOrder.LITTLE_ENDIAN);
    }

    public DataType type() {
        return type;
    }

    /** A copy of the shape. */
    public long[] shape() {
        return shape.clone();
    }

    public int elementCount() {
        return elementCount;
    }

    /** Bytes the elements take: for BYTES the sum of element lengths plus 4 per element (binary-extension size). */
    public long byteSize() {
        if (type != DataType.BYTES) {
            return raw.length;
        }
        long n = 0;
        for (byte[] s : strings) {
            n += 4L + s.length;
        }
        return n;
    }

    /** A read-only little-endian view of the elements of a fixed-size type. */
    public ByteBuffer buffer() {
        requireFixed();
        return ByteBuffer.wrap(raw).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A copy of the little-endian element bytes of a fixed-size type. */
    public byte[] toByteArray() {
        requireFixed();
        return raw.clone();
    }

    /** The elements of a BYTES tensor, copied. */
    public List<byte[]> byteStrings() {
        if (type != DataType.BYTES) {
            throw new IllegalStateException(type + " tensor has no byte-string elements");
        }
        List<byte[]> out = new ArrayList<>(strings.length);
        for (byte[] s : strings) {
            out.add(s.clone());
        }
        return out;
    }

    /** The BYTES-format serialisation: per element a 4-byte little-endian length, then the bytes. */
    byte[] serialisedByteStrings() {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] s : strings) {
            b.putInt(s.length).put(s);
        }
        return b.array();
    }

    /** Element {@code i} as a double, for any numeric or BOOL type (UINT64 above 2^63 loses precision). */
    public double getDouble(int i) {
        Objects.checkIndex(i, elementCount);
        requireFixed();
        // straight from the array (no buffer view per element: this runs per value when encoding)
        byte[] b = raw;
        return switch (type) {
            case BOOL -> b[i] != 0 ? 1 : 0;
            case UINT8 -> b[i] & 0xff;
            case INT8 -> b[i];
            case UINT16 -> (short) I16.get(b, i * 2) & 0xffff;
            case INT16 -> (short) I16.get(b, i * 2);
            case FP16 -> Float.float16ToFloat((short) I16.get(b, i * 2));
            case BF16 -> Float.intBitsToFloat(((short) I16.get(b, i * 2) & 0xffff) << 16);
            case UINT32 -> (int) I32.get(b, i * 4) & 0xffffffffL;
            case INT32 -> (int) I32.get(b, i * 4);
            case FP32 -> (float) F32.get(b, i * 4);
            case INT64 -> (long) I64.get(b, i * 8);
            case UINT64 -> unsignedToDouble((long) I64.get(b, i * 8));
            case FP64 -> (double) F64.get(b, i * 8);
            case BYTES -> throw new IllegalStateException("unreachable");
        };
    }

    /** Element {@code i} of an integer or BOOL type as a long (UINT64 as its two's-complement bits). */
    public long getLong(int i) {
        Objects.checkIndex(i, elementCount);
        requireFixed();
        byte[] b = raw;
        return switch (type) {
            case BOOL, INT8 -> b[i];
            case UINT8 -> b[i] & 0xff;
            case UINT16 -> (short) I16.get(b, i * 2) & 0xffff;
            case INT16 -> (short) I16.get(b, i * 2);
            case UINT32 -> (int) I32.get(b, i * 4) & 0xffffffffL;
            case INT32 -> (int) I32.get(b, i * 4);
            case INT64, UINT64 -> (long) I64.get(b, i * 8);
            default -> throw new IllegalStateException(type + " is not an integer type");
        };
    }

    /** All elements converted to float, for any numeric or BOOL type. */
    public float[] toFloatArray() {
        float[] out = new float[elementCount];
        if (type == DataType.FP32) {
            buffer().asFloatBuffer().get(out);
            return out;
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) getDouble(i);
        }
        return out;
    }

    /** All elements converted to double, for any numeric or BOOL type. */
    public double[] toDoubleArray() {
        double[] out = new double[elementCount];
        for (int i = 0; i < out.length; i++) {
            out[i] = getDouble(i);
        }
        return out;
    }

    private static double unsignedToDouble(long v) {
        return v >= 0 ? v : ((v >>> 1) | (v & 1)) * 2.0;
    }

    private void requireFixed() {
        if (type == DataType.BYTES) {
            throw new IllegalStateException("BYTES tensor has no fixed-size layout");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && t.type == type && Arrays.equals(t.shape, shape)
                && Arrays.equals(t.raw, raw) && Arrays.deepEquals(t.strings, strings);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, Arrays.hashCode(shape), Arrays.hashCode(raw), Arrays.deepHashCode(strings));
    }

    @Override
    public String toString() {
        return "TensorData[" + type + " " + Shapes.format(shape) + "]";
    }
}
