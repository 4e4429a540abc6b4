package io.edgefleet.protocols.oip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.Json;
import io.edgefleet.protocols.ProtocolException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.StringJoiner;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The streaming fast path of {@link OipCodec#decodeRequest} against the tree decoder, the
 * reference: every valid body is taken by the fast path and decodes to an equal request; every
 * invalid one is left to the tree decoder, so the problem messages stay exactly its own.
 */
class StreamingRequestDecoderTest {
    private static final OipCodec CODEC = OipCodec.create();
    private static final StreamingRequestDecoder FAST = new StreamingRequestDecoder(DecodeLimits.DEFAULT,
            Json.jsonMapper(DecodeLimits.DEFAULT));

    private static String tensor(String name, String datatype, String shape, String data) {
        return "{\"name\":\"" + name + "\",\"shape\":" + shape + ",\"datatype\":\"" + datatype + "\",\"data\":" + data + "}";
    }

    private static String request(String... tensors) {
        return "{\"inputs\":[" + String.join(",", tensors) + "]}";
    }

    static Stream<String> validBodies() {
        return Stream.of(
                request(tensor("x", "FP32", "[4]", "[1,2.5,-3,4e2]")),
                // data before shape and datatype, name last: read as a tree, converted after
                "{\"inputs\":[{\"data\":[1,2,3,4],\"shape\":[2,2],\"datatype\":\"FP32\",\"name\":\"x\"}]}",
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT32\",\"data\":[[1,2],[3,4]],\"shape\":[2,2]}]}",
                "{\"inputs\":[{\"shape\":[2],\"data\":[1,2],\"name\":\"x\",\"datatype\":\"FP32\"}]}",
                // nested as the shape, two and three levels
                request(tensor("x", "FP32", "[2,2]", "[[1,2],[3,4]]")),
                request(tensor("x", "INT64", "[2,1,3]", "[[[1,2,3]],[[4,5,6]]]")),
                // the numbers a hand-written parser gets wrong
                request(tensor("x", "FP32", "[12]", "[1e-45,1.4e-45,-0,-0.0,0.0,3.4028235e38,-3.4028235e38,1.17549435E-38,"
                        + "0.1,16777217,100000000000000000000,123456.789e-3]")),
                request(tensor("x", "FP32", "[3]", "[\"NaN\",\"Infinity\",\"-Infinity\"]")),
                request(tensor("x", "FP64", "[6]", "[4.9e-324,1.7976931348623157e308,-0.0,0.1,9007199254740993,\"NaN\"]")),
                request(tensor("x", "FP16", "[5]", "[65504,1e-8,-2.5,0.333,\"-Infinity\"]")),
                request(tensor("x", "BF16", "[3]", "[1,-2,3.0e38]")),
                request(tensor("x", "INT8", "[3]", "[-128,0,127]"), tensor("y", "UINT8", "[2]", "[0,255]")),
                request(tensor("x", "INT16", "[2]", "[-32768,32767]"), tensor("y", "UINT16", "[2]", "[0,65535]")),
                request(tensor("x", "INT32", "[2]", "[-2147483648,2147483647]"), tensor("y", "UINT32", "[2]", "[0,4294967295]")),
                request(tensor("x", "INT64", "[2]", "[-9223372036854775808,9223372036854775807]")),
                request(tensor("x", "BOOL", "[3]", "[true,false,true]")),
                request(tensor("x", "UINT64", "[2]", "[0,18446744073709551615]")),
                request(tensor("x", "BYTES", "[2]", "[\"a\",\"naïve ✓\"]")),
                request(tensor("x", "FP32", "[0,4]", "[]")),
                request(tensor("x", "FP32", "[]", "[7.5]")),
                // everything around the tensors
                "{\"id\":\"r-1\",\"parameters\":{\"priority\":2,\"deep\":false,\"w\":0.5},\"inputs\":["
                        + tensor("x", "FP32", "[1]", "[1]").replace("}", ",\"parameters\":{\"content_type\":\"np\"}}")
                        + "],\"outputs\":[{\"name\":\"o\",\"parameters\":{\"binary_data\":true}}],\"unknown\":{\"a\":[1,{\"b\":2}]}}",
                "{\"id\":null,\"parameters\":null,\"outputs\":null,\"inputs\":[" + tensor("x", "FP32", "[1]", "[1]") + "]}",
                " \n{ \"inputs\" : [ { \"name\" : \"x\" , \"shape\" : [ 2 ] , \"datatype\" : \"FP32\" , \"data\" : [ 1 , 2 ] } ] }\n ");
    }

    @ParameterizedTest
    @MethodSource("validBodies")
    void every_valid_body_takes_the_fast_path_and_decodes_as_the_tree_does(String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        InferRequest tree = CODEC.decodeRequestTree(b, OptionalInt.empty());
        InferRequest fast = FAST.decode(b, OptionalInt.empty());
        assertThat(fast).as("fast path of %s", body).isNotNull().isEqualTo(tree);
        assertThat(CODEC.decodeRequest(b, OptionalInt.empty())).isEqualTo(tree);
    }

    @Test
    void fp32_edge_numbers_land_as_their_float_values() {
        InferRequest r = FAST.decode(request(tensor("x", "FP32", "[7]", "[1e-45,-0,-0.0,3.4028235e38,16777217,7,0.1]"))
                .getBytes(StandardCharsets.UTF_8), OptionalInt.empty());
        float[] v = r.inputs().get(0).data().toFloatArray();
        assertThat(Float.floatToRawIntBits(v[0])).isEqualTo(1); // the smallest subnormal
        assertThat(Float.floatToRawIntBits(v[1])).isEqualTo(0); // integer -0 is 0, as the tree reads it
        assertThat(Float.floatToRawIntBits(v[2])).isEqualTo(0x80000000); // -0.0 keeps its sign
        assertThat(v[3]).isEqualTo(Float.MAX_VALUE);
        assertThat(v[4]).isEqualTo(16777216f);
        assertThat(v[5]).isEqualTo(7f);
        assertThat(v[6]).isEqualTo(0.1f);
    }

    @Test
    void a_large_array_decodes_exactly_and_binary_tensors_mix_with_json_ones() {
        Random rnd = new Random(19);
        float[] values = new float[200_000];
        StringJoiner j = new StringJoiner(",", "[", "]");
        for (int i = 0; i < values.length; i++) {
            values[i] = switch (i % 4) {
                case 0 -> rnd.nextFloat();
                case 1 -> (float) rnd.nextGaussian() * 1e30f;
                case 2 -> Float.intBitsToFloat(rnd.nextInt() & 0x7f7fffff);
                default -> rnd.nextInt(1000) - 500;
            };
            j.add(Float.toString(values[i]));
        }
        byte[] body = request(tensor("x", "FP32", "[400,500]", j.toString())).getBytes(StandardCharsets.UTF_8);
        InferRequest fast = FAST.decode(body, OptionalInt.empty());
        assertThat(fast).isNotNull();
        assertThat(fast.inputs().get(0).data()).isEqualTo(TensorData.ofFloats(new long[] {400, 500}, values));

        InferRequest mixed = new InferRequest(Optional.of("m"), Parameters.EMPTY, List.of(
                new InferTensor("a", TensorData.ofFloats(new long[] {2}, 1f, 2f)),
                new InferTensor("b", TensorData.ofInts(new long[] {3}, 1, 2, 3))), List.of());
        Encoded e = CODEC.encodeRequest(mixed, true);
        // a JSON tensor between two binary ones: the tail is consumed in tensor order
        String header = new String(e.body(), 0, e.headerLength().getAsInt(), StandardCharsets.UTF_8);
        String withJson = header.replace("\"inputs\":[", "\"inputs\":[" + tensor("j", "FP32", "[1]", "[5]") + ",");
        byte[] h = withJson.getBytes(StandardCharsets.UTF_8);
        byte[] b = OipCodecTest.concat(h, java.util.Arrays.copyOfRange(e.body(), e.headerLength().getAsInt(), e.body().length));
        InferRequest back = FAST.decode(b, OptionalInt.of(h.length));
        assertThat(back).isNotNull().isEqualTo(CODEC.decodeRequestTree(b, OptionalInt.of(h.length)));
        assertThat(back.inputs()).extracting(InferTensor::name).containsExactly("j", "a", "b");
    }

    static Stream<String> invalidBodies() {
        return Stream.concat(OipCodecTest.malformedRequests().map(a -> (String) a.get()[0]).filter(s -> !s.isEmpty()), Stream.of(
                // data before the shape, with problems the tree decoder must name
                "{\"inputs\":[{\"data\":[1,\"two\"],\"shape\":[2],\"datatype\":\"FP32\",\"name\":\"x\"}]}",
                "{\"inputs\":[{\"data\":[1,2,3],\"shape\":[2],\"datatype\":\"FP32\",\"name\":\"x\"}]}",
                // an element error before a count error: the count is the tree's first complaint
                request(tensor("x", "FP32", "[2]", "[1,\"two\",3]")),
                request(tensor("x", "FP32", "[3]", "[1,2]")),
                request(tensor("x", "FP32", "[1]", "[1e39]")),
                request(tensor("x", "FP32", "[1]", "[\"nan\"]")),
                request(tensor("x", "FP32", "[1]", "[NaN]")),
                request(tensor("x", "FP32", "[1]", "[null]")),
                request(tensor("x", "FP32", "[1]", "[{\"v\":1}]")),
                request(tensor("x", "FP32", "[1]", "[true]")),
                request(tensor("x", "INT32", "[1]", "[2147483648]")),
                request(tensor("x", "INT64", "[1]", "[9223372036854775808]")),
                request(tensor("x", "BOOL", "[1]", "[0]")),
                request(tensor("x", "FP32", "[2,2]", "[[1,2],[3,4],[5,6]]")),
                request(tensor("x", "FP32", "[2,2]", "[[1,2,3],[4]]")),
                request(tensor("x", "FP32", "[2,2]", "[[1,[2]],[3,4]]")),
                request(tensor("x", "FP32", "[4]", "[[1,2],[3,4]]")),
                request(tensor("x", "FP32", "[16777216]", "[1]")),
                request(tensor("x", "FP32", "[2]", "[1,2]")) + " trailing",
                request(tensor("x", "FP32", "[2]", "[1,2]")) + "{}",
                "{\"inputs\":[{\"name\":\"x\",\"name\":\"y\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
                "{\"inputs\":[{\"name\":\"\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1]}]}",
                "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":null}]}",
                "{\"inputs\":null}",
                "{\"id\":\"a\"}",
                "   "));
    }

    @ParameterizedTest
    @MethodSource("invalidBodies")
    void every_invalid_body_is_left_to_the_tree_decoder_and_gets_its_exact_message(String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        assertThat(FAST.decode(b, OptionalInt.empty())).as("fast path of %s", body).isNull();
        Throwable tree = catchThrowable(() -> CODEC.decodeRequestTree(b, OptionalInt.empty()));
        assertThat(tree).as("the tree decoder refuses %s", body).isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> CODEC.decodeRequest(b, OptionalInt.empty()))
                .isInstanceOf(ProtocolException.class).hasMessage(tree.getMessage());
    }

    /** Random edits of valid bodies: whatever the result, the codec answers exactly as the tree decoder does. */
    @Test
    void mutated_bodies_decode_or_fail_exactly_as_the_tree_decoder_says() {
        Random rnd = new Random(26);
        List<String> seeds = validBodies().toList();
        String alphabet = "[]{},:\"0123456789.-eE+ truefalsnNIy";
        int fastAccepted = 0;
        for (int i = 0; i < 5_000; i++) {
            StringBuilder s = new StringBuilder(seeds.get(rnd.nextInt(seeds.size())));
            for (int k = 1 + rnd.nextInt(3); k > 0 && s.length() > 1; k--) {
                int at = rnd.nextInt(s.length());
                switch (rnd.nextInt(3)) {
                    case 0 -> s.deleteCharAt(at);
                    case 1 -> s.insert(at, alphabet.charAt(rnd.nextInt(alphabet.length())));
                    default -> s.setCharAt(at, alphabet.charAt(rnd.nextInt(alphabet.length())));
                }
            }
            byte[] b = s.toString().getBytes(StandardCharsets.UTF_8);
            Object tree;
            try {
                tree = CODEC.decodeRequestTree(b, OptionalInt.empty());
            } catch (ProtocolException e) {
                tree = e.getMessage();
            }
            Object codec;
            try {
                codec = CODEC.decodeRequest(b, OptionalInt.empty());
            } catch (ProtocolException e) {
                codec = e.getMessage();
            }
            assertThat(codec).as("decoding %s", s).isEqualTo(tree);
            InferRequest fast = FAST.decode(b, OptionalInt.empty());
            if (fast != null) {
                assertThat(tree).as("the fast path accepted %s", s).isInstanceOf(InferRequest.class).isEqualTo(fast);
                fastAccepted++;
            }
        }
        assertThat(fastAccepted).as("some mutants stay valid and take the fast path").isPositive();
    }

    @Test
    void floats_are_written_with_the_digits_of_float_to_string() {
        Random rnd = new Random(7);
        float[] f = new float[1000];
        double[] d = new double[1000];
        for (int i = 0; i < f.length; i++) {
            f[i] = Float.intBitsToFloat(rnd.nextInt() & 0x7f7fffff) * (rnd.nextBoolean() ? 1 : -1);
            d[i] = Double.longBitsToDouble(rnd.nextLong() & 0x7fefffffffffffffL);
        }
        f[0] = -0.0f;
        f[1] = Float.MIN_VALUE;
        f[2] = Float.MAX_VALUE;
        StringJoiner fj = new StringJoiner(",", "[", "]");
        StringJoiner dj = new StringJoiner(",", "[", "]");
        for (int i = 0; i < f.length; i++) {
            fj.add(Float.toString(f[i]));
            dj.add(Double.toString(d[i]));
        }
        InferResponse r = new InferResponse("m", Optional.empty(), Optional.empty(), Parameters.EMPTY, List.of(
                new InferTensor("f", TensorData.ofFloats(new long[] {1000}, f)),
                new InferTensor("d", TensorData.ofDoubles(new long[] {1000}, d))));
        String json = new String(CODEC.encodeResponse(r, n -> false).body(), StandardCharsets.UTF_8);
        assertThat(json).contains("\"data\":" + fj + "}").contains("\"data\":" + dj + "}");
        assertThat(CODEC.decodeResponse(json.getBytes(StandardCharsets.UTF_8), OptionalInt.empty())).isEqualTo(r);
    }
}
