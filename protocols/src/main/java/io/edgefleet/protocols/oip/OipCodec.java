package io.edgefleet.protocols.oip;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.Json;
import io.edgefleet.protocols.ProtocolException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Predicate;

/**
 * Encodes and decodes Open Inference Protocol v2 (KServe v2 / Triton) REST bodies: JSON, and
 * the binary tensor extension where a JSON header of {@value #HEADER_CONTENT_LENGTH} bytes is
 * followed by the tensors' little-endian bytes in the order of the tensors that carry
 * {@code binary_data_size}.
 *
 * <p>Decoding is strict and total: any input either yields a complete object or throws
 * {@link ProtocolException} with the JSON path of the problem. Thread-safe; holds no state but its
 * Jackson mapper, built on first use.
 */
public final class OipCodec {
    /** The HTTP header that carries the JSON header length of a binary-extension body. */
    public static final String HEADER_CONTENT_LENGTH = "Inference-Header-Content-Length";

    private final DecodeLimits limits;
    /** Built on first use: an idle agent never loads Jackson's databind (hundreds of classes, MiBs of metaspace). */
    private volatile ObjectMapper mapper;
    private volatile StreamingRequestDecoder streaming;

    private OipCodec(DecodeLimits limits) {
        this.limits = limits;
    }

    private ObjectMapper mapper() {
        ObjectMapper m = mapper;
        if (m == null) {
            synchronized (this) {
                m = mapper;
                if (m == null) {
                    m = Json.jsonMapper(limits);
                    streaming = new StreamingRequestDecoder(limits, m);
                    mapper = m;
                }
            }
        }
        return m;
    }

    private StreamingRequestDecoder streaming() {
        mapper();
        return streaming;
    }

    public static OipCodec create(DecodeLimits limits) {
        return new OipCodec(limits);
    }

    public static OipCodec create() {
        return new OipCodec(DecodeLimits.DEFAULT);
    }

    public DecodeLimits limits() {
        return limits;
    }

    /**
     * Parses a header value of {@value #HEADER_CONTENT_LENGTH}; absent or blank means a plain JSON body.
     *
     * @throws ProtocolException when the value is not a non-negative integer
     */
    public static OptionalInt parseHeaderLength(String value) {
        if (value == null || value.isBlank()) {
            return OptionalInt.empty();
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n >= 0) {
                return OptionalInt.of(n);
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new ProtocolException(HEADER_CONTENT_LENGTH, "'" + io.edgefleet.protocols.Checks.printable(value)
                + "' is not a non-negative integer");
    }

    // ---------------------------------------------------------------- requests

    /**
     * Decodes a request body. A valid body is read in one streaming pass, tensor {@code data}
     * straight into the tensors' bytes; an invalid one is read again as a tree, which names the
     * problem (the two paths accept exactly the same bodies and yield equal requests).
     *
     * @param headerLength the value of {@value #HEADER_CONTENT_LENGTH}, absent for plain JSON
     * @throws ProtocolException with the JSON path and the rule broken
     */
    public InferRequest decodeRequest(byte[] body, OptionalInt headerLength) {
        checkBody(body, headerLength, "request");
        InferRequest fast = streaming().decode(body, headerLength);
        return fast != null ? fast : decodeRequestTree(body, headerLength);
    }

    /** The tree decoder: the reference for what is valid and the source of every problem message. */
    InferRequest decodeRequestTree(byte[] body, OptionalInt headerLength) {
        JsonNode root = header(body, headerLength, "request");
        Tail tail = new Tail(body, headerLength);
        Optional<String> id = optionalString(root, "id", "$");
        Parameters params = parameters(root.get("parameters"), "$.parameters");
        JsonNode inputs = root.get("inputs");
        if (inputs == null || inputs.isNull()) {
            throw new ProtocolException("$.inputs", "is required");
        }
        List<InferTensor> tensors = tensors(inputs, "$.inputs", tail);
        tail.requireConsumed();
        return new InferRequest(id, params, tensors, requestedOutputs(root.get("outputs")));
    }

    /** {@code $.outputs}: absent or null means all outputs. */
    static List<RequestedOutput> requestedOutputs(JsonNode outs) {
        List<RequestedOutput> outputs = new ArrayList<>();
        if (outs != null && !outs.isNull()) {
            array(outs, "$.outputs");
            for (int i = 0; i < outs.size(); i++) {
                String p = "$.outputs[" + i + "]";
                JsonNode o = object(outs.get(i), p);
                outputs.add(new RequestedOutput(requiredString(o, "name", p), parameters(o.get("parameters"), p + ".parameters")));
            }
        }
        return outputs;
    }

    /** Encodes a request; with {@code binaryInputs} every input travels in the binary tail. */
    public Encoded encodeRequest(InferRequest request, boolean binaryInputs) {
        ByteArrayOutputStream tail = new ByteArrayOutputStream();
        byte[] json = write(g -> {
            g.writeStartObject();
            if (request.id().isPresent()) {
                g.writeStringField("id", request.id().get());
            }
            writeParameters(g, request.parameters());
            g.writeArrayFieldStart("inputs");
            for (InferTensor t : request.inputs()) {
                writeTensor(g, t, binaryInputs, tail);
            }
            g.writeEndArray();
            if (!request.outputs().isEmpty()) {
                g.writeArrayFieldStart("outputs");
                for (RequestedOutput o : request.outputs()) {
                    g.writeStartObject();
                    g.writeStringField("name", o.name());
                    writeParameters(g, o.parameters());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        });
        return join(json, tail, binaryInputs);
    }

    // ---------------------------------------------------------------- responses

    /**
     * Encodes a response; outputs for which {@code binaryOutput} is true travel in the binary
     * tail (pass {@code request::wantsBinary} to honour the request's binary parameters).
     */
    public Encoded encodeResponse(InferResponse response, Predicate<String> binaryOutput) {
        ByteArrayOutputStream tail = new ByteArrayOutputStream();
        boolean[] anyBinary = {false};
        byte[] json = write(g -> {
            g.writeStartObject();
            g.writeStringField("model_name", response.modelName());
            if (response.modelVersion().isPresent()) {
                g.writeStringField("model_version", response.modelVersion().get());
            }
            if (response.id().isPresent()) {
                g.writeStringField("id", response.id().get());
            }
            writeParameters(g, response.parameters());
            g.writeArrayFieldStart("outputs");
            for (InferTensor t : response.outputs()) {
                boolean binary = binaryOutput.test(t.name());
                anyBinary[0] |= binary;
                writeTensor(g, t, binary, tail);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
        return join(json, tail, anyBinary[0]);
    }

    public InferResponse decodeResponse(byte[] body, OptionalInt headerLength) {
        JsonNode root = header(body, headerLength, "response");
        Tail tail = new Tail(body, headerLength);
        String model = requiredString(root, "model_name", "$");
        Optional<String> version = optionalString(root, "model_version", "$");
        Optional<String> id = optionalString(root, "id", "$");
        Parameters params = parameters(root.get("parameters"), "$.parameters");
        JsonNode outputs = root.get("outputs");
        List<InferTensor> tensors = outputs == null || outputs.isNull() ? List.of() : tensors(outputs, "$.outputs", tail);
        tail.requireConsumed();
        return new InferResponse(model, version, id, params, tensors);
    }

    // ---------------------------------------------------------------- metadata and errors

    public byte[] encodeModelMetadata(ModelMetadata m) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("name", m.name());
            g.writeArrayFieldStart("versions");
            for (String v : m.versions()) {
                g.writeString(v);
            }
            g.writeEndArray();
            g.writeStringField("platform", m.platform());
            writeTensorMetadata(g, "inputs", m.inputs());
            writeTensorMetadata(g, "outputs", m.outputs());
            g.writeEndObject();
        });
    }

    public ModelMetadata decodeModelMetadata(byte[] body) {
        JsonNode root = header(body, OptionalInt.empty(), "model metadata");
        return new ModelMetadata(requiredString(root, "name", "$"), strings(root, "versions"),
                optionalString(root, "platform", "$").orElse(""),
                tensorMetadata(root.get("inputs"), "$.inputs"), tensorMetadata(root.get("outputs"), "$.outputs"));
    }

    public byte[] encodeServerMetadata(ServerMetadata m) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("name", m.name());
            g.writeStringField("version", m.version());
            g.writeArrayFieldStart("extensions");
            for (String e : m.extensions()) {
                g.writeString(e);
            }
            g.writeEndArray();
            g.writeEndObject();
        });
    }

    public ServerMetadata decodeServerMetadata(byte[] body) {
        JsonNode root = header(body, OptionalInt.empty(), "server metadata");
        return new ServerMetadata(requiredString(root, "name", "$"), requiredString(root, "version", "$"),
                strings(root, "extensions"));
    }

    /** An optional array of strings at {@code $.field}; absent means empty. */
    private static List<String> strings(JsonNode root, String field) {
        List<String> out = new ArrayList<>();
        JsonNode arr = root.get(field);
        if (arr != null && !arr.isNull()) {
            array(arr, "$." + field);
            for (int i = 0; i < arr.size(); i++) {
                out.add(text(arr.get(i), "$." + field + "[" + i + "]"));
            }
        }
        return out;
    }

    /** {@code {"error": "..."}}, the protocol's error body. */
    public byte[] encodeError(String message) {
        return write(g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeEndObject();
        });
    }

    public String decodeError(byte[] body) {
        return requiredString(header(body, OptionalInt.empty(), "error"), "error", "$");
    }

    // ---------------------------------------------------------------- reading

    /** The checks on a body before any parsing. */
    private void checkBody(byte[] body, OptionalInt headerLength, String what) {
        if (body == null || body.length == 0) {
            throw new ProtocolException("$", what + " body is empty");
        }
        limits.checkSize(body.length, what + " body");
        int len = headerLength.orElse(body.length);
        if (len > body.length) {
            throw new ProtocolException(HEADER_CONTENT_LENGTH, len + " is larger than the body of " + body.length + " bytes");
        }
        if (len == 0) {
            throw new ProtocolException(HEADER_CONTENT_LENGTH, "0 leaves no JSON header");
        }
    }

    private JsonNode header(byte[] body, OptionalInt headerLength, String what) {
        checkBody(body, headerLength, what);
        int len = headerLength.orElse(body.length);
        JsonNode root;
        try {
            root = mapper().readTree(body, 0, len);
        } catch (JacksonException e) {
            throw Json.translate(e);
        } catch (IOException e) {
            throw new ProtocolException("$", "unreadable " + what, e);
        }
        if (root == null || root.isMissingNode()) {
            throw new ProtocolException("$", what + " body is empty");
        }
        return object(root, "$");
    }

    private List<InferTensor> tensors(JsonNode arr, String path, Tail tail) {
        array(arr, path);
        List<InferTensor> out = new ArrayList<>(arr.size());
        for (int i = 0; i < arr.size(); i++) {
            out.add(tensor(arr.get(i), path + "[" + i + "]", tail));
        }
        return out;
    }

    private InferTensor tensor(JsonNode node, String path, Tail tail) {
        object(node, path);
        String name = requiredString(node, "name", path);
        JsonNode dt = node.get("datatype");
        if (dt == null || dt.isNull()) {
            throw new ProtocolException(path + ".datatype", "is required");
        }
        DataType type = DataType.fromWire(text(dt, path + ".datatype"), path + ".datatype");
        long[] shape = shape(node.get("shape"), path + ".shape");
        long count = Shapes.elementCount(shape, limits.maxTensorElements(), path + ".shape");
        Parameters params = parameters(node.get("parameters"), path + ".parameters");
        Optional<Object> binarySize = params.get(Parameters.BINARY_DATA_SIZE);
        JsonNode data = node.get("data");
        TensorData tensorData;
        if (binarySize.isPresent()) {
            if (!(binarySize.get() instanceof Long size) || size < 0) {
                throw new ProtocolException(path + ".parameters." + Parameters.BINARY_DATA_SIZE,
                        "must be a non-negative integer, got " + binarySize.get());
            }
            if (data != null && !data.isNull()) {
                throw new ProtocolException(path + ".data", "must be absent when binary_data_size is given");
            }
            tensorData = tail.read(type, shape, count, size, path);
        } else {
            if (data == null || data.isNull()) {
                throw new ProtocolException(path + ".data", "is required (or parameters.binary_data_size with a binary body)");
            }
            tensorData = TensorJson.read(data, type, shape, count, path + ".data");
        }
        return new InferTensor(name, tensorData, params);
    }

    private static long[] shape(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            throw new ProtocolException(path, "is required");
        }
        array(node, path);
        long[] shape = new long[node.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = node.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong()) {
                throw new ProtocolException(path + "[" + i + "]", "expected an integer dimension, got " + TensorJson.kind(d));
            }
            shape[i] = d.longValue();
            if (shape[i] < 0) {
                throw new ProtocolException(path + "[" + i + "]", "dimension must be >= 0, got " + shape[i]);
            }
        }
        return shape;
    }

    private static List<TensorMetadata> tensorMetadata(JsonNode arr, String path) {
        if (arr == null || arr.isNull()) {
            return List.of();
        }
        array(arr, path);
        List<TensorMetadata> out = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            String p = path + "[" + i + "]";
            JsonNode t = object(arr.get(i), p);
            JsonNode sh = t.get("shape");
            if (sh == null || sh.isNull()) {
                throw new ProtocolException(p + ".shape", "is required");
            }
            array(sh, p + ".shape");
            long[] shape = new long[sh.size()];
            for (int j = 0; j < shape.length; j++) {
                JsonNode d = sh.get(j);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < -1) {
                    throw new ProtocolException(p + ".shape[" + j + "]", "expected an integer >= -1, got " + d);
                }
                shape[j] = d.longValue();
            }
            out.add(new TensorMetadata(requiredString(t, "name", p),
                    DataType.fromWire(requiredString(t, "datatype", p), p + ".datatype"), shape));
        }
        return out;
    }

    static Parameters parameters(JsonNode node, String path) {
        if (node == null || node.isNull()) {
            return Parameters.EMPTY;
        }
        object(node, path);
        Map<String, Object> m = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = node.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            Object value;
            if (v.isTextual()) {
                value = v.textValue();
            } else if (v.isBoolean()) {
                value = v.booleanValue();
            } else if (v.isIntegralNumber() && v.canConvertToLong()) {
                value = v.longValue();
            } else if (v.isNumber() && Double.isFinite(v.doubleValue())) {
                value = v.doubleValue();
            } else {
                throw new ProtocolException(path + "." + e.getKey(), "must be a string, number or boolean, got "
                        + TensorJson.kind(v));
            }
            m.put(e.getKey(), value);
        }
        return new Parameters(m);
    }

    private static JsonNode object(JsonNode n, String path) {
        if (!n.isObject()) {
            throw new ProtocolException(path, "must be an object, got " + TensorJson.kind(n));
        }
        return n;
    }

    private static void array(JsonNode n, String path) {
        if (!n.isArray()) {
            throw new ProtocolException(path, "must be an array, got " + TensorJson.kind(n));
        }
    }

    private static String text(JsonNode n, String path) {
        if (!n.isTextual()) {
            throw new ProtocolException(path, "must be a string, got " + TensorJson.kind(n));
        }
        return n.textValue();
    }

    private static String requiredString(JsonNode obj, String field, String path) {
        JsonNode n = obj.get(field);
        String p = path + "." + field;
        if (n == null || n.isNull()) {
            throw new ProtocolException(p, "is required");
        }
        String s = text(n, p);
        if (s.isEmpty()) {
            throw new ProtocolException(p, "must not be empty");
        }
        return s;
    }

    private static Optional<String> optionalString(JsonNode obj, String field, String path) {
        JsonNode n = obj.get(field);
        return n == null || n.isNull() ? Optional.empty() : Optional.of(text(n, path + "." + field));
    }

    /** The binary tail of a body: consumed in tensor order, and it must be consumed exactly. */
    static final class Tail {
        private final byte[] body;
        private final boolean present;
        private int pos;

        Tail(byte[] body, OptionalInt headerLength) {
            this.body = body;
            this.present = headerLength.isPresent();
            this.pos = headerLength.orElse(body.length);
        }

        TensorData read(DataType type, long[] shape, long count, long size, String path) {
            String p = path + ".parameters." + Parameters.BINARY_DATA_SIZE;
            if (!present) {
                throw new ProtocolException(p, "needs a binary body with the " + HEADER_CONTENT_LENGTH + " header");
            }
            if (size > body.length - pos) {
                throw new ProtocolException(p, size + " bytes declared but only " + (body.length - pos)
                        + " bytes of binary data remain");
            }
            byte[] slice = java.util.Arrays.copyOfRange(body, pos, pos + (int) size);
            pos += (int) size;
            if (type != DataType.BYTES) {
                long expected = count * type.elementBytes();
                if (size != expected) {
                    throw new ProtocolException(p, "shape " + Shapes.format(shape) + " of " + type + " needs "
                            + expected + " bytes, got " + size);
                }
                return TensorData.ofRaw(type, shape, slice);
            }
            ByteBuffer b = ByteBuffer.wrap(slice).order(ByteOrder.LITTLE_ENDIAN);
            List<byte[]> elements = new ArrayList<>();
            while (b.hasRemaining()) {
                if (b.remaining() < 4) {
                    throw new ProtocolException(p, "BYTES element " + elements.size() + " has a truncated length prefix");
                }
                int n = b.getInt();
                if (n < 0 || n > b.remaining()) {
                    throw new ProtocolException(p, "BYTES element " + elements.size() + " declares " + Integer.toUnsignedString(n)
                            + " bytes but " + b.remaining() + " remain");
                }
                byte[] e = new byte[n];
                b.get(e);
                elements.add(e);
            }
            if (elements.size() != count) {
                throw new ProtocolException(p, "expected " + count + " BYTES elements for shape " + Shapes.format(shape)
                        + ", got " + elements.size());
            }
            return TensorData.ofByteStrings(shape, elements);
        }

        void requireConsumed() {
            if (pos != body.length) {
                throw new ProtocolException(HEADER_CONTENT_LENGTH, (body.length - pos)
                        + " bytes of binary data follow the header that no tensor's binary_data_size claims");
            }
        }
    }

    // ---------------------------------------------------------------- writing

    private interface Writer {
        void write(JsonGenerator g) throws IOException;
    }

    private byte[] write(Writer w) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = mapper().getFactory().createGenerator(out)) {
            w.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static Encoded join(byte[] json, ByteArrayOutputStream tail, boolean binary) {
        if (!binary) {
            return new Encoded(json, OptionalInt.empty());
        }
        byte[] body = new byte[json.length + tail.size()];
        System.arraycopy(json, 0, body, 0, json.length);
        System.arraycopy(tail.toByteArray(), 0, body, json.length, tail.size());
        return new Encoded(body, OptionalInt.of(json.length));
    }

    private static void writeTensor(JsonGenerator g, InferTensor t, boolean binary, ByteArrayOutputStream tail)
            throws IOException {
        g.writeStartObject();
        g.writeStringField("name", t.name());
        g.writeStringField("datatype", t.datatype().wire());
        g.writeArrayFieldStart("shape");
        for (long d : t.shape()) {
            g.writeNumber(d);
        }
        g.writeEndArray();
        Parameters p = t.parameters();
        if (binary) {
            byte[] bytes = t.datatype() == DataType.BYTES ? t.data().serialisedByteStrings() : t.data().toByteArray();
            p = p.with(Parameters.BINARY_DATA_SIZE, (long) bytes.length);
            tail.writeBytes(bytes);
        }
        writeParameters(g, p);
        if (!binary) {
            g.writeFieldName("data");
            TensorJson.write(g, t.data());
        }
        g.writeEndObject();
    }

    private static void writeParameters(JsonGenerator g, Parameters p) throws IOException {
        if (p.isEmpty()) {
            return;
        }
        g.writeObjectFieldStart("parameters");
        for (Map.Entry<String, Object> e : p.values().entrySet()) {
            switch (e.getValue()) {
                case String s -> g.writeStringField(e.getKey(), s);
                case Boolean b -> g.writeBooleanField(e.getKey(), b);
                case Long l -> g.writeNumberField(e.getKey(), l);
                case Double d -> g.writeNumberField(e.getKey(), d);
                default -> throw new IllegalStateException("unreachable: Parameters normalises values");
            }
        }
        g.writeEndObject();
    }

    private static void writeTensorMetadata(JsonGenerator g, String field, List<TensorMetadata> list) throws IOException {
        g.writeArrayFieldStart(field);
        for (TensorMetadata t : list) {
            g.writeStartObject();
            g.writeStringField("name", t.name());
            g.writeStringField("datatype", t.datatype().wire());
            g.writeArrayFieldStart("shape");
            for (long d : t.shape()) {
                g.writeNumber(d);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }
}
