package io.edgefleet.agent.coap;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import com.fasterxml.jackson.dataformat.cbor.CBORParser;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.Json;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.Encoded;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.oip.Parameters;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Predicate;

/**
 * The v2 inference request and response in CBOR (RFC 8949, CoAP content format 60,
 * {@code application/cbor}): the JSON body's maps, arrays and names, where a tensor's {@code data}
 * may also be a byte string of its elements in little-endian order, bare or tagged as an RFC 8746
 * typed array of the tensor's datatype (FP32: tag 85, FP64: 86, FP16: 84, INT8: 72, INT16: 77,
 * INT32: 78, INT64: 79, UINT8: 64, UINT16: 69, UINT32: 70, UINT64: 71; BOOL: one byte per element,
 * untagged). Big-endian typed arrays and tags that do not match the datatype are refused.
 *
 * <p>Decoding hands the shared {@link OipCodec} the same request it validates for HTTP: a byte
 * string becomes a tensor of the binary tensor extension ({@code binary_data_size} and a tail), the
 * rest the JSON it would have been; so every check and message is the codec's. A response carries
 * byte strings (tagged typed arrays) for the outputs {@code binaryOutput} names, numbers otherwise.
 *
 * <p>Errors: {@link ProtocolException} naming the path ({@code $: malformed input ...} for CBOR that
 * does not parse). Thread-safe and stateless.
 */
final class CborInference {
    private static final Map<DataType, Integer> TAGS = Map.ofEntries(Map.entry(DataType.FP32, 85), Map.entry(DataType.FP64, 86),
            Map.entry(DataType.FP16, 84), Map.entry(DataType.INT8, 72), Map.entry(DataType.INT16, 77), Map.entry(DataType.INT32, 78),
            Map.entry(DataType.INT64, 79), Map.entry(DataType.UINT8, 64), Map.entry(DataType.UINT16, 69), Map.entry(DataType.UINT32, 70),
            Map.entry(DataType.UINT64, 71));

    private final OipCodec oip;
    private final ObjectMapper cbor;
    private final ObjectMapper json;
    /** Reads one value where the parser stands; the values after it are the caller's. */
    private final com.fasterxml.jackson.databind.ObjectReader value;

    CborInference(OipCodec oip, DecodeLimits limits) {
        this.oip = oip;
        this.cbor = Json.cborMapper(limits);
        this.json = Json.jsonMapper(limits);
        this.value = cbor.reader().without(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    /**
     * A decoded request.
     *
     * @param binary whether any input came as a byte string: its answer then carries byte strings too
     */
    record Decoded(InferRequest request, boolean binary) {
    }

    /** The RFC 8746 tag of a little-endian typed array of {@code type}; empty for BOOL and BYTES. */
    static OptionalInt tag(DataType type) {
        Integer t = TAGS.get(type);
        return t == null ? OptionalInt.empty() : OptionalInt.of(t);
    }

    /**
     * Decodes a CBOR request body.
     *
     * @throws ProtocolException for CBOR that does not parse, a typed-array tag that does not fit, or anything the
     *     shared codec refuses
     */
    Decoded decode(byte[] body) {
        ObjectNode root = json.createObjectNode();
        List<byte[]> tail = new ArrayList<>();
        try (CBORParser p = (CBORParser) cbor.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return new Decoded(oip.decodeRequest(json.writeValueAsBytes(cbor.readTree(body)), OptionalInt.empty()), false);
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (p.nextToken() == JsonToken.START_ARRAY && name.equals("inputs")) {
                    readInputs(p, root.putArray("inputs"), tail);
                } else {
                    root.set(name, value.readTree(p));
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT) {
                throw new ProtocolException("$", "malformed input: the CBOR map does not end");
            }
            if (p.nextToken() != null) {
                throw new ProtocolException("$", "malformed input: data after the CBOR map (a request is one map)");
            }
        } catch (JacksonException e) {
            throw Json.translate(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            byte[] header = json.writeValueAsBytes(root);
            if (tail.isEmpty()) {
                return new Decoded(oip.decodeRequest(header, OptionalInt.empty()), false);
            }
            ByteArrayOutputStream joined = new ByteArrayOutputStream(header.length + tail.stream().mapToInt(b -> b.length).sum());
            joined.writeBytes(header);
            tail.forEach(joined::writeBytes);
            return new Decoded(oip.decodeRequest(joined.toByteArray(), OptionalInt.of(header.length)), true);
        } catch (JacksonException e) {
            throw Json.translate(e);
        }
    }

    private void readInputs(CBORParser p, ArrayNode inputs, List<byte[]> tail) throws IOException {
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() != JsonToken.START_OBJECT) {
                inputs.add((JsonNode) value.readTree(p)); // the codec names what is wrong with it
                continue;
            }
            String path = "$.inputs[" + inputs.size() + "]";
            ObjectNode input = inputs.addObject();
            int tag = -1;
            byte[] data = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                if (p.nextToken() == JsonToken.VALUE_EMBEDDED_OBJECT && field.equals("data")) {
                    tag = p.getCurrentTag();
                    data = p.getBinaryValue();
                } else {
                    input.set(field, value.readTree(p));
                }
            }
            if (data != null) {
                checkTag(input.get("datatype"), tag, path);
                JsonNode params = input.get("parameters");
                ObjectNode p2 = params instanceof ObjectNode o ? o : input.putObject("parameters");
                if (p2.has(Parameters.BINARY_DATA_SIZE)) {
                    throw new ProtocolException(path + ".parameters." + Parameters.BINARY_DATA_SIZE, "must be absent when data is a CBOR byte string");
                }
                p2.put(Parameters.BINARY_DATA_SIZE, data.length);
                tail.add(data);
            }
        }
    }

    private static void checkTag(JsonNode datatype, int tag, String path) {
        if (tag < 0 || datatype == null || !datatype.isTextual()) {
            return; // untagged: little-endian by the binary extension's rule; a missing datatype is the codec's to name
        }
        DataType type;
        try {
            type = DataType.fromWire(datatype.asText(), path + ".datatype");
        } catch (ProtocolException e) {
            return;
        }
        OptionalInt want = tag(type);
        if (want.isEmpty() || want.getAsInt() != tag) {
            throw new ProtocolException(path + ".data", "CBOR tag " + tag + " is not a little-endian typed array of " + type.wire()
                    + (want.isPresent() ? " (RFC 8746 tag " + want.getAsInt() + ", or an untagged byte string)" : " (send an untagged byte string)"));
        }
    }

    /**
     * Encodes a response; outputs {@code binaryOutput} names travel as byte strings (tagged typed arrays where RFC 8746
     * has a tag for their datatype), BYTES outputs always as arrays of strings.
     */
    byte[] encode(InferResponse response, Predicate<String> binaryOutput) {
        Map<String, DataType> types = new HashMap<>();
        for (InferTensor t : response.outputs()) {
            types.put(t.name(), t.datatype());
        }
        Encoded e = oip.encodeResponse(response, n -> binaryOutput.test(n) && types.get(n) != DataType.BYTES);
        try {
            if (e.headerLength().isEmpty()) {
                return cbor.writeValueAsBytes(json.readTree(e.body()));
            }
            int headerLength = e.headerLength().getAsInt();
            JsonNode header = json.readTree(e.body(), 0, headerLength);
            ByteArrayOutputStream out = new ByteArrayOutputStream(e.body().length + 64);
            try (CBORGenerator g = (CBORGenerator) cbor.createGenerator(out)) {
                int pos = headerLength;
                g.writeStartObject();
                for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext();) {
                    Map.Entry<String, JsonNode> f = it.next();
                    g.writeFieldName(f.getKey());
                    if (!f.getKey().equals("outputs")) {
                        g.writeTree(f.getValue());
                        continue;
                    }
                    g.writeStartArray();
                    for (JsonNode o : f.getValue()) {
                        pos = writeOutput(g, (ObjectNode) o, types, e.body(), pos);
                    }
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            return out.toByteArray();
        } catch (IOException x) {
            throw new UncheckedIOException(x);
        }
    }

    private static int writeOutput(CBORGenerator g, ObjectNode o, Map<String, DataType> types, byte[] body, int pos) throws IOException {
        JsonNode params = o.get("parameters");
        JsonNode size = params == null ? null : params.get(Parameters.BINARY_DATA_SIZE);
        g.writeStartObject();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("parameters") && size != null) {
                ObjectNode rest = ((ObjectNode) f.getValue()).deepCopy();
                rest.remove(Parameters.BINARY_DATA_SIZE);
                if (!rest.isEmpty()) {
                    g.writeFieldName("parameters");
                    g.writeTree(rest);
                }
                continue;
            }
            g.writeFieldName(f.getKey());
            g.writeTree(f.getValue());
        }
        if (size != null) {
            int n = size.asInt();
            g.writeFieldName("data");
            OptionalInt tag = tag(types.get(o.get("name").asText()));
            if (tag.isPresent()) {
                g.writeTag(tag.getAsInt());
            }
            g.writeBinary(body, pos, n);
            pos += n;
        }
        g.writeEndObject();
        return pos;
    }
}
