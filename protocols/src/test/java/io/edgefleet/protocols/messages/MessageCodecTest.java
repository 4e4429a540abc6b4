package io.edgefleet.protocols.messages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.Manifest;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class MessageCodecTest {
    private static final MessageCodec JSON = MessageCodec.json();
    private static final MessageCodec CBOR = MessageCodec.cbor();

    static Stream<Object> messages() {
        return Stream.of(Samples.state(), Samples.state().offline(), Samples.telemetry(), Samples.deploy(),
                Samples.configure(), Samples.ack(), Samples.failedAck(), Samples.manifest(),
                Samples.manifest().unsigned());
    }

    @ParameterizedTest
    @MethodSource("messages")
    void every_message_round_trips_through_json_and_cbor(Object message) {
        assertThat(JSON.decode(JSON.encode(message), message.getClass())).isEqualTo(message);
        assertThat(CBOR.decode(CBOR.encode(message), message.getClass())).isEqualTo(message);
    }

    @Test
    void every_message_carries_its_schema_version_and_wire_names() {
        String state = new String(JSON.encode(Samples.state()), StandardCharsets.UTF_8);
        assertThat(state).contains("\"schemaVersion\":1", "\"health\":\"healthy\"", "\"at\":\"2026-11-29T08:00:00Z\"");
        String ack = new String(JSON.encode(Samples.failedAck()), StandardCharsets.UTF_8);
        assertThat(ack).contains("\"schemaVersion\":1", "\"phase\":\"failed\"", "\"code\":\"signature-invalid\"")
                .doesNotContain("progress");
        String cmd = new String(JSON.encode(Samples.deploy()), StandardCharsets.UTF_8);
        assertThat(cmd).contains("\"type\":\"deploy\"", "\"rolloutId\":\"ro-42\"");
    }

    @Test
    void a_state_carries_its_runtime_reports_and_one_from_an_older_agent_has_none() {
        String state = new String(JSON.encode(Samples.state()), StandardCharsets.UTF_8);
        assertThat(state).contains("\"runtimes\":[{\"runtime\":\"onnxruntime\",\"loadable\":true,\"version\":\"1.23.2\"",
                "{\"runtime\":\"tflite\",\"loadable\":false,\"detail\":\"no TensorFlow Lite JNI library is bundled for linux/aarch64\"}");
        String older = state.substring(0, state.indexOf(",\"runtimes\":")) + "}";
        assertThat(JSON.decode(older.getBytes(StandardCharsets.UTF_8), DeviceState.class).runtimes()).isEmpty();
        String loadableWithoutVersion = state.replace("\"loadable\":false", "\"loadable\":true");
        assertThatThrownBy(() -> JSON.decode(loadableWithoutVersion.getBytes(StandardCharsets.UTF_8), DeviceState.class))
                .isInstanceOf(io.edgefleet.protocols.ProtocolException.class).hasMessageContaining("version");
    }

    @Test
    void unknown_fields_from_a_newer_minor_version_are_ignored() {
        String json = new String(JSON.encode(Samples.ack()), StandardCharsets.UTF_8)
                .replace("{\"schemaVersion\":1,", "{\"schemaVersion\":1,\"addedLater\":{\"x\":[1,2]},");
        assertThat(JSON.decode(json.getBytes(StandardCharsets.UTF_8), CommandAck.class)).isEqualTo(Samples.ack());
    }

    static Stream<Arguments> malformed() {
        String ack = new String(JSON.encode(Samples.ack()), StandardCharsets.UTF_8);
        String state = new String(JSON.encode(Samples.state()), StandardCharsets.UTF_8);
        String tel = new String(JSON.encode(Samples.telemetry()), StandardCharsets.UTF_8);
        String cmd = new String(JSON.encode(Samples.deploy()), StandardCharsets.UTF_8);
        String man = new String(JSON.encode(Samples.manifest()), StandardCharsets.UTF_8);
        return Stream.of(
                Arguments.of(CommandAck.class, "", "$", "message is empty"),
                Arguments.of(CommandAck.class, "null", "$", "message is null"),
                Arguments.of(CommandAck.class, "{\"schemaVersion\":1", "$", "malformed input"),
                Arguments.of(CommandAck.class, ack + "{}", "$", "Trailing token"),
                Arguments.of(CommandAck.class, ack.replace("\"schemaVersion\":1", "\"schemaVersion\":2"),
                        "$.schemaVersion", "cmd/ack schema version 2 is not supported (this build reads 1..1)"),
                Arguments.of(CommandAck.class, ack.replace("\"schemaVersion\":1", "\"schemaVersion\":\"1\""),
                        "$.schemaVersion", "Cannot coerce String value"),
                Arguments.of(CommandAck.class, ack.replace("\"schemaVersion\":1,", ""), "$.schemaVersion", "is required"),
                Arguments.of(CommandAck.class, ack.replace("\"phase\":\"downloading\"", "\"phase\":\"exploded\""),
                        "$.phase", "not one of the values accepted"),
                Arguments.of(CommandAck.class, ack.replace("\"progress\":0.25", "\"progress\":1.5"),
                        "$.progress", "must be between 0 and 1, got 1.5"),
                Arguments.of(CommandAck.class, ack.replace("\"phase\":\"downloading\"", "\"phase\":\"failed\""),
                        "$.error", "is required when the phase is failed"),
                Arguments.of(CommandAck.class, ack.replace("\"device\":\"cam-0042\"", "\"device\":\"cam/42\""),
                        "$.device", "'cam/42' is not a valid id"),
                Arguments.of(CommandAck.class, ack.replace("\"commandId\":\"cmd-0001\",", "\"commandId\":\"a\",\"commandId\":\"b\","),
                        "$", "Duplicate field 'commandId'"),
                Arguments.of(CommandAck.class, ack.replace("\"at\":\"2026-11-29T08:00:00Z\"", "\"at\":\"yesterday\""),
                        "$.at", "Cannot deserialize value of type Instant"),
                Arguments.of(DeviceState.class, state.replace("\"model\":\"vad\"", "\"model\":\"kws\""),
                        "$.models[1].model", "'kws' appears twice"),
                Arguments.of(DeviceState.class, state.replace("\"candidate\":\"4\"", "\"candidate\":\"3\""),
                        "$.models[0].candidate", "'3' is already the active version"),
                Arguments.of(DeviceState.class, state.replace("\"online\":true", "\"online\":\"yes\""),
                        "$.online", "Cannot coerce String value"),
                Arguments.of(DeviceState.class, state.replace("\"models\":[", "\"models\":[null,"),
                        "$.models[0]", "must not be null"),
                Arguments.of(TelemetryBatch.class, tel.replace("\"sequence\":17", "\"sequence\":-1"),
                        "$.sequence", "must be >= 0, got -1"),
                Arguments.of(TelemetryBatch.class, tel.replace("\"sequence\":17", "\"sequence\":17.5"),
                        "$.sequence", "Cannot coerce Floating-point value"),
                Arguments.of(TelemetryBatch.class, tel.replace("\"errors\":3", "\"errors\":3000"),
                        "$.records[0].errors", "3000 is more than the window's count of 1200"),
                Arguments.of(TelemetryBatch.class, tel.replace("\"p95\":7.0", "\"p95\":1.0"),
                        "$.records[0].latencyMillis.p50", "percentiles must not decrease"),
                Arguments.of(TelemetryBatch.class, tel.replace("\"invalid-input\":150", "\"Invalid Input\":150"),
                        "$.records[0].clientErrors", "'Invalid Input' is not a client error kind"),
                Arguments.of(TelemetryBatch.class, tel.replace("\"invalid-input\":150", "\"invalid-input\":-1"),
                        "$.records[0].clientErrors.invalid-input", "must be >= 0, got -1"),
                Arguments.of(TelemetryBatch.class, tel.replace("\"invalid-input\":150", "\"invalid-input\":1196"),
                        "$.records[0].clientErrors", "1198 client errors and 3 model errors are more than the window's count of 1200"),
                Arguments.of(TelemetryBatch.class, tel.replace("\"invalid-input\":150", "\"invalid-input\":null"),
                        "$.records[0].clientErrors.invalid-input", "must not be null"),
                Arguments.of(TelemetryBatch.class, tel.replace("\"count\":1200", "\"count\":9223372036854775806"),
                        "$.records[0].count", "is more than the 1099511627776 a window may count"),
                Arguments.of(TelemetryBatch.class, tel.replace("\"windowStart\":\"2026", "\"windowStart\":\"1970"),
                        "$.records[0].windowEnd", "is longer than 24 hours"),
                Arguments.of(TelemetryBatch.class, tel.replaceAll("\"records\":\\[.*\\]", "\"records\":[]"),
                        "$.records", "must not be empty"),
                Arguments.of(Command.class, cmd.replace("\"version\":\"4\",", ""),
                        "$.version", "is required for deploy"),
                Arguments.of(Command.class, cmd.replace("\"type\":\"deploy\"", "\"type\":\"configure\""),
                        "$.settings", "must name at least one setting for configure"),
                Arguments.of(Manifest.class, man.replace("\"sizeBytes\":70000", "\"sizeBytes\":69999"),
                        "$.variants[0].sizeBytes", "69999 differs from the 70000 bytes of its chunks"),
                Arguments.of(Manifest.class, man.replace("\"sha256\":\"" + "a".repeat(64), "\"sha256\":\"" + "A".repeat(64)),
                        "$.variants[0].chunks[0].sha256", "is not a SHA-256"),
                Arguments.of(Manifest.class, man.replace("\"precision\":\"int8\"", "\"precision\":\"int4\""),
                        "$.variants[0].precision", "'int4' is not one of int8, uint8, fp16, bf16, fp32"),
                Arguments.of(Manifest.class, man.replace("\"datatype\":\"INT8\"", "\"datatype\":\"FLOAT\""),
                        "$.variants[0].inputs[0].datatype", "'FLOAT' is not a v2 datatype"),
                Arguments.of(Manifest.class, man.replace("\"id\":\"onnx-fp16\"", "\"id\":\"tflite-int8\""),
                        "$.variants[1].id", "'tflite-int8' appears twice"));
    }

    @ParameterizedTest(name = "{0} {2}: {3}")
    @MethodSource("malformed")
    void malformed_messages_get_an_error_naming_path_and_rule(Class<?> type, String json, String path, String reason) {
        assertThatThrownBy(() -> JSON.decode(json.getBytes(StandardCharsets.UTF_8), type))
                .isInstanceOf(ProtocolException.class)
                .satisfies(e -> {
                    ProtocolException pe = (ProtocolException) e;
                    assertThat(pe.path()).isEqualTo(path);
                    assertThat(pe.reason()).contains(reason).doesNotContain("com.fasterxml").doesNotContain("io.edgefleet");
                });
    }

    @Test
    void client_errors_travel_by_kind_and_an_older_agents_record_without_them_decodes() {
        String tel = new String(JSON.encode(Samples.telemetry()), StandardCharsets.UTF_8);
        assertThat(tel).contains("\"clientErrors\":{", "\"invalid-input\":150", "\"unknown-model\":2");
        TelemetryRecord decoded = JSON.decode(tel.getBytes(StandardCharsets.UTF_8), TelemetryBatch.class).records().get(0);
        assertThat(decoded.clientErrorCount()).isEqualTo(152);
        assertThat(decoded.validRequests()).isEqualTo(1200 - 152);

        String old = tel.replaceAll(",?\"clientErrors\":\\{[^}]*\\}", "");
        assertThat(old).doesNotContain("clientErrors");
        TelemetryRecord legacy = JSON.decode(old.getBytes(StandardCharsets.UTF_8), TelemetryBatch.class).records().get(0);
        assertThat(legacy.clientErrors()).isEmpty();
        assertThat(legacy.validRequests()).isEqualTo(1200);
        // a record without client errors leaves the field out, so an older control plane reads the same bytes as before
        String none = new String(JSON.encode(new TelemetryBatch("f", "d", 1, legacy.windowEnd(), java.util.List.of(legacy))),
                StandardCharsets.UTF_8);
        assertThat(none).doesNotContain("clientErrors");
    }

    @Test
    void oversize_messages_are_refused_before_parsing() {
        MessageCodec small = MessageCodec.json(DecodeLimits.DEFAULT.withMaxMessageBytes(100));
        byte[] big = JSON.encode(Samples.manifest());
        assertThatThrownBy(() -> small.decode(big, Manifest.class))
                .isInstanceOf(ProtocolException.class)
                .hasMessage("$: message is " + big.length + " bytes, over the limit of 100 bytes");
    }

    @Test
    void deep_nesting_is_refused() {
        String deep = "{\"x\":" + "[".repeat(500) + "]".repeat(500) + "}";
        assertThatThrownBy(() -> JSON.decode(deep.getBytes(StandardCharsets.UTF_8), CommandAck.class))
                .isInstanceOf(ProtocolException.class)
                .hasMessageContaining("nesting depth");
    }

    @Test
    void canonical_manifest_bytes_are_sorted_unsigned_and_stable() {
        Manifest m = Samples.manifest();
        byte[] a = JSON.canonicalBytes(m);
        byte[] b = JSON.canonicalBytes(JSON.decode(JSON.encode(m), Manifest.class).withSignature("other"));
        assertThat(a).isEqualTo(b);
        String s = new String(a, StandardCharsets.UTF_8);
        assertThat(s).doesNotContain("signature").startsWith("{\"createdAt\":");
        assertThat(s.indexOf("\"keyId\"")).isLessThan(s.indexOf("\"model\""));
    }
}
