package io.edgefleet.protocols.oip;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.protocols.ProtocolException;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Tensor elements to and from JSON arrays, with exact per-element errors. Package-private. */
final class TensorJson {
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private TensorJson() {
    }

    /** Reads {@code data} (flat or nested as the shape) into a tensor of {@code type}. */
    static TensorData read(JsonNode data, DataType type, long[] shape, long count, String path) {
        if (!data.isArray()) {
            throw new ProtocolException(path, "must be an array, got " + kind(data));
        }
        List<JsonNode> flat = new ArrayList<>((int) Math.min(count, 1 << 20));
        if (data.size() > 0 && data.get(0).isArray()) {
            nested(data, shape, 0, flat, path);
        } else {
            for (int i = 0; i < data.size(); i++) {
                if (data.get(i).isArray()) {
                    throw new ProtocolException(path + "[" + i + "]", "mixes nested arrays and values");
                }
                flat.add(data.get(i));
            }
        }
        if (flat.size() != count) {
            throw new ProtocolException(path, "expected " + count + " elements for shape "
                    + Shapes.format(shape) + ", got " + flat.size());
        }
        if (type == DataType.BYTES) {
            List<byte[]> strings = new ArrayList<>(flat.size());
            for (int i = 0; i < flat.size(); i++) {
                JsonNode n = flat.get(i);
                if (!n.isTextual()) {
                    throw element(path, i, "expected a string for BYTES, got " + kind(n));
                }
                strings.add(n.textValue().getBytes(StandardCharsets.UTF_8));
            }
            return TensorData.ofByteStrings(shape, strings);
        }
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(flat.size(), type.elementBytes())).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < flat.size(); i++) {
            put(b, type, flat.get(i), path, i);
        }
        return TensorData.ofRaw(type, shape, b.array());
    }

    private static void nested(JsonNode arr, long[] shape, int depth, List<JsonNode> out, String path) {
        if (depth >= shape.length) {
            throw new ProtocolException(path, "nests deeper than the " + shape.length + " dimensions of shape "
                    + Shapes.format(shape));
        }
        if (arr.size() != shape[depth]) {
            throw new ProtocolException(path, "has " + arr.size() + " entries where dimension " + depth
                    + " of shape " + Shapes.format(shape) + " is " + shape[depth]);
        }
        boolean leaf = depth == shape.length - 1;
        for (int i = 0; i < arr.size(); i++) {
            JsonNode n = arr.get(i);
            if (leaf) {
                if (n.isArray()) {
                    throw new ProtocolException(path + "[" + i + "]", "nests deeper than the "
                            + shape.length + " dimensions of shape " + Shapes.format(shape));
                }
                out.add(n);
            } else {
                if (!n.isArray()) {
                    throw new ProtocolException(path + "[" + i + "]", "expected a nested array for dimension "
                            + (depth + 1) + ", got " + kind(n));
                }
                nested(n, shape, depth + 1, out, path + "[" + i + "]");
            }
        }
    }

    private static void put(ByteBuffer b, DataType type, JsonNode n, String path, int i) {
        switch (type) {
            case BOOL -> {
                if (!n.isBoolean()) {
                    throw element(path, i, "expected true or false for BOOL, got " + kind(n));
                }
                b.put((byte) (n.booleanValue() ? 1 : 0));
            }
            case INT8 -> b.put((byte) integer(n, type, -128, 127, path, i));
            case UINT8 -> b.put((byte) integer(n, type, 0, 255, path, i));
            case INT16 -> b.putShort((short) integer(n, type, Short.MIN_VALUE, Short.MAX_VALUE, path, i));
            case UINT16 -> b.putShort((short) integer(n, type, 0, 65535, path, i));
            case INT32 -> b.putInt((int) integer(n, type, Integer.MIN_VALUE, Integer.MAX_VALUE, path, i));
            case UINT32 -> b.putInt((int) integer(n, type, 0, 0xffffffffL, path, i));
            case INT64 -> b.putLong(integer(n, type, Long.MIN_VALUE, Long.MAX_VALUE, path, i));
            case UINT64 -> {
                if (!n.isIntegralNumber()) {
                    throw element(path, i, "expected an integer for UINT64, got " + kind(n));
                }
                BigInteger v = n.bigIntegerValue();
                if (v.signum() < 0 || v.compareTo(UINT64_MAX) > 0) {
                    throw element(path, i, v + " is out of range for UINT64 [0, " + UINT64_MAX + "]");
                }
                b.putLong(v.longValue());
            }
            case FP16 -> b.putShort(Float.floatToFloat16((float) floating(n, type, path, i)));
            case BF16 -> b.putShort(toBfloat16((float) floating(n, type, path, i)));
            case FP32 -> {
                double d = floating(n, type, path, i);
                if (Double.isFinite(d) && Float.isInfinite((float) d)) {
                    throw element(path, i, d + " is out of range for FP32");
                }
                b.putFloat((float) d);
            }
            case FP64 -> b.putDouble(floating(n, type, path, i));
            case BYTES -> throw new IllegalStateException("unreachable");
        }
    }

    private static long integer(JsonNode n, DataType type, long min, long max, String path, int i) {
        if (!n.isIntegralNumber()) {
            throw element(path, i, "expected an integer for " + type + ", got " + kind(n));
        }
        if (!n.canConvertToLong() || n.longValue() < min || n.longValue() > max) {
            throw element(path, i, n.asText() + " is out of range for " + type + " [" + min + ", " + max + "]");
        }
        return n.longValue();
    }

    private static double floating(JsonNode n, DataType type, String path, int i) {
        if (n.isNumber()) {
            double d = n.doubleValue();
            if (Double.isInfinite(d)) { // a JSON number beyond double's range (1e400) overflows to infinity: never what was meant
                throw element(path, i, "a number beyond the range of " + type + " (it would read as "
                        + (d > 0 ? "" : "-") + "infinity); send \"Infinity\" or \"-Infinity\" for an infinity");
            }
            return d;
        }
        if (n.isTextual()) {
            switch (n.textValue()) {
                case "NaN":
                    return Double.NaN;
                case "Infinity":
                    return Double.POSITIVE_INFINITY;
                case "-Infinity":
                    return Double.NEGATIVE_INFINITY;
                default:
                    break;
            }
        }
        throw element(path, i, "expected a number for " + type + ", got " + kind(n));
    }

    /** Round-to-nearest-even truncation of a float to bfloat16 bits. */
    static short toBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    private static ProtocolException element(String path, int i, String reason) {
        return new ProtocolException(path + "[" + i + "]", reason);
    }

    static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT, POJO -> "an object";
            case STRING -> "a string";
            case NUMBER -> n.isIntegralNumber() ? "an integer" : "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            case BINARY -> "binary data";
            case MISSING -> "nothing";
        };
    }

    /** Writes the elements as a flat JSON array; non-finite floats as "NaN", "Infinity", "-Infinity". */
    static void write(JsonGenerator g, TensorData t) throws IOException {
        g.writeStartArray();
        int n = t.elementCount();
        switch (t.type()) {
            case BYTES -> {
                for (byte[] s : t.byteStrings()) {
                    g.writeString(new String(s, StandardCharsets.UTF_8));
                }
            }
            case BOOL -> {
                for (int i = 0; i < n; i++) {
                    g.writeBoolean(t.getLong(i) != 0);
                }
            }
            case UINT64 -> {
                for (int i = 0; i < n; i++) {
                    g.writeNumber(new BigInteger(Long.toUnsignedString(t.getLong(i))));
                }
            }
            case FP16, BF16, FP32 -> {
                NumberText text = new NumberText();
                for (int i = 0; i < n; i++) {
                    float f = (float) t.getDouble(i);
                    if (Float.isFinite(f)) {
                        text.write(g, f);
                    } else {
                        g.writeString(Float.toString(f));
                    }
                }
            }
            case FP64 -> {
                NumberText text = new NumberText();
                for (int i = 0; i < n; i++) {
                    double d = t.getDouble(i);
                    if (Double.isFinite(d)) {
                        text.write(g, d);
                    } else {
                        g.writeString(Double.toString(d));
                    }
                }
            }
            default -> {
                for (int i = 0; i < n; i++) {
                    g.writeNumber(t.getLong(i));
                }
            }
        }
        g.writeEndArray();
    }

    /**
     * Writes finite floats as JSON numbers with the same digits as {@code Float.toString} and
     * {@code Double.toString} (what {@code JsonGenerator.writeNumber} writes), but without a
     * {@code String} per value: since JDK 19 {@code StringBuilder.append(float)} runs the JDK's
     * shortest-decimal algorithm (Raffaello Giulietti's Schubfach) straight into the builder, and the
     * characters go to the generator as a raw value (it adds the separators). One per array written.
     */
    private static final class NumberText {
        private final StringBuilder sb = new StringBuilder(32);
        private final char[] chars = new char[32];

        void write(JsonGenerator g, float f) throws IOException {
            sb.setLength(0);
            sb.append(f);
            flush(g);
        }

        void write(JsonGenerator g, double d) throws IOException {
            sb.setLength(0);
            sb.append(d);
            flush(g);
        }

        private void flush(JsonGenerator g) throws IOException {
            int len = sb.length();
            sb.getChars(0, len, chars, 0);
            g.writeRawValue(chars, 0, len);
        }
    }
}
