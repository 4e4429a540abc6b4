package io.edgefleet.protocols.oip;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.ProtocolException;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The fast path of {@link OipCodec#decodeRequest}: one pass of Jackson's streaming
 * {@link JsonParser} over the body, with tensor {@code data} arrays parsed element by element
 * (Jackson's bundled FastDoubleParser, {@code StreamReadFeature.USE_FAST_DOUBLE_PARSER}) straight
 * into the little-endian bytes a {@link TensorData} holds, without a tree node per value.
 *
 * <p>It only ever accepts what the tree decoder accepts, and returns exactly what the tree
 * decoder would return. It does not produce errors: on anything it does not handle (any invalid
 * input, malformed JSON, and the rare valid forms it leaves to the tree, such as UINT64 data) it
 * answers {@code null} and {@link OipCodec} runs the tree decoder, which is the single source of
 * the precise problem messages. Valid requests thus pay for one parse; invalid ones for two, which
 * only costs the client who sent them. Fields may come in any order: {@code data} before
 * {@code shape} or {@code datatype} is read as a tree and converted afterwards. Thread-safe and
 * stateless.
 */
final class StreamingRequestDecoder {
    private static final VarHandle I16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle I64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle F32 = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle F64 = MethodHandles.byteArrayViewVarHandle(double[].class, ByteOrder.LITTLE_ENDIAN);

    /** "Leave this body to the tree decoder": a control-flow signal, so it carries no stack trace. */
    private static final class Fallback extends RuntimeException {
        private static final Fallback INSTANCE = new Fallback();

        private Fallback() {
            super("fall back to the tree decoder", null, false, false);
        }
    }

    private final DecodeLimits limits;
    private final ObjectMapper mapper;
    /** Reads one value as a tree mid-document (the mapper itself would refuse the rest of the body as trailing tokens). */
    private final ObjectReader subtrees;

    StreamingRequestDecoder(DecodeLimits limits, ObjectMapper mapper) {
        this.limits = limits;
        this.mapper = mapper;
        this.subtrees = mapper.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    private JsonNode tree(JsonParser p) throws IOException {
        return subtrees.readTree(p);
    }

    /**
     * Decodes a request whose body size and header length {@link OipCodec} has already checked.
     *
     * @return the request, or null when the tree decoder must decide (always the case for invalid input)
     */
    InferRequest decode(byte[] body, OptionalInt headerLength) {
        int len = headerLength.orElse(body.length);
        try (JsonParser p = mapper.createParser(body, 0, len)) {
            return request(p, new OipCodec.Tail(body, headerLength), len);
        } catch (Fallback | IOException | ProtocolException e) {
            return null;
        }
    }

    private InferRequest request(JsonParser p, OipCodec.Tail tail, int len) throws IOException {
        expect(p.nextToken() == JsonToken.START_OBJECT);
        Optional<String> id = Optional.empty();
        Parameters params = Parameters.EMPTY;
        List<InferTensor> inputs = null;
        JsonNode outputs = null;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            switch (field) {
                case "id" -> {
                    expect(v == JsonToken.VALUE_STRING || v == JsonToken.VALUE_NULL);
                    id = v == JsonToken.VALUE_NULL ? Optional.empty() : Optional.of(p.getText());
                }
                case "parameters" -> params = v == JsonToken.VALUE_NULL ? Parameters.EMPTY
                        : OipCodec.parameters(tree(p), "$.parameters");
                case "inputs" -> {
                    expect(v == JsonToken.START_ARRAY);
                    inputs = tensors(p, tail, len);
                }
                case "outputs" -> outputs = v == JsonToken.VALUE_NULL ? null : tree(p);
                default -> p.skipChildren();
            }
        }
        expect(t == JsonToken.END_OBJECT && p.nextToken() == null && inputs != null);
        tail.requireConsumed();
        return new InferRequest(id, params, inputs, OipCodec.requestedOutputs(outputs));
    }

    private List<InferTensor> tensors(JsonParser p, OipCodec.Tail tail, int len) throws IOException {
        List<InferTensor> out = new ArrayList<>(2);
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            expect(t == JsonToken.START_OBJECT);
            out.add(tensor(p, tail, len));
        }
        return out;
    }

    private InferTensor tensor(JsonParser p, OipCodec.Tail tail, int len) throws IOException {
        String name = null;
        DataType type = null;
        long[] shape = null;
        long count = -1;
        Parameters params = Parameters.EMPTY;
        byte[] streamed = null;
        JsonNode tree = null;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            switch (field) {
                case "name" -> {
                    expect(v == JsonToken.VALUE_STRING);
                    name = p.getText();
                    expect(!name.isEmpty());
                }
                case "datatype" -> {
                    expect(v == JsonToken.VALUE_STRING);
                    type = DataType.fromWire(p.getText(), "");
                }
                case "shape" -> {
                    expect(v == JsonToken.START_ARRAY);
                    shape = shape(p);
                    count = Shapes.elementCount(shape, limits.maxTensorElements(), "");
                }
                case "parameters" -> params = v == JsonToken.VALUE_NULL ? Parameters.EMPTY
                        : OipCodec.parameters(tree(p), "");
                case "data" -> {
                    if (v == JsonToken.VALUE_NULL) {
                        break; // as if absent, as the tree decoder reads it
                    }
                    if (type != null && shape != null && v == JsonToken.START_ARRAY && streamable(type)) {
                        // every element takes two bytes of JSON at least: a larger count cannot be in this body
                        expect(count <= len / 2 + 1);
                        streamed = data(p, type, shape, (int) count);
                    } else {
                        tree = tree(p);
                    }
                }
                default -> p.skipChildren();
            }
        }
        expect(t == JsonToken.END_OBJECT && name != null && type != null && shape != null);
        Optional<Object> binarySize = params.get(Parameters.BINARY_DATA_SIZE);
        TensorData data;
        if (binarySize.isPresent()) {
            expect(binarySize.get() instanceof Long size && size >= 0 && streamed == null && tree == null);
            data = tail.read(type, shape, count, (Long) binarySize.get(), "");
        } else if (streamed != null) {
            data = TensorData.adoptRaw(type, shape, streamed);
        } else {
            expect(tree != null);
            data = TensorJson.read(tree, type, shape, count, "");
        }
        return new InferTensor(name, data, params);
    }

    private static long[] shape(JsonParser p) throws IOException {
        long[] dims = new long[4];
        int n = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            expect(t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER);
            long d = p.getLongValue();
            expect(d >= 0);
            if (n == dims.length) {
                dims = java.util.Arrays.copyOf(dims, n * 2);
            }
            dims[n++] = d;
        }
        return java.util.Arrays.copyOf(dims, n);
    }

    /** Types whose elements go straight into bytes; UINT64 and BYTES take the tree path. */
    private static boolean streamable(DataType type) {
        return type != DataType.UINT64 && type != DataType.BYTES;
    }

    /** Where the next element goes. */
    private static final class Cursor {
        final byte[] raw;
        final int count;
        int n;

        Cursor(byte[] raw, int count) {
            this.raw = raw;
            this.count = count;
        }
    }

    /** Reads a {@code data} array (its START_ARRAY consumed), flat or nested as the shape, into little-endian bytes. */
    private static byte[] data(JsonParser p, DataType type, long[] shape, int count) throws IOException {
        Cursor c = new Cursor(new byte[count * type.elementBytes()], count);
        JsonToken first = p.nextToken();
        if (first == JsonToken.START_ARRAY) {
            level(p, first, type, shape, 0, c);
        } else {
            for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
                expect(c.n < count);
                put(p, t, type, c.raw, c.n++);
            }
        }
        expect(c.n == count);
        return c.raw;
    }

    /**
     * The rest of a nested array at {@code depth} (its START_ARRAY consumed, {@code first} its
     * first token): as many entries as {@code shape[depth]}, arrays above the last dimension,
     * values in it.
     */
    private static void level(JsonParser p, JsonToken first, DataType type, long[] shape, int depth, Cursor c)
            throws IOException {
        expect(depth < shape.length);
        boolean leaf = depth == shape.length - 1;
        long entries = 0;
        for (JsonToken t = first; t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (leaf) {
                expect(c.n < c.count);
                put(p, t, type, c.raw, c.n++);
            } else {
                expect(t == JsonToken.START_ARRAY);
                level(p, p.nextToken(), type, shape, depth + 1, c);
            }
            entries++;
        }
        expect(entries == shape[depth]);
    }

    /** Element {@code i} from the current token, by the tree decoder's rules ({@code TensorJson}); anything else falls back. */
    private static void put(JsonParser p, JsonToken t, DataType type, byte[] raw, int i) throws IOException {
        switch (type) {
            case FP32 -> {
                double d = floating(p, t);
                expect(!(Double.isFinite(d) && Float.isInfinite((float) d)));
                F32.set(raw, i * 4, (float) d);
            }
            case FP64 -> F64.set(raw, i * 8, floating(p, t));
            case FP16 -> I16.set(raw, i * 2, Float.floatToFloat16((float) floating(p, t)));
            case BF16 -> I16.set(raw, i * 2, TensorJson.toBfloat16((float) floating(p, t)));
            case BOOL -> {
                expect(t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE);
                raw[i] = (byte) (t == JsonToken.VALUE_TRUE ? 1 : 0);
            }
            case INT8 -> raw[i] = (byte) integer(p, t, -128, 127);
            case UINT8 -> raw[i] = (byte) integer(p, t, 0, 255);
            case INT16 -> I16.set(raw, i * 2, (short) integer(p, t, Short.MIN_VALUE, Short.MAX_VALUE));
            case UINT16 -> I16.set(raw, i * 2, (short) integer(p, t, 0, 65535));
            case INT32 -> I32.set(raw, i * 4, (int) integer(p, t, Integer.MIN_VALUE, Integer.MAX_VALUE));
            case UINT32 -> I32.set(raw, i * 4, (int) integer(p, t, 0, 0xffffffffL));
            case INT64 -> I64.set(raw, i * 8, integer(p, t, Long.MIN_VALUE, Long.MAX_VALUE));
            default -> throw Fallback.INSTANCE;
        }
    }

    private static double floating(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
            double d = p.getDoubleValue();
            expect(!Double.isInfinite(d)); // an overflowing number (1e400): the tree decoder names it
            return d;
        }
        if (t == JsonToken.VALUE_STRING) {
            switch (p.getText()) {
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
        throw Fallback.INSTANCE;
    }

    private static long integer(JsonParser p, JsonToken t, long min, long max) throws IOException {
        expect(t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER);
        long v = p.getLongValue();
        expect(v >= min && v <= max);
        return v;
    }

    private static void expect(boolean condition) {
        if (!condition) {
            throw Fallback.INSTANCE;
        }
    }
}
