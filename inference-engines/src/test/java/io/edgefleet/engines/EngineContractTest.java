package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The same classifier on both runtimes: the contract every engine keeps. */
class EngineContractTest {
    @TempDir
    static Path dir;

    static Stream<Arguments> engines() {
        return Stream.of(
                Arguments.of("onnxruntime", (Function<Path, Path>) SyntheticModels::classifierOnnx),
                Arguments.of("tflite", (Function<Path, Path>) SyntheticModels::classifierTflite));
    }

    private static LoadedModel load(Function<Path, Path> writer, EngineOptions options) {
        Path file = writer.apply(dir);
        return Engines.forFile(file).load(file, options);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void outputs_match_the_values_computed_in_java_for_single_and_batched_inputs(String runtime, Function<Path, Path> writer) {
        try (LoadedModel m = load(writer, EngineOptions.defaults())) {
            float[][] rows = {{1, 2, 3, 4}, {-1, 0.5f, 0, 2}, {0, 0, 0, 0}};
            for (float[] row : rows) {
                List<InferTensor> out = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, row))));
                assertThat(out).hasSize(1);
                assertThat(out.get(0).name()).isEqualTo("probs");
                assertThat(out.get(0).shape()).containsExactly(1, 3);
                assertThat(out.get(0).data().toFloatArray()).containsExactly(SyntheticModels.classify(row), within(1e-5f));
            }
            float[] batch = new float[12];
            for (int r = 0; r < 3; r++) {
                System.arraycopy(rows[r], 0, batch, r * 4, 4);
            }
            TensorData out = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {3, 4}, batch)))).get(0).data();
            assertThat(out.shape()).containsExactly(3, 3);
            float[] all = out.toFloatArray();
            for (int r = 0; r < 3; r++) {
                assertThat(java.util.Arrays.copyOfRange(all, r * 3, r * 3 + 3))
                        .containsExactly(SyntheticModels.classify(rows[r]), within(1e-5f));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void inspection_reads_names_types_dynamic_dims_size_and_hash(String runtime, Function<Path, Path> writer) throws IOException {
        Path file = writer.apply(dir);
        ModelInspection i = Engines.inspectInProcess(file);
        assertThat(i.runtime()).isEqualTo(runtime);
        assertThat(i.runtimeVersion()).isEqualTo(runtime.equals("tflite") ? "2.6.2" : "1.23.2");
        assertThat(i.sizeBytes()).isEqualTo(Files.size(file));
        assertThat(i.sha256()).hasSize(64).isEqualTo(ModelFiles.sha256(file));
        assertThat(i.inputs()).containsExactly(new TensorSpec("x", DataType.FP32, List.of(-1L, 4L), Optional.empty()));
        assertThat(i.outputs()).extracting(TensorSpec::name, TensorSpec::datatype).containsExactly(
                org.assertj.core.groups.Tuple.tuple("probs", DataType.FP32));
        assertThat(i.outputs().get(0).shape()).hasSize(2).endsWith(3L);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void bad_inputs_are_refused_before_the_native_call_with_precise_messages(String runtime, Function<Path, Path> writer) {
        try (LoadedModel m = load(writer, EngineOptions.defaults())) {
            InferTensor good = new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, 1, 2, 3, 4));
            assertThatThrownBy(() -> m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 5}, 1, 2, 3, 4, 5)))))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage("model 'classifier' input 'x': expected shape [-1,4], got [1,5]");
            assertThatThrownBy(() -> m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {4}, 1, 2, 3, 4)))))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage("model 'classifier' input 'x': expected shape [-1,4], got [4]");
            assertThatThrownBy(() -> m.infer(List.of(new InferTensor("x", TensorData.ofInts(new long[] {1, 4}, 1, 2, 3, 4)))))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage("model 'classifier' input 'x': expected FP32, got INT32");
            assertThatThrownBy(() -> m.infer(List.of()))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage("model 'classifier' is missing input 'x' (x:FP32[-1,4])");
            assertThatThrownBy(() -> m.infer(List.of(good, new InferTensor("y", TensorData.ofFloats(new long[] {1}, 1)))))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage("model 'classifier' has no input 'y' (its inputs: x:FP32[-1,4])");
            assertThatThrownBy(() -> m.infer(List.of(good, good)))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage("model 'classifier': input 'x' is given twice");
            // and the model still answers afterwards
            assertThat(m.infer(List.of(good)).get(0).data().toFloatArray())
                    .containsExactly(SyntheticModels.classify(new float[] {1, 2, 3, 4}), within(1e-5f));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void warm_up_and_load_times_are_recorded_and_the_pool_is_bounded(String runtime, Function<Path, Path> writer) {
        try (LoadedModel m = load(writer, EngineOptions.defaults().withPoolSize(2))) {
            assertThat(m.stats().loadMillis()).isPositive();
            assertThat(m.stats().firstInferenceMillis()).isPositive();
            assertThat(m.stats().poolSize()).isEqualTo(2);
            assertThat(m.stats().providers()).isNotEmpty();
        }
        try (LoadedModel m = load(writer, EngineOptions.defaults().withWarmUp(false))) {
            assertThat(m.stats().firstInferenceMillis()).isEqualTo(-1);
            assertThat(m.stats().poolSize()).isBetween(1, Runtime.getRuntime().availableProcessors());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void concurrent_callers_get_correct_answers(String runtime, Function<Path, Path> writer) throws Exception {
        try (LoadedModel m = load(writer, EngineOptions.defaults().withPoolSize(2).withAcquireTimeout(java.time.Duration.ofSeconds(30)))) {
            var pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<Boolean>> results = new java.util.ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    final float f = t;
                    results.add(pool.submit(() -> {
                        for (int i = 0; i < 50; i++) {
                            float[] x = {f, i, -f, 1};
                            float[] got = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, x))))
                                    .get(0).data().toFloatArray();
                            float[] want = SyntheticModels.classify(x);
                            for (int k = 0; k < 3; k++) {
                                if (Math.abs(got[k] - want[k]) > 1e-5) {
                                    return false;
                                }
                            }
                        }
                        return true;
                    }));
                }
                for (var r : results) {
                    assertThat(r.get()).isTrue();
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
