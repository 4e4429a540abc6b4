package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.OipCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code edgefleet model inspect|run|bench} as a user runs them. */
class ModelCommandTest {
    static final Path SHARED = io.edgefleet.testkit.SharedModels.dir();

    @TempDir
    Path dir;

    @Test
    void inspect_prints_the_signature_and_exits_0_when_it_loads() {
        Path model = SyntheticModels.dequantizeTflite(dir);
        ProfilesCommandTest.Run r = ProfilesCommandTest.run("model", "inspect", model.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("file     " + model, "runtime  tflite 2.6.2", "input    x", "INT8  [1,4]  scale 0.5 zero point -1",
                "output   y", "loads    yes");
        ProfilesCommandTest.Run json = ProfilesCommandTest.run("model", "inspect", "--json", SyntheticModels.classifierOnnx(dir).toString());
        assertThat(json.code()).isZero();
        assertThat(json.out()).contains("\"runtime\" : \"onnxruntime\"", "\"shape\" : [ -1, 4 ]", "\"sha256\" : \"");
    }

    @Test
    void inspect_exits_1_with_the_reason_when_it_does_not_load() throws IOException {
        Path empty = Files.write(dir.resolve("empty.onnx"), new byte[0]);
        ProfilesCommandTest.Run r = ProfilesCommandTest.run("model", "inspect", empty.toString());
        assertThat(r.code()).isEqualTo(Main.FAILED);
        assertThat(r.out()).contains("loads    no: is empty");
        Path junk = Files.write(dir.resolve("junk.onnx"), "not a model at all".getBytes(StandardCharsets.UTF_8));
        ProfilesCommandTest.Run j = ProfilesCommandTest.run("model", "inspect", "--json", junk.toString());
        assertThat(j.code()).isEqualTo(Main.FAILED);
        assertThat(j.out()).contains("\"loads\" : false", "\"error\" : \"");
    }

    @Test
    void run_prints_a_v2_response_with_latency_percentiles_when_repeated() throws IOException {
        Path model = SyntheticModels.classifierOnnx(dir);
        ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(1).putFloat(2).putFloat(3).putFloat(4).putFloat(0).putFloat(0).putFloat(0).putFloat(0);
        Path input = Files.write(dir.resolve("x.bin"), b.array());
        ProfilesCommandTest.Run r = ProfilesCommandTest.run("model", "run", model.toString(), "--input", input.toString(), "--repeat", "20");
        assertThat(r.code()).as(r.err()).isZero();
        InferResponse resp = OipCodec.create().decodeResponse(r.out().strip().getBytes(StandardCharsets.UTF_8), OptionalInt.empty());
        assertThat(resp.modelName()).isEqualTo("classifier");
        assertThat(resp.outputs().get(0).shape()).containsExactly(2, 3); // 8 floats = 2 rows of the dynamic batch
        float[] want = SyntheticModels.classify(new float[] {1, 2, 3, 4});
        float[] got = resp.outputs().get(0).data().toFloatArray();
        for (int k = 0; k < 3; k++) {
            assertThat(got[k]).isCloseTo(want[k], org.assertj.core.data.Offset.offset(1e-5f));
        }
        assertThat(resp.parameters().integer("edgefleet.repeat")).contains(20L);
        assertThat(resp.parameters().number("edgefleet.latency_p99_ms")).isPresent();
    }

    @Test
    void run_reads_json_tensors_and_names_inputs() throws IOException {
        Path model = SyntheticModels.addInt32Tflite(dir);
        Path input = Files.writeString(dir.resolve("x.json"), "{\"datatype\":\"INT32\",\"shape\":[1,4],\"data\":[1,1,1,1]}");
        ProfilesCommandTest.Run r = ProfilesCommandTest.run("model", "run", model.toString(), "-i", "x=" + input);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"data\":[2,3,4,5]");
    }

    @Test
    void run_refuses_bad_inputs_with_exit_1_and_a_precise_message() throws IOException {
        Path model = SyntheticModels.addInt32Tflite(dir);
        Path short3 = Files.write(dir.resolve("short.bin"), new byte[12]);
        ProfilesCommandTest.Run r = ProfilesCommandTest.run("model", "run", model.toString(), "-i", short3.toString());
        assertThat(r.code()).isEqualTo(Main.FAILED);
        assertThat(r.err()).contains("3 INT32 elements, but input 'x' of shape [1, 4] needs 4");
        Path odd = Files.write(dir.resolve("odd.bin"), new byte[13]);
        assertThat(ProfilesCommandTest.run("model", "run", model.toString(), "-i", odd.toString()).err())
                .contains("13 bytes is not a whole number of INT32 elements (4 bytes each)");
        Path badJson = Files.writeString(dir.resolve("bad.json"), "{\"datatype\":\"INT32\",\"shape\":[1,4],\"data\":[1,1,1]}");
        assertThat(ProfilesCommandTest.run("model", "run", model.toString(), "-i", badJson.toString()).err())
                .contains("expected 4 elements for shape [1,4], got 3");
        assertThat(ProfilesCommandTest.run("model", "run", model.toString(), "-i", "nope=" + badJson).err())
                .contains("the model has no input 'nope' (its inputs: x)");
        ProfilesCommandTest.Run wrongType = ProfilesCommandTest.run("model", "run", model.toString(), "-i",
                Files.writeString(dir.resolve("f.json"), "{\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,1,1,1]}").toString());
        assertThat(wrongType.code()).isEqualTo(Main.FAILED);
        assertThat(wrongType.err()).contains("model 'add-int32' input 'x': expected INT32, got FP32");
    }

    @Test
    void run_on_the_real_micro_speech_model_recognises_yes() {
        io.edgefleet.testkit.SharedModels.require("micro_speech/micro_speech_int8.tflite");
        ProfilesCommandTest.Run r = ProfilesCommandTest.run("model", "run", SHARED.resolve("micro_speech/micro_speech_int8.tflite").toString(),
                "--input", SHARED.resolve("micro_speech/yes_features_int8.bin").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("\"data\":[-128,-128,127,-128]");
    }

    @Test
    void bench_prints_baseline_engine_and_ratio_per_model_and_thread_count() {
        Path model = SyntheticModels.classifierTflite(dir);
        ProfilesCommandTest.Run r = ProfilesCommandTest.run("model", "bench", model.toString(), "--iterations", "50",
                "--warmup", "10", "--threads", "1,2");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("raw p50 us", "engine/raw p50");
        assertThat(r.out().lines().filter(l -> l.startsWith("classifier.tflite")).count()).isEqualTo(2);
    }

    @Test
    void drift_reference_from_a_device_file_or_an_oversized_file_is_refused_before_reading_it_all() throws IOException {
        // Read whole, /dev/zero ended the CLI with OutOfMemoryError; the control plane takes at most 64 MiB anyway.
        Path huge = dir.resolve("huge.json");
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            f.setLength((64L << 20) + 1); // sparse: no disk used
        }
        for (String file : new String[] {"/dev/zero", huge.toString()}) {
            if (!Files.exists(Path.of(file))) {
                continue;
            }
            ProfilesCommandTest.Run r = ProfilesCommandTest.run("model", "drift", "m", "1", "--reference", file, "--server", "http://127.0.0.1:1");
            assertThat(r.code()).as(r.err()).isEqualTo(Main.USAGE);
            assertThat(r.err()).contains(file + " is over 64 MiB, the largest sample set the control plane takes");
        }
        assertThat(DriftCommand.readSampleSet(Files.writeString(dir.resolve("small.json"), "{\"inputs\": []}"))).hasSize(14);
    }
}
