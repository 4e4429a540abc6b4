package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.manifest.Accelerator;
import io.edgefleet.protocols.manifest.ChunkRef;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.ManifestVariant;
import io.edgefleet.protocols.manifest.Precision;
import io.edgefleet.protocols.manifest.Quantization;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.DataType;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/** One fully populated instance of every wire message, for round trips and fuzzing seeds. */
public final class Samples {
    public static final Instant T0 = Instant.parse("2026-11-29T08:00:00Z");

    private Samples() {
    }

    public static DeviceState state() {
        return new DeviceState("plant-7", "cam-0042", true, "0.1.0", "raspberry-pi-4-4gb", T0, List.of(
                new ModelState("kws", Optional.of("3"), Optional.of("4"), Optional.of("2"), ModelHealth.HEALTHY),
                new ModelState("vad", Optional.empty(), Optional.empty(), Optional.empty(), ModelHealth.UNKNOWN))).withRuntimes(List.of(
                new RuntimeReport("onnxruntime", true, Optional.of("1.23.2"), "native library loaded"),
                new RuntimeReport("tflite", false, Optional.empty(), "no TensorFlow Lite JNI library is bundled for linux/aarch64")));
    }

    public static TelemetryBatch telemetry() {
        TelemetryRecord r = new TelemetryRecord("kws", "3", T0, T0.plusSeconds(60), 1200, 3,
                new LatencyPercentiles(2.5, 7.0, 11.25, 30.0), OptionalDouble.of(0.91), 40, 0, 12,
                Map.of("input_1", new InputStats(-12.5, 30.1, -128, 127)), Optional.empty(),
                Map.of("invalid-input", 150L, "unknown-model", 2L));
        return new TelemetryBatch("plant-7", "cam-0042", 17, T0.plusSeconds(61), List.of(r));
    }

    public static Command deploy() {
        return new Command(Command.SCHEMA_VERSION, "cmd-0001", CommandType.DEPLOY, Optional.of("ro-42"), "kws",
                Optional.of("4"), Map.of(), true, T0, Optional.of(T0.plusSeconds(3600)));
    }

    public static Command configure() {
        return Command.configure("cmd-0002", "kws", Map.of("escalation.threshold", "0.6"), T0);
    }

    public static CommandAck ack() {
        return new CommandAck(CommandAck.SCHEMA_VERSION, "cmd-0001", Optional.of("ro-42"), "cam-0042",
                AckPhase.DOWNLOADING, OptionalDouble.of(0.25), Optional.empty(), T0);
    }

    public static CommandAck failedAck() {
        return CommandAck.failed(deploy(), "cam-0042", new AckError("signature-invalid",
                "manifest kws/4 signature does not verify with key 'k1'"), T0);
    }

    public static Manifest manifest() {
        String h1 = "a".repeat(64);
        String h2 = "b".repeat(64);
        ManifestVariant tflite = new ManifestVariant("tflite-int8", "tflite", Optional.of("2.6"), Precision.INT8,
                Optional.empty(), List.of("raspberry-pi-4-4gb"),
                List.of(new TensorSpec("input_1", DataType.INT8, List.of(1L, 1960L), Optional.of(new Quantization(0.1017, -128)))),
                List.of(new TensorSpec("Identity", DataType.INT8, List.of(1L, 4L), Optional.of(new Quantization(0.0039, -128)))),
                70_000, "c".repeat(64), List.of(new ChunkRef(h1, 65_536), new ChunkRef(h2, 4_464)));
        ManifestVariant onnx = new ManifestVariant("onnx-fp16", "onnxruntime", Optional.empty(), Precision.FP16,
                Optional.of(Accelerator.CUDA_GPU), List.of(),
                List.of(new TensorSpec("input", DataType.FP32, List.of(-1L, 512L), Optional.empty())),
                List.of(new TensorSpec("output", DataType.FP32, List.of(-1L, 1L), Optional.empty())),
                10, "d".repeat(64), List.of(new ChunkRef(h1, 10)));
        return new Manifest(Manifest.SCHEMA_VERSION, "kws", "4", T0, "k1", Optional.empty(), List.of(tflite, onnx),
                Optional.of("c2lnbmF0dXJl"));
    }
}
