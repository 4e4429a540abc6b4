package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.engines.isolation.IsolatedVerifier;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real third-party models of {@code ../shared/models} (next to the repository), with their
 * golden outputs. Skipped, saying so, when that folder is not there, and failed instead in CI
 * ({@link io.edgefleet.testkit.SharedModels#required()}).
 */
class RealModelsTest {
    /** {@link io.edgefleet.testkit.SharedModels#dir()}: beside the repository, or -Dedgefleet.shared.models. */
    static final Path MODELS = io.edgefleet.testkit.SharedModels.dir();

    @BeforeEach
    void needsSharedModels() {
        io.edgefleet.testkit.SharedModels.requireDir(); // skipped without it; a failure where models are required (CI)
    }

    @Test
    void micro_speech_recognises_the_golden_yes_and_no() throws IOException {
        Path model = MODELS.resolve("micro_speech/micro_speech_int8.tflite");
        ModelInspection i = IsolatedVerifier.verify(model, IsolationOptions.defaults());
        TensorSpec in = i.inputs().get(0);
        assertThat(in.datatype()).isEqualTo(DataType.INT8);
        assertThat(in.shape()).containsExactly(1L, 1960L);
        assertThat(in.quantization().orElseThrow().scale()).isCloseTo(0.1017, org.assertj.core.data.Offset.offset(1e-4));
        assertThat(in.quantization().orElseThrow().zeroPoint()).isEqualTo(-128);
        try (LoadedModel m = Engines.tflite().load(model, EngineOptions.defaults())) {
            for (String word : new String[] {"yes", "no"}) {
                byte[] features = Files.readAllBytes(MODELS.resolve("micro_speech/" + word + "_features_int8.bin"));
                TensorData scores = m.infer(List.of(new InferTensor(in.name(), TensorData.ofInt8(new long[] {1, 1960}, features))))
                        .get(0).data();
                assertThat(scores.type()).isEqualTo(DataType.INT8);
                Confidence c = Confidence.of(scores, i.outputs().get(0).quantization());
                assertThat(c.argmax()).as(word).isEqualTo(word.equals("yes") ? 2 : 3);
                if (word.equals("yes")) {
                    assertThat(scores.getLong(2)).isEqualTo(127);
                } else {
                    assertThat(scores.getLong(3)).isEqualTo(114);
                }
                assertThat(c.maxProbability()).as(word).isGreaterThan(0.8);
            }
        }
    }

    /**
     * Silero VAD v5 at two precisions, on the real 1 s "yes" and silence clips, in 512-sample
     * chunks with the 64 samples before each chunk prepended (the v5 model's context window) and
     * the state carried forward. Stated tolerance: the fp16 export is lossy around speech onsets
     * (up to 0.45 apart there), so we require a mean absolute difference under 0.1, both above 0.95
     * inside the word, and both under 0.5 over silence.
     */
    @Test
    void silero_vad_fp32_and_fp16_agree_over_chunks_with_state_carried_forward() throws IOException {
        Path fp32 = MODELS.resolve("silero_vad/silero_vad_fp32.onnx");
        Path fp16 = MODELS.resolve("silero_vad/silero_vad_fp16.onnx");
        float[] yes = pcm(MODELS.resolve("micro_speech/yes_1000ms.wav"));
        float[] silence = pcm(MODELS.resolve("micro_speech/silence_1000ms.wav"));
        try (LoadedModel a = Engines.onnx().load(fp32, EngineOptions.defaults());
                LoadedModel b = Engines.onnx().load(fp16, EngineOptions.defaults())) {
            assertThat(a.stats().warmUpError()).isPresent(); // zeros of [1,1] are too short for its STFT: noted, not fatal
            List<Float> pa = vad(a, yes);
            List<Float> pb = vad(b, yes);
            assertThat(pa).hasSize(31).hasSameSizeAs(pb);
            double meanAbs = 0;
            for (int k = 0; k < pa.size(); k++) {
                meanAbs += Math.abs(pa.get(k) - pb.get(k)) / pa.size();
            }
            assertThat(meanAbs).as("mean |fp32 - fp16| over %s vs %s", pa, pb).isLessThan(0.1);
            assertThat(pa.stream().max(Float::compare).orElseThrow()).isGreaterThan(0.95f);
            assertThat(pb.stream().max(Float::compare).orElseThrow()).isGreaterThan(0.95f);
            assertThat(vad(a, silence)).allSatisfy(p -> assertThat(p).isBetween(0f, 0.5f));
            assertThat(vad(b, silence)).allSatisfy(p -> assertThat(p).isBetween(0f, 0.5f));
        }
    }

    /** 16-bit PCM samples of a canonical 44-byte-header WAV file, scaled to [-1, 1). */
    private static float[] pcm(Path wav) throws IOException {
        byte[] bytes = Files.readAllBytes(wav);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes, 44, bytes.length - 44).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[(bytes.length - 44) / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getShort() / 32768f;
        }
        return out;
    }

    private static List<Float> vad(LoadedModel m, float[] pcm) {
        ModelSignature sig = m.signature();
        TensorData state = TensorBuffers.zeros(sig.input("state").orElseThrow().datatype(), new long[] {2, 1, 128});
        List<Float> probs = new ArrayList<>();
        for (int k = 0; k + 512 <= pcm.length; k += 512) {
            float[] chunk = new float[576];
            for (int s = 0; s < 576; s++) {
                int idx = k - 64 + s;
                chunk[s] = idx >= 0 ? pcm[idx] : 0;
            }
            List<InferTensor> in = new ArrayList<>(List.of(
                    new InferTensor("input", TensorData.ofFloats(new long[] {1, 576}, chunk)), new InferTensor("state", state)));
            // shared/models/README.md lists an int64 'sr' input; only the fp32 export has it.
            if (sig.input("sr").isPresent()) {
                in.add(new InferTensor("sr", TensorData.ofLongs(new long[] {}, 16000)));
            }
            List<InferTensor> out = m.infer(in);
            probs.add(out.get(0).data().toFloatArray()[0]);
            state = out.get(1).data();
        }
        return probs;
    }

    @Test
    void models_the_runtime_cannot_load_are_refused_with_the_runtimes_own_message() {
        assertThatThrownBy(() -> IsolatedVerifier.verify(MODELS.resolve("person_detection/person_detect_int8.tflite"),
                IsolationOptions.defaults()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("quantized_dimension must be in range [0, 1). Was 3.");
        // shared/models/README.md says version '3' for both; TFLite 2.6.2 names version '2' for the float one.
        assertThatThrownBy(() -> IsolatedVerifier.verify(MODELS.resolve("micro_speech/audio_preprocessor_int8.tflite"),
                IsolationOptions.defaults()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("Didn't find op for builtin opcode 'CAST' version '3'");
        assertThatThrownBy(() -> IsolatedVerifier.verify(MODELS.resolve("micro_speech/audio_preprocessor_float.tflite"),
                IsolationOptions.defaults()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("Didn't find op for builtin opcode 'CAST' version '2'");
    }

    @Test
    void hello_world_float_and_int8_both_approximate_sine() {
        Path f = MODELS.resolve("hello_world/hello_world_float.tflite");
        Path q = MODELS.resolve("hello_world/hello_world_int8.tflite");
        try (LoadedModel mf = Engines.tflite().load(f, EngineOptions.defaults());
                LoadedModel mq = Engines.tflite().load(q, EngineOptions.defaults())) {
            TensorSpec qin = mq.signature().inputs().get(0);
            TensorSpec qout = mq.signature().outputs().get(0);
            for (float x : new float[] {0.5f, 1.57f, 3.0f, 4.7f}) {
                float yf = mf.infer(List.of(new InferTensor(mf.signature().inputs().get(0).name(),
                        TensorData.ofFloats(new long[] {1, 1}, x)))).get(0).data().toFloatArray()[0];
                TensorData xq = Quantize.quantize(new float[] {x}, new long[] {1, 1}, qin.datatype(), qin.quantization().orElseThrow());
                float yq = Quantize.dequantize(mq.infer(List.of(new InferTensor(qin.name(), xq))).get(0).data(),
                        qout.quantization().orElseThrow())[0];
                assertThat(yf).as("float sin(%s)", x).isCloseTo((float) Math.sin(x), org.assertj.core.data.Offset.offset(0.15f));
                assertThat(yq).as("int8 sin(%s)", x).isCloseTo((float) Math.sin(x), org.assertj.core.data.Offset.offset(0.2f));
            }
            assertThat(qin.quantization()).isNotEqualTo(Optional.empty());
        }
    }
}
