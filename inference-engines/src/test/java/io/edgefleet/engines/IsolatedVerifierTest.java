package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.engines.isolation.IsolatedVerifier;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.engines.isolation.IsolationOptions.Fault;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * First loads happen in a child JVM: whatever the runtime does with a file there, a crash, a hang
 * or running out of memory, this JVM gets a clear error and keeps running.
 */
class IsolatedVerifierTest {
    @TempDir
    Path dir;

    private static final IsolationOptions FAST = IsolationOptions.defaults().withMaxHeapMb(128);

    @Test
    void a_good_model_is_inspected_in_the_child() {
        Path file = SyntheticModels.classifierTflite(dir);
        ModelInspection i = IsolatedVerifier.verify(file, FAST);
        assertThat(i).isEqualTo(Engines.inspectInProcess(file));
        assertThat(i.inputs().get(0).datatype()).isEqualTo(DataType.FP32);
        Path onnx = SyntheticModels.classifierOnnx(dir);
        assertThat(IsolatedVerifier.verify(onnx, FAST).runtime()).isEqualTo("onnxruntime");
    }

    @Test
    void a_native_crash_in_the_child_is_reported_with_its_signal_and_we_keep_running() {
        Path file = SyntheticModels.classifierOnnx(dir);
        assertThatThrownBy(() -> IsolatedVerifier.verify(file, FAST.withFault(Fault.CRASH)))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageStartingWith("model file " + file + ": the runtime crashed the verifier JVM with SIGSEGV");
        // this JVM is alive and still verifies
        assertThat(IsolatedVerifier.verify(file, FAST).runtime()).isEqualTo("onnxruntime");
    }

    @Test
    void a_hang_is_killed_at_the_time_limit() {
        Path file = SyntheticModels.classifierOnnx(dir);
        assertThatThrownBy(() -> IsolatedVerifier.verify(file, FAST.withTimeout(Duration.ofSeconds(3)).withFault(Fault.HANG)))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("model file " + file + ": loading did not finish within 3 s (the runtime hung); the verifier JVM was killed");
    }

    @Test
    void running_out_of_memory_is_reported_with_the_limit() {
        Path file = SyntheticModels.classifierOnnx(dir);
        assertThatThrownBy(() -> IsolatedVerifier.verify(file, FAST.withMaxHeapMb(32).withFault(Fault.OOM)))
                .isInstanceOf(ModelLoadException.class)
                .hasMessage("model file " + file + ": loading ran out of memory in the verifier JVM (-Xmx32m)");
    }

    @Test
    void empty_truncated_and_random_files_get_precise_refusals() throws IOException {
        Path empty = Files.write(dir.resolve("empty.tflite"), new byte[0]);
        assertThatThrownBy(() -> IsolatedVerifier.verify(empty, FAST)).isInstanceOf(ModelLoadException.class)
                .hasMessage("model file " + empty + ": is empty");

        byte[] tflite = Files.readAllBytes(SyntheticModels.classifierTflite(dir));
        Path truncated = Files.write(dir.resolve("truncated.tflite"), Arrays.copyOf(tflite, tflite.length / 2));
        assertThatThrownBy(() -> IsolatedVerifier.verify(truncated, FAST)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("model file " + truncated + ": ")
                .satisfies(e -> assertThat(((ModelLoadException) e).reason()).isNotBlank().doesNotContain("Exception"));

        byte[] onnx = Files.readAllBytes(SyntheticModels.classifierOnnx(dir));
        Path truncatedOnnx = Files.write(dir.resolve("truncated.onnx"), Arrays.copyOf(onnx, onnx.length - 17));
        assertThatThrownBy(() -> IsolatedVerifier.verify(truncatedOnnx, FAST)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("Protobuf parsing failed");

        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        Path random = Files.write(dir.resolve("random.onnx"), noise);
        assertThatThrownBy(() -> IsolatedVerifier.verify(random, FAST)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("model file " + random + ": ");

        Path randomUnknown = Files.write(dir.resolve("random.bin"), noise);
        assertThatThrownBy(() -> IsolatedVerifier.verify(randomUnknown, FAST)).isInstanceOf(ModelLoadException.class)
                .hasMessage("model file " + randomUnknown + ": is neither a TensorFlow Lite flatbuffer (no TFL3 identifier) "
                        + "nor an ONNX model (.onnx)");

        Path missing = dir.resolve("missing.onnx");
        assertThatThrownBy(() -> IsolatedVerifier.verify(missing, FAST)).isInstanceOf(ModelLoadException.class)
                .hasMessage("model file " + missing + ": does not exist or is not a file");
    }
}
