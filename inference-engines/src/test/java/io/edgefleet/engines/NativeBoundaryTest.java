package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.edgefleet.engines.InvalidInputException.Rule;
import io.edgefleet.engines.synth.OnnxGraph;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Nothing unchecked reaches native code: each rule of {@link InputRules} on both runtimes, the
 * requests that once aborted the JVM or answered 500 (issue 14), and runtime refusals that come
 * back as client errors without the runtime's text.
 */
class NativeBoundaryTest {
    @TempDir
    static Path dir;

    static Stream<Arguments> engines() {
        return Stream.of(
                Arguments.of("onnxruntime", (Function<Path, Path>) SyntheticModels::classifierOnnx),
                Arguments.of("tflite", (Function<Path, Path>) SyntheticModels::classifierTflite));
    }

    private static LoadedModel load(Path file, EngineOptions options) {
        return Engines.forFile(file).load(file, options);
    }

    private static InferTensor x(long rows) {
        return new InferTensor("x", TensorData.ofFloats(new long[] {rows, 4}, new float[(int) rows * 4]));
    }

    private static void answersAfterwards(LoadedModel m) {
        float[] row = {1, 2, 3, 4};
        List<InferTensor> out = m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 4}, row))));
        assertThat(out.get(0).data().toFloatArray()).containsExactly(SyntheticModels.classify(row), within(1e-5f));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void an_empty_batch_is_refused_before_the_runtime_and_the_model_answers_afterwards(String runtime, Function<Path, Path> writer) {
        try (LoadedModel m = load(writer.apply(dir), EngineOptions.defaults())) {
            assertThatThrownBy(() -> m.infer(List.of(x(0)))).isInstanceOfSatisfying(InvalidInputException.class, e -> {
                assertThat(e.rule()).isEqualTo(Rule.EMPTY);
                assertThat(e.getMessage()).isEqualTo("model 'classifier' input 'x': dimension 0 is 0 in [0,4] (expected [-1,4]); "
                        + "empty tensors are refused: there is nothing to compute");
            });
            assertThatThrownBy(() -> m.check(List.of(x(0)))).isInstanceOf(InvalidInputException.class);
            answersAfterwards(m);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void wrong_rank_fixed_dim_and_datatype_are_refused_naming_model_input_expected_and_got(String runtime, Function<Path, Path> writer) {
        try (LoadedModel m = load(writer.apply(dir), EngineOptions.defaults())) {
            assertThatThrownBy(() -> m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {4}, 1, 2, 3, 4)))))
                    .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.rule()).isEqualTo(Rule.SHAPE))
                    .hasMessage("model 'classifier' input 'x': expected shape [-1,4], got [4]");
            assertThatThrownBy(() -> m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 3}, 1, 2, 3)))))
                    .hasMessage("model 'classifier' input 'x': expected shape [-1,4], got [1,3]");
            assertThatThrownBy(() -> m.infer(List.of(new InferTensor("x", TensorData.ofInts(new long[] {1, 4}, 1, 2, 3, 4)))))
                    .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.rule()).isEqualTo(Rule.DATATYPE))
                    .hasMessage("model 'classifier' input 'x': expected FP32, got INT32");
            assertThatThrownBy(() -> m.infer(List.of(x(1), new InferTensor("z", TensorData.ofFloats(new long[] {1}, 1)))))
                    .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.rule()).isEqualTo(Rule.NAME))
                    .hasMessageContaining("has no input 'z'");
            answersAfterwards(m);
        }
    }

    /**
     * Inputs [1000,4] FP32 are 16,000 bytes; ONNX also knows the output [N,3] with N bound to 1,000
     * (12,000 bytes), TFLite does not (its unknown dimension counts as 1: 12 bytes).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("engines")
    void a_request_over_the_per_request_memory_bound_is_refused_and_smaller_ones_run(String runtime, Function<Path, Path> writer) {
        try (LoadedModel m = load(writer.apply(dir), EngineOptions.defaults().withMaxRequestBytes(20_000))) {
            if (runtime.equals("onnxruntime")) {
                assertThatThrownBy(() -> m.infer(List.of(x(1000)))).isInstanceOfSatisfying(InvalidInputException.class,
                        e -> assertThat(e.rule()).isEqualTo(Rule.TOO_LARGE))
                        .hasMessage("model 'classifier': this request needs at least 28000 bytes (inputs 16000, outputs 12000), over the "
                                + "per-request memory bound of 20000 bytes; send fewer rows per request");
            } else {
                assertThat(m.infer(List.of(x(1000))).get(0).shape()).containsExactly(1000, 3);
            }
            assertThatThrownBy(() -> m.infer(List.of(x(1300)))).isInstanceOfSatisfying(InvalidInputException.class,
                    e -> assertThat(e.rule()).isEqualTo(Rule.TOO_LARGE));
            assertThat(m.infer(List.of(x(600))).get(0).shape()).containsExactly(600, 3);
        }
    }

    @Test
    void the_default_memory_bound_is_a_quarter_of_the_budget_and_must_be_positive() {
        assertThat(EngineOptions.defaults().maxRequestBytes()).isEqualTo(64L << 20);
        assertThat(EngineOptions.defaults().withMaxRequestBytes(5).maxRequestBytes()).isEqualTo(5);
        assertThatThrownBy(() -> EngineOptions.defaults().withMaxRequestBytes(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maxRequestBytes must be >= 1, got 0");
    }

    @Test
    void onnx_dimensions_tied_by_one_symbolic_name_must_agree_across_inputs() {
        try (LoadedModel m = load(SyntheticModels.addOnnx(dir), EngineOptions.defaults())) {
            assertThatThrownBy(() -> m.infer(List.of(ab("a", 2), ab("b", 3)))).isInstanceOfSatisfying(InvalidInputException.class,
                    e -> assertThat(e.rule()).isEqualTo(Rule.INCONSISTENT_DIMS))
                    .hasMessage("model 'add': input 'b' dimension 0 is 3 but input 'a' dimension 0 is 2; the model names both 'N', "
                            + "so they must be equal");
            assertThat(m.infer(List.of(ab("a", 3), ab("b", 3))).get(0).data().toFloatArray()).containsOnly(2f);
        }
    }

    /** TFLite names no dimensions: the runtime refuses the mismatch, as a client error, and the interpreter still serves. */
    @Test
    void tflite_refusing_mismatched_dynamic_dims_is_a_client_error_and_the_interpreter_recovers() {
        try (LoadedModel m = load(SyntheticModels.addTflite(dir), EngineOptions.defaults().withPoolSize(1))) {
            assertThatThrownBy(() -> m.infer(List.of(ab("a", 2), ab("b", 3)))).isInstanceOfSatisfying(InvalidInputException.class, e -> {
                assertThat(e.rule()).isEqualTo(Rule.REFUSED_BY_RUNTIME);
                assertThat(e.getMessage()).isEqualTo("model 'add' cannot compute inputs of shapes a [2,4], b [3,4]: the runtime refused "
                        + "them (the model constrains its inputs beyond its declared shapes)");
                assertThat(e.runtimeDetail()).get(InstanceOfAssertFactories.STRING).isNotBlank();
            });
            assertThat(m.infer(List.of(ab("a", 3), ab("b", 3))).get(0).data().toFloatArray()).hasSize(12).containsOnly(2f);
            // the same shapes as the refused call, now consistent: the slot re-allocates rather than trusting a half-resized interpreter
            assertThat(m.infer(List.of(ab("a", 2), ab("b", 2))).get(0).data().toFloatArray()).hasSize(8).containsOnly(2f);
        }
    }

    private static InferTensor ab(String name, long rows) {
        float[] ones = new float[(int) rows * 4];
        java.util.Arrays.fill(ones, 1f);
        return new InferTensor(name, TensorData.ofFloats(new long[] {rows, 4}, ones));
    }

    /** Only beside a dimension the model fixes at 0 can a dimension exceed 2^31-1 (TensorData counts 0 elements). */
    @Test
    void a_dimension_over_the_runtimes_int_limit_is_refused_even_when_the_tensor_is_empty_by_declaration() throws IOException {
        Path f = dir.resolve("zero.onnx");
        Files.write(f, OnnxGraph.create("zero").input("x", DataType.FP32, 0, -1).node("Identity", List.of("x"), List.of("y"))
                .output("y", DataType.FP32, 0, -1).toBytes());
        try (LoadedModel m = load(f, EngineOptions.defaults())) {
            assertThatThrownBy(() -> m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {0, 1L << 40})))))
                    .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.rule()).isEqualTo(Rule.SHAPE))
                    .hasMessage("model 'zero' input 'x': dimension 1 is 1099511627776 in [0,1099511627776], over the runtimes' limit of "
                            + "2147483647");
            assertThat(m.infer(List.of(new InferTensor("x", TensorData.ofFloats(new long[] {0, 3})))).get(0).shape())
                    .containsExactly(0, 3);
        }
    }

    // --- the real models of issue 14 ---

    private static Path real(String path) {
        Path p = RealModelsTest.MODELS.resolve(path);
        Assumptions.assumeTrue(Files.isRegularFile(p), "skipped: real model " + p.toAbsolutePath().normalize() + " not found");
        return p;
    }

    static List<InferTensor> vad(long batch, long samples, long stateBatch) {
        return List.of(new InferTensor("input", TensorData.ofFloats(new long[] {batch, samples}, new float[(int) (batch * samples)])),
                new InferTensor("state", TensorData.ofFloats(new long[] {2, stateBatch, 128}, new float[(int) (2 * stateBatch * 128)])),
                new InferTensor("sr", TensorData.ofLongs(new long[] {}, 16000)));
    }

    /** The request that aborted the JVM (exit 134) inside ONNX Runtime. */
    @Test
    void silero_vad_empty_batch_is_refused_not_run_and_the_model_answers_afterwards() {
        try (LoadedModel m = Engines.onnx().load(real("silero_vad/silero_vad_fp32.onnx"), "vad", EngineOptions.defaults())) {
            assertThatThrownBy(() -> m.infer(vad(0, 512, 0))).isInstanceOfSatisfying(InvalidInputException.class,
                    e -> assertThat(e.rule()).isEqualTo(Rule.EMPTY))
                    .hasMessage("model 'vad' input 'input': dimension 0 is 0 in [0,512] (expected [-1,-1]); empty tensors are refused: "
                            + "there is nothing to compute");
            List<InferTensor> out = m.infer(vad(1, 576, 1));
            assertThat(out).extracting(InferTensor::name).containsExactly("output", "stateN");
            assertThat(out.get(0).data().toFloatArray()).hasSize(1);
        }
    }

    /** Once a 500 whose body held ONNX Runtime's node names ('If_0', '/stft/Conv'). */
    @Test
    void silero_vad_wrong_length_frame_or_batch_is_a_client_error_without_runtime_text() {
        try (LoadedModel m = Engines.onnx().load(real("silero_vad/silero_vad_fp32.onnx"), "vad", EngineOptions.defaults())) {
            for (List<InferTensor> bad : List.of(vad(1, 100, 1), vad(2, 576, 1))) {
                assertThatThrownBy(() -> m.infer(bad)).isInstanceOfSatisfying(InvalidInputException.class, e -> {
                    assertThat(e.rule()).isEqualTo(Rule.REFUSED_BY_RUNTIME);
                    assertThat(e.getMessage()).startsWith("model 'vad' cannot compute inputs of shapes input [")
                            .doesNotContain("node", "If_0", "Conv", "LSTM", "ORT_", "onnxruntime", "Status");
                    assertThat(e.runtimeDetail()).get(InstanceOfAssertFactories.STRING).contains("node");
                });
            }
            assertThat(m.infer(vad(1, 576, 1))).hasSize(2);
        }
    }

    /** Once a 500 counted as a model error ("Tensor hasn't been allocated"). */
    @Test
    void hello_world_tflite_empty_batch_is_refused_and_the_model_answers_afterwards() {
        try (LoadedModel m = Engines.tflite().load(real("hello_world/hello_world_float.tflite"), "hello", EngineOptions.defaults())) {
            String in = m.signature().inputs().get(0).name();
            assertThatThrownBy(() -> m.infer(List.of(new InferTensor(in, TensorData.ofFloats(new long[] {0, 1})))))
                    .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.rule()).isEqualTo(Rule.EMPTY));
            float[] y = m.infer(List.of(new InferTensor(in, TensorData.ofFloats(new long[] {1, 1}, (float) (Math.PI / 2)))))
                    .get(0).data().toFloatArray();
            assertThat(y[0]).isCloseTo(1f, within(0.1f));
        }
    }
}
