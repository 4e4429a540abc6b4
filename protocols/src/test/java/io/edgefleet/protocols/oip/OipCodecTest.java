package io.edgefleet.protocols.oip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.ProtocolException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class OipCodecTest {
    private static final OipCodec CODEC = OipCodec.create();
    private static final long[] S23 = {2, 3};

    static Stream<TensorData> tensorsOfEveryType() {
        return Stream.of(
                TensorData.ofBooleans(S23, true, false, true, true, false, false),
                TensorData.ofUint8(S23, (byte) 0, (byte) 1, (byte) 127, (byte) 128, (byte) 200, (byte) 255),
                TensorData.ofInt8(S23, (byte) -128, (byte) -1, (byte) 0, (byte) 1, (byte) 100, (byte) 127),
                TensorData.ofRaw(DataType.UINT16, new long[] {2}, new byte[] {(byte) 0xff, (byte) 0xff, 1, 0}),
                TensorData.ofRaw(DataType.INT16, new long[] {2}, new byte[] {0, (byte) 0x80, 5, 0}),
                TensorData.ofRaw(DataType.UINT32, new long[] {1}, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}),
                TensorData.ofInts(S23, Integer.MIN_VALUE, -1, 0, 1, 42, Integer.MAX_VALUE),
                TensorData.ofLongs(new long[] {3}, Long.MIN_VALUE, 0, Long.MAX_VALUE),
                TensorData.ofRaw(DataType.UINT64, new long[] {2}, le(-1L, 7L)),
                TensorData.ofHalfFloats(S23, 0f, 1f, -2.5f, 65504f, 0.000061035156f, 0.333f),
                TensorData.ofRaw(DataType.BF16, new long[] {2}, new byte[] {(byte) 0x80, 0x3f, 0, (byte) 0xc0}),
                TensorData.ofFloats(S23, 0f, -1.5f, 3.4028235e38f, 1.4e-45f, 0.1f, 123456.78f),
                TensorData.ofDoubles(new long[] {3}, Math.PI, -0.0, 1e-300),
                TensorData.ofStrings(new long[] {3}, "yes", "", "naïve ✓"),
                TensorData.ofFloats(new long[] {0, 4}),
                TensorData.ofFloats(new long[] {}, 7.5f));
    }

    private static byte[] le(long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return b.array();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tensorsOfEveryType")
    void every_datatype_round_trips_as_json_and_as_binary_both_directions(TensorData data) {
        InferRequest request = new InferRequest(Optional.of("r1"), Parameters.of("priority", 2),
                List.of(new InferTensor("in", data, Parameters.of("content_type", "np"))),
                List.of(new RequestedOutput("out", Parameters.of(Parameters.BINARY_DATA, true))));
        for (boolean binary : new boolean[] {false, true}) {
            Encoded e = CODEC.encodeRequest(request, binary);
            assertThat(e.headerLength().isPresent()).isEqualTo(binary);
            assertThat(CODEC.decodeRequest(e.body(), e.headerLength())).isEqualTo(request);
        }
        InferResponse response = new InferResponse("m", Optional.of("3"), Optional.of("r1"),
                Parameters.of("edgefleet.computed_at", "edge"), List.of(new InferTensor("out", data)));
        for (boolean binary : new boolean[] {false, true}) {
            Encoded e = CODEC.encodeResponse(response, name -> binary);
            assertThat(e.contentType()).isEqualTo(binary ? "application/octet-stream" : "application/json");
            assertThat(CODEC.decodeResponse(e.body(), e.headerLength())).isEqualTo(response);
        }
    }

    @Test
    void json_writes_flat_row_major_data_and_non_finite_floats_as_strings() {
        InferResponse r = new InferResponse("m", Optional.empty(), Optional.empty(), Parameters.EMPTY,
                List.of(new InferTensor("o", TensorData.ofFloats(new long[] {2, 2}, 1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY))));
        String json = new String(CODEC.encodeResponse(r, n -> false).body(), StandardCharsets.UTF_8);
        assertThat(json).isEqualTo("{\"model_name\":\"m\",\"outputs\":[{\"name\":\"o\",\"datatype\":\"FP32\","
                + "\"shape\":[2,2],\"data\":[1.0,\"NaN\",\"Infinity\",\"-Infinity\"]}]}");
        TensorData back = CODEC.decodeResponse(json.getBytes(StandardCharsets.UTF_8), OptionalInt.empty()).outputs().get(0).data();
        assertThat(back.toFloatArray()).containsExactly(1f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
    }

    @Test
    void the_specs_own_request_example_is_refused_because_its_bool_input_is_short() throws IOException {
        assertThatThrownBy(() -> CODEC.decodeRequest(golden("kserve-v2-spec-request.json"), OptionalInt.empty()))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("$.inputs[1].data: expected 3 elements for shape [3], got 1");
    }

    @Test
    void the_specs_request_example_with_consistent_data_decodes_exactly() throws IOException {
        InferRequest r = CODEC.decodeRequest(golden("kserve-v2-spec-request-consistent.json"), OptionalInt.empty());
        assertThat(r.id()).contains("42");
        InferTensor in0 = r.inputs().get(0);
        assertThat(in0.name()).isEqualTo("input0");
        assertThat(in0.datatype()).isEqualTo(DataType.UINT32);
        assertThat(in0.shape()).containsExactly(2, 2);
        assertThat(in0.data().toDoubleArray()).containsExactly(1, 2, 3, 4);
        assertThat(r.inputs().get(1).data().toDoubleArray()).containsExactly(1, 0, 1);
        assertThat(r.outputs()).containsExactly(new RequestedOutput("output0"));
        assertThat(r.wantsBinary("output0")).isFalse();
    }

    @Test
    void the_specs_response_example_decodes_exactly() throws IOException {
        InferResponse r = CODEC.decodeResponse(golden("kserve-v2-spec-response.json"), OptionalInt.empty());
        assertThat(r.modelName()).isEqualTo("mymodel");
        assertThat(r.modelVersion()).isEmpty();
        assertThat(r.id()).contains("42");
        InferTensor o = r.outputs().get(0);
        assertThat(o.shape()).containsExactly(3, 2);
        assertThat(o.data().toFloatArray()).containsExactly(1.0f, 1.1f, 2.0f, 2.1f, 3.0f, 3.1f);
    }

    @Test
    void nested_tensor_data_of_the_spec_equals_its_flat_form() throws IOException {
        InferRequest r = CODEC.decodeRequest(golden("kserve-v2-spec-nested-data.json"), OptionalInt.empty());
        assertThat(r.inputs().get(0).data()).isEqualTo(TensorData.ofInts(new long[] {2, 2}, 1, 2, 4, 5));
    }

    @Test
    void model_metadata_with_dynamic_dims_decodes_and_round_trips() throws IOException {
        ModelMetadata m = CODEC.decodeModelMetadata(golden("kserve-v2-model-metadata.json"));
        assertThat(m.versions()).containsExactly("1", "2");
        assertThat(m.inputs().get(0).shape()).containsExactly(-1, 512);
        assertThat(m.inputs().get(0).accepts(new long[] {8, 512})).isTrue();
        assertThat(m.inputs().get(0).accepts(new long[] {8, 511})).isFalse();
        assertThat(CODEC.decodeModelMetadata(CODEC.encodeModelMetadata(m))).isEqualTo(m);
        ServerMetadata s = new ServerMetadata("edgefleet-agent", "0.1.0", List.of("binary_tensor_data"));
        assertThat(CODEC.decodeServerMetadata(CODEC.encodeServerMetadata(s))).isEqualTo(s);
        assertThat(CODEC.decodeError(CODEC.encodeError("model 'x' is unknown"))).isEqualTo("model 'x' is unknown");
    }

    @Test
    void a_triton_client_binary_request_decodes_with_its_tail() throws IOException {
        byte[] header = golden("triton-binary-request-header.json");
        ByteBuffer tail = ByteBuffer.allocate(16 + 13).order(ByteOrder.LITTLE_ENDIAN);
        tail.putFloat(1f).putFloat(2f).putFloat(3f).putFloat(4f);
        tail.putInt(2).put("hi".getBytes(StandardCharsets.US_ASCII)).putInt(3).put("abc".getBytes(StandardCharsets.US_ASCII));
        byte[] body = concat(header, tail.array());
        InferRequest r = CODEC.decodeRequest(body, OipCodec.parseHeaderLength(Integer.toString(header.length)));
        assertThat(r.inputs().get(0).data()).isEqualTo(TensorData.ofFloats(new long[] {2, 2}, 1, 2, 3, 4));
        assertThat(r.inputs().get(0).parameters().isEmpty()).isTrue();
        assertThat(r.inputs().get(1).data()).isEqualTo(TensorData.ofStrings(new long[] {2}, "hi", "abc"));
        assertThat(r.wantsBinary("output0")).isTrue();
        assertThat(r.wantsBinary("output1")).isFalse();
        assertThat(r.wantsBinary("output2")).isFalse();
    }

    @Test
    void request_level_binary_data_output_applies_unless_an_output_says_otherwise() {
        InferRequest r = new InferRequest(Optional.empty(), Parameters.of(Parameters.BINARY_DATA_OUTPUT, true),
                List.of(new InferTensor("in", TensorData.ofFloats(new long[] {1}, 1f))),
                List.of(new RequestedOutput("json", Parameters.of(Parameters.BINARY_DATA, false))));
        assertThat(r.wantsBinary("json")).isFalse();
        assertThat(r.wantsBinary("other")).isTrue();
    }

    static Stream<Arguments> malformedRequests() {
        String ok = "{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1,2]}";
        return Stream.of(
                Arguments.of("", "$", "request body is empty"),
                Arguments.of("[1,2]", "$", "must be an object, got an array"),
                Arguments.of("{\"inputs\":[" + ok + "]", "$", "malformed input at line 1"),
                Arguments.of("{}", "$.inputs", "is required"),
                Arguments.of("{\"inputs\":[]}", "$.inputs", "must hold at least one input"),
                Arguments.of("{\"inputs\":{}}", "$.inputs", "must be an array, got an object"),
                Arguments.of("{\"id\":42,\"inputs\":[" + ok + "]}", "$.id", "must be a string, got an integer"),
                Arguments.of("{\"inputs\":[{\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1,2]}]}",
                        "$.inputs[0].name", "is required"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"fp32\",\"data\":[1,2]}]}",
                        "$.inputs[0].datatype", "'fp32' is not a v2 datatype"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"data\":[1,2]}]}",
                        "$.inputs[0].shape", "is required"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[-2],\"datatype\":\"FP32\",\"data\":[1,2]}]}",
                        "$.inputs[0].shape[0]", "dimension must be >= 0, got -2"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[1.5],\"datatype\":\"FP32\",\"data\":[1,2]}]}",
                        "$.inputs[0].shape[0]", "expected an integer dimension, got a number"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[\"2\"],\"datatype\":\"FP32\",\"data\":[1,2]}]}",
                        "$.inputs[0].shape[0]", "expected an integer dimension, got a string"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[4000000000,4000000000],\"datatype\":\"FP32\",\"data\":[]}]}",
                        "$.inputs[0].shape", "holds more than 16777216 elements"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[3],\"datatype\":\"FP32\",\"data\":[1,2]}]}",
                        "$.inputs[0].data", "expected 3 elements for shape [3], got 2"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\"}]}",
                        "$.inputs[0].data", "is required"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":\"AAAA\"}]}",
                        "$.inputs[0].data", "must be an array, got a string"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1,\"two\"]}]}",
                        "$.inputs[0].data[1]", "expected a number for FP32, got a string"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"INT8\",\"data\":[1,128]}]}",
                        "$.inputs[0].data[1]", "128 is out of range for INT8 [-128, 127]"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"UINT8\",\"data\":[-1]}]}",
                        "$.inputs[0].data[0]", "-1 is out of range for UINT8 [0, 255]"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"INT32\",\"data\":[1.5]}]}",
                        "$.inputs[0].data[0]", "expected an integer for INT32, got a number"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"UINT64\",\"data\":[18446744073709551616]}]}",
                        "$.inputs[0].data[0]", "18446744073709551616 is out of range for UINT64"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1e39]}]}",
                        "$.inputs[0].data[0]", "is out of range for FP32"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[NaN]}]}",
                        "$", "(send \"NaN\", \"Infinity\" or \"-Infinity\" as strings)"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1e400]}]}",
                        "$.inputs[0].data[0]", "a number beyond the range of FP32 (it would read as infinity)"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP64\",\"data\":[-1e400]}]}",
                        "$.inputs[0].data[0]", "a number beyond the range of FP64 (it would read as -infinity)"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"BOOL\",\"data\":[1]}]}",
                        "$.inputs[0].data[0]", "expected true or false for BOOL, got an integer"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[7]}]}",
                        "$.inputs[0].data[0]", "expected a string for BYTES, got an integer"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"INT32\",\"data\":[[1,2],[3]]}]}",
                        "$.inputs[0].data[1]", "has 1 entries where dimension 1 of shape [2,2] is 2"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"INT32\",\"data\":[[1,2],3]}]}",
                        "$.inputs[0].data[1]", "expected a nested array for dimension 1, got an integer"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[4],\"datatype\":\"INT32\",\"data\":[1,[2],3,4]}]}",
                        "$.inputs[0].data[1]", "mixes nested arrays and values"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1,2],\"parameters\":{\"p\":[1]}}]}",
                        "$.inputs[0].parameters.p", "must be a string, number or boolean, got an array"),
                Arguments.of("{\"inputs\":[" + ok + "," + ok + "]}", "$.inputs[1].name", "'x' appears twice"),
                Arguments.of("{\"inputs\":[" + ok + "],\"outputs\":[{\"parameters\":{}}]}", "$.outputs[0].name", "is required"),
                Arguments.of("{\"inputs\":[" + ok + "],\"inputs\":[]}", "$", "Duplicate field 'inputs'"),
                Arguments.of("{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":8}}]}",
                        "$.inputs[0].parameters.binary_data_size", "needs a binary body with the Inference-Header-Content-Length header"));
    }

    @ParameterizedTest(name = "{1}: {2}")
    @MethodSource("malformedRequests")
    void malformed_json_requests_get_the_exact_error(String body, String path, String reason) {
        assertThatThrownBy(() -> CODEC.decodeRequest(body.getBytes(StandardCharsets.UTF_8), OptionalInt.empty()))
                .isInstanceOf(ProtocolException.class)
                .satisfies(e -> {
                    ProtocolException pe = (ProtocolException) e;
                    assertThat(pe.path()).isEqualTo(path);
                    assertThat(pe.reason()).contains(reason);
                });
    }

    static Stream<Arguments> malformedBinaryRequests() {
        String h8 = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":8}}]}";
        String hBytes = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":9}}]}";
        String hBytes11 = hBytes.replace(":9}", ":11}");
        String hBoth = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2],\"datatype\":\"FP32\",\"data\":[1,2],\"parameters\":{\"binary_data_size\":8}}]}";
        return Stream.of(
                Arguments.of(h8, new byte[4], -1, "$.inputs[0].parameters.binary_data_size",
                        "8 bytes declared but only 4 bytes of binary data remain"),
                Arguments.of(h8, new byte[12], -1, "Inference-Header-Content-Length",
                        "4 bytes of binary data follow the header that no tensor's binary_data_size claims"),
                Arguments.of(h8.replace(":8}", ":4}"), new byte[4], -1, "$.inputs[0].parameters.binary_data_size",
                        "shape [2] of FP32 needs 8 bytes, got 4"),
                Arguments.of(h8.replace(":8}", ":-8}"), new byte[8], -1, "$.inputs[0].parameters.binary_data_size",
                        "must be a non-negative integer, got -8"),
                Arguments.of(hBoth, new byte[8], -1, "$.inputs[0].data",
                        "must be absent when binary_data_size is given"),
                Arguments.of(hBytes, new byte[] {2, 0, 0, 0, 'h', 'i', 9, 0, 0}, -1, "$.inputs[0].parameters.binary_data_size",
                        "BYTES element 1 has a truncated length prefix"),
                Arguments.of(hBytes11, new byte[] {2, 0, 0, 0, 'h', 'i', 9, 0, 0, 0, 0}, -1,
                        "$.inputs[0].parameters.binary_data_size", "BYTES element 1 declares 9 bytes but 1 remain"),
                Arguments.of(h8, new byte[8], 100_000, "Inference-Header-Content-Length", "is larger than the body"),
                Arguments.of(h8, new byte[8], 10, "$", "malformed input"));
    }

    /** headerLength -1 means "the JSON header's true length". */
    @ParameterizedTest(name = "{3}: {4}")
    @MethodSource("malformedBinaryRequests")
    void malformed_binary_requests_get_the_exact_error(String header, byte[] tail, int headerLength, String path, String reason) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] body = concat(h, tail);
        int finalLen = headerLength < 0 ? h.length : headerLength;
        assertThatThrownBy(() -> CODEC.decodeRequest(body, OptionalInt.of(finalLen)))
                .isInstanceOf(ProtocolException.class)
                .satisfies(e -> {
                    ProtocolException pe = (ProtocolException) e;
                    assertThat(pe.path()).isEqualTo(path);
                    assertThat(pe.reason()).contains(reason);
                });
    }

    @Test
    void header_length_values_are_checked() {
        assertThat(OipCodec.parseHeaderLength(null)).isEmpty();
        assertThat(OipCodec.parseHeaderLength(" 12 ")).hasValue(12);
        assertThatThrownBy(() -> OipCodec.parseHeaderLength("-1")).isInstanceOf(ProtocolException.class)
                .hasMessage("Inference-Header-Content-Length: '-1' is not a non-negative integer");
        assertThatThrownBy(() -> OipCodec.parseHeaderLength("12abc")).isInstanceOf(ProtocolException.class);
    }

    @Test
    void oversize_bodies_and_tensors_are_refused_by_the_configured_limits() {
        OipCodec small = OipCodec.create(DecodeLimits.DEFAULT.withMaxMessageBytes(64).withMaxTensorElements(4));
        String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[5],\"datatype\":\"INT8\",\"data\":[1,2,3,4,5]}]}";
        assertThatThrownBy(() -> small.decodeRequest(body.getBytes(StandardCharsets.UTF_8), OptionalInt.empty()))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("$: request body is " + body.length() + " bytes, over the limit of 64 bytes");
        OipCodec fewElements = OipCodec.create(DecodeLimits.DEFAULT.withMaxTensorElements(4));
        assertThatThrownBy(() -> fewElements.decodeRequest(body.getBytes(StandardCharsets.UTF_8), OptionalInt.empty()))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("$.inputs[0].shape: shape [5] holds more than 4 elements");
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    static byte[] golden(String name) throws IOException {
        try (InputStream in = OipCodecTest.class.getResourceAsStream("/oip/" + name)) {
            assertThat(in).as("golden file %s", name).isNotNull();
            return in.readAllBytes();
        }
    }
}
