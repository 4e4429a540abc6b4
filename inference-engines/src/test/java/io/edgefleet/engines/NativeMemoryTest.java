package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * close() gives native memory back: loading, running and closing a model 200 times must not grow
 * the process's resident memory by more than a small bound once the allocators have warmed up.
 */
@EnabledOnOs(OS.LINUX)
class NativeMemoryTest {
    /**
     * The model holds 4 MiB of weights, which each runtime copies or packs into its own memory per
     * session: leaking one session per cycle would grow RSS by ~800 MiB over 200 cycles. Allocator
     * caches and JIT code may still grow a little.
     */
    private static final long BOUND_BYTES = 64L << 20;

    @TempDir
    static Path dir;

    static Stream<Arguments> engines() {
        return Stream.of(
                Arguments.of("onnxruntime", (Function<Path, Path>) d -> SyntheticModels.denseOnnx(d, 1024)),
                Arguments.of("tflite", (Function<Path, Path>) d -> SyntheticModels.denseTflite(d, 1024)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void loading_and_closing_200_times_does_not_grow_resident_memory(String runtime, Function<Path, Path> writer) throws IOException {
        Path file = writer.apply(dir);
        InferenceEngine engine = Engines.forFile(file);
        EngineOptions options = EngineOptions.defaults().withPoolSize(1);
        cycles(engine, file, options, 30); // warm the allocators, the JIT and the class caches
        System.gc();
        long before = rss();
        cycles(engine, file, options, 200);
        System.gc();
        long after = rss();
        assertThat(after - before).as("RSS growth over 200 load/infer/close cycles of %s (before %d MiB, after %d MiB)",
                runtime, before >> 20, after >> 20).isLessThan(BOUND_BYTES);
    }

    private static void cycles(InferenceEngine engine, Path file, EngineOptions options, int n) {
        for (int i = 0; i < n; i++) {
            try (LoadedModel m = engine.load(file, options)) {
                m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 1024}, new float[1024]))));
            }
        }
    }

    private static long rss() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
