package io.edgefleet.protocols;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.Samples;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.oip.Encoded;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.oip.Parameters;
import io.edgefleet.protocols.oip.RequestedOutput;
import io.edgefleet.protocols.oip.TensorData;
import io.edgefleet.protocols.topics.Topic;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Property: for any byte string, every decoder either returns a complete object or throws
 * {@link ProtocolException}. Inputs are random bytes, random JSON-ish token soup, and random
 * mutations (flips, truncations, splices) of valid encodings, which reach far deeper into the
 * decoders than noise does. Seeded, so a failure names an input that reproduces.
 */
class DecodersNeverThrowAnythingElseTest {
    private static final int CASES = 4_000;
    private static final String[] TOKENS = {"{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "-1", "0",
        "1e999", "1.5", "18446744073709551616", "\"inputs\"", "\"shape\"", "\"data\"", "\"datatype\"", "\"FP32\"",
        "\"BYTES\"", "\"name\"", "\"parameters\"", "\"binary_data_size\"", "\"schemaVersion\"", "\"models\"", "\"clientErrors\"", "\"invalid-input\"", "\\u0000"};

    private final MessageCodec json = MessageCodec.json();
    private final MessageCodec cbor = MessageCodec.cbor();
    private final OipCodec oip = OipCodec.create();

    @Test
    void random_bytes_token_soup_and_mutations_only_ever_raise_protocol_exceptions() {
        Random rnd = new Random(20261129L);
        List<byte[]> seeds = seeds();
        int accepted = 0;
        for (int i = 0; i < CASES; i++) {
            byte[] input = switch (i % 3) {
                case 0 -> randomBytes(rnd);
                case 1 -> tokenSoup(rnd);
                default -> mutate(seeds.get(rnd.nextInt(seeds.size())), rnd);
            };
            accepted += feed(input, rnd.nextInt(input.length + 2) - 1);
        }
        // The mutations must keep some inputs valid, or the test would only exercise the parser's front door.
        assertThat(accepted).isGreaterThan(0);
    }

    private int feed(byte[] input, int headerLength) {
        int accepted = 0;
        List<Consumer<byte[]>> decoders = List.of(
                b -> json.decode(b, DeviceState.class),
                b -> json.decode(b, TelemetryBatch.class),
                b -> json.decode(b, Command.class),
                b -> json.decode(b, CommandAck.class),
                b -> json.decode(b, Manifest.class),
                b -> cbor.decode(b, DeviceState.class),
                b -> cbor.decode(b, Manifest.class),
                b -> oip.decodeRequest(b, OptionalInt.empty()),
                b -> oip.decodeRequest(b, headerLength < 0 ? OptionalInt.empty() : OptionalInt.of(headerLength)),
                b -> oip.decodeResponse(b, OptionalInt.empty()),
                b -> oip.decodeModelMetadata(b),
                b -> Topic.parse(new String(b, StandardCharsets.UTF_8)));
        for (Consumer<byte[]> d : decoders) {
            try {
                d.accept(input);
                accepted++;
            } catch (ProtocolException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            } catch (Throwable t) {
                fail("decoder threw " + t + " for input " + HexFormat.of().formatHex(input), t);
            }
        }
        return accepted;
    }

    private List<byte[]> seeds() {
        InferRequest req = new InferRequest(Optional.of("r"), Parameters.of("binary_data_output", true),
                List.of(new InferTensor("a", TensorData.ofFloats(new long[] {2, 2}, 1, 2, 3, 4)),
                        new InferTensor("b", TensorData.ofStrings(new long[] {2}, "x", "yz")),
                        new InferTensor("c", TensorData.ofInt8(new long[] {3}, (byte) 1, (byte) -2, (byte) 3))),
                List.of(new RequestedOutput("o")));
        Encoded bin = oip.encodeRequest(req, true);
        return List.of(json.encode(Samples.state()), json.encode(Samples.telemetry()), json.encode(Samples.deploy()),
                json.encode(Samples.failedAck()), json.encode(Samples.manifest()), cbor.encode(Samples.state()),
                cbor.encode(Samples.manifest()), oip.encodeRequest(req, false).body(), bin.body(),
                "ef/v1/f/d/infer/m".getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] randomBytes(Random rnd) {
        byte[] b = new byte[rnd.nextInt(200)];
        rnd.nextBytes(b);
        return b;
    }

    private static byte[] tokenSoup(Random rnd) {
        StringBuilder sb = new StringBuilder();
        int n = rnd.nextInt(60);
        for (int i = 0; i < n; i++) {
            sb.append(TOKENS[rnd.nextInt(TOKENS.length)]);
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] mutate(byte[] seed, Random rnd) {
        byte[] b = seed.clone();
        int edits = 1 + rnd.nextInt(3);
        for (int e = 0; e < edits && b.length > 0; e++) {
            int at = rnd.nextInt(b.length);
            switch (rnd.nextInt(4)) {
                case 0 -> b[at] = (byte) rnd.nextInt(256);
                case 1 -> b[at] = (byte) "0123456789-.,:{}[]\"".charAt(rnd.nextInt(19));
                case 2 -> b = java.util.Arrays.copyOf(b, at);
                default -> {
                    byte[] copy = new byte[b.length + 1];
                    System.arraycopy(b, 0, copy, 0, at);
                    copy[at] = (byte) rnd.nextInt(256);
                    System.arraycopy(b, at, copy, at + 1, b.length - at);
                    b = copy;
                }
            }
        }
        return b;
    }
}
