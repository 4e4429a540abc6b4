package io.edgefleet.engines;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.edgefleet.engines.InvalidInputException.Rule;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random requests against real runtimes: a seeded loop (the seed is in every failure message) of
 * random shapes (zeros, huge, wrong rank, dimensions that disagree across inputs), wrong element
 * types, wrong data lengths, missing and extra inputs and odd values, thrown at synthetic models of
 * both runtimes and at the real models of {@code ../shared/models} when they are there. Every
 * request either fails to build ({@link ProtocolException}, what the codecs answer 400 with),
 * is answered, or is refused with {@link InvalidInputException} (400): never another exception,
 * and never a crash of this JVM (a native abort would kill the test fork and fail the build).
 */
class RandomShapesPropertyTest {
    private static final long SEED = Long.getLong("edgefleet.property.seed", 14L);
    private static final int CASES_PER_MODEL = 250;
    private static final long MAX_REQUEST_BYTES = 1 << 20;
    private static final long[] DIMS = {0, 1, 2, 3, 4, 7, 64, 128, 511, 512, 576, 1960, 4096, 70_000, 300_000,
        Integer.MAX_VALUE, 1L << 31, 1L << 40, Long.MAX_VALUE};
    private static final DataType[] TYPES = {DataType.FP32, DataType.FP16, DataType.FP64, DataType.INT8, DataType.UINT8,
        DataType.INT16, DataType.INT32, DataType.INT64, DataType.BOOL, DataType.BYTES};

    @TempDir
    Path dir;

    private record Target(String label, Path file, Function<LoadedModel, List<InferTensor>> good) {
    }

    private List<Target> targets() {
        List<Target> t = new ArrayList<>();
        t.add(new Target("classifier.onnx", SyntheticModels.classifierOnnx(dir.resolve("o")), m -> List.of(ones("x", 2, 4))));
        t.add(new Target("classifier.tflite", SyntheticModels.classifierTflite(dir.resolve("t")), m -> List.of(ones("x", 2, 4))));
        t.add(new Target("add.onnx", SyntheticModels.addOnnx(dir.resolve("o")), m -> List.of(ones("a", 3, 4), ones("b", 3, 4))));
        t.add(new Target("add.tflite", SyntheticModels.addTflite(dir.resolve("t")), m -> List.of(ones("a", 3, 4), ones("b", 3, 4))));
        t.add(new Target("accumulator.tflite", SyntheticModels.accumulatorTflite(dir.resolve("t")), m -> List.of(ones("x", 1, 1))));
        t.add(new Target("lstm.tflite", SyntheticModels.lstmTflite(dir.resolve("t")),
                m -> List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, 1, 1}, 0.5f)))));
        t.add(new Target("dequantize.tflite", SyntheticModels.dequantizeTflite(dir.resolve("t")),
                m -> List.of(new InferTensor("x", TensorData.ofInt8(new long[] {1, 4}, (byte) 1, (byte) 2, (byte) 3, (byte) 4)))));
        Path vad = RealModelsTest.MODELS.resolve("silero_vad/silero_vad_fp32.onnx");
        Path hello = RealModelsTest.MODELS.resolve("hello_world/hello_world_float.tflite");
        Path kws = RealModelsTest.MODELS.resolve("micro_speech/micro_speech_int8.tflite");
        if (Files.isRegularFile(vad)) {
            t.add(new Target("silero_vad_fp32.onnx", vad, m -> NativeBoundaryTest.vad(1, 576, 1)));
        }
        if (Files.isRegularFile(hello)) {
            t.add(new Target("hello_world_float.tflite", hello, m -> List.of(ones(m.signature().inputs().get(0).name(), 1, 1))));
        }
        if (Files.isRegularFile(kws)) {
            t.add(new Target("micro_speech_int8.tflite", kws, m -> List.of(new InferTensor(m.signature().inputs().get(0).name(),
                    TensorData.ofInt8(new long[] {1, 1960}, new byte[1960])))));
        }
        if (t.size() < 10 && io.edgefleet.testkit.SharedModels.required()) {
            throw new AssertionError("real models are required here (EDGEFLEET_REQUIRE_MODELS or CI) but not found under "
                    + RealModelsTest.MODELS);
        }
        if (t.size() < 10) {
            System.out.println("RandomShapesPropertyTest: real models not found under " + RealModelsTest.MODELS.toAbsolutePath().normalize()
                    + "; running on the synthetic models only");
        }
        return t;
    }

    private static InferTensor ones(String name, long rows, long cols) {
        float[] v = new float[(int) (rows * cols)];
        java.util.Arrays.fill(v, 1f);
        return new InferTensor(name, TensorData.ofFloats(new long[] {rows, cols}, v));
    }

    @Test
    void random_requests_are_answered_or_refused_as_client_errors_and_the_runtime_survives() {
        Random rnd = new Random(SEED);
        Map<Rule, Integer> refused = new EnumMap<>(Rule.class);
        int answered = 0;
        int unbuildable = 0;
        for (Target target : targets()) {
            try (LoadedModel m = Engines.forFile(target.file()).load(target.file(), target.label(),
                    EngineOptions.defaults().withPoolSize(1).withMaxRequestBytes(MAX_REQUEST_BYTES))) {
                for (int c = 0; c < CASES_PER_MODEL; c++) {
                    String what = "seed " + SEED + ", model " + target.label() + ", case " + c;
                    List<InferTensor> request;
                    try {
                        request = randomRequest(rnd, m.signature());
                    } catch (ProtocolException e) {
                        unbuildable++;
                        continue;
                    }
                    String shapes = InputRules.shapes(request) + " " + request.stream().map(InferTensor::datatype).toList();
                    try {
                        List<InferTensor> out = m.infer(request);
                        answered++;
                        assertThat(out).as(what + ": " + shapes).hasSameSizeAs(m.signature().outputs());
                    } catch (InvalidInputException e) {
                        refused.merge(e.rule(), 1, Integer::sum);
                        assertThat(e.getMessage()).as(what).contains("model '" + target.label() + "'").doesNotContain("node", "ORT_");
                    } catch (RuntimeException e) {
                        fail(what + ": " + shapes + " gave " + e + " (only an answer or InvalidInputException is allowed)", e);
                    }
                }
                assertThat(m.infer(target.good().apply(m))).as("model " + target.label() + " still answers after the random requests")
                        .hasSameSizeAs(m.signature().outputs());
            }
        }
        System.out.printf("RandomShapesPropertyTest seed %d: %d answered, %d unbuildable (400 at the codec), refused %s%n",
                SEED, answered, unbuildable, refused);
        // The generator reaches every outcome, so a check that never fires (or never lets through) shows here.
        assertThat(answered).isGreaterThan(50);
        assertThat(unbuildable).isGreaterThan(50);
        assertThat(refused.keySet()).contains(Rule.NAME, Rule.DATATYPE, Rule.SHAPE, Rule.EMPTY, Rule.TOO_LARGE,
                Rule.INCONSISTENT_DIMS, Rule.REFUSED_BY_RUNTIME);
    }

    private static List<InferTensor> randomRequest(Random rnd, io.edgefleet.engines.ModelSignature sig) {
        List<InferTensor> out = new ArrayList<>();
        // One size for the first dimension of every input, most of the time: requests that tie right.
        long batch = rnd.nextInt(10) < 7 ? 1 + rnd.nextInt(3) : pick(rnd);
        for (TensorSpec spec : sig.inputs()) {
            if (rnd.nextInt(40) == 0) {
                continue; // a missing input
            }
            DataType type = rnd.nextInt(12) == 0 ? TYPES[rnd.nextInt(TYPES.length)] : spec.datatype();
            int rank = rnd.nextInt(12) == 0 ? Math.max(0, spec.shape().size() + (rnd.nextBoolean() ? 1 : -1)) : spec.shape().size();
            long[] shape = new long[rank];
            for (int d = 0; d < rank; d++) {
                long want = d < spec.shape().size() ? spec.shape().get(d) : -1;
                boolean keep = rnd.nextInt(10) < 8;
                shape[d] = want >= 0 && keep ? want : d == 0 && keep ? batch : pick(rnd);
            }
            out.add(new InferTensor(spec.name(), data(rnd, type, shape, spec.name())));
        }
        if (rnd.nextInt(40) == 0) {
            out.add(new InferTensor("extra", TensorData.ofFloats(new long[] {1}, 1f)));
        }
        return out;
    }

    private static long pick(Random rnd) {
        return DIMS[rnd.nextInt(DIMS.length)];
    }

    /** Random elements for a shape; over 4 MiB, or now and then on purpose, a wrong length (which cannot be built). */
    private static TensorData data(Random rnd, DataType type, long[] shape, String name) {
        long count = 1;
        for (long d : shape) {
            count = d != 0 && count > (8L << 20) / d ? Long.MAX_VALUE : count * d;
        }
        if (type == DataType.BYTES) {
            int n = (int) Math.min(count, 64);
            return TensorData.ofStrings(shape, java.util.Collections.nCopies(n, "x").toArray(String[]::new));
        }
        long bytes = count == Long.MAX_VALUE ? Long.MAX_VALUE : count * type.elementBytes();
        boolean wrongLength = rnd.nextInt(25) == 0;
        if (bytes > (4L << 20) || wrongLength) {
            return TensorData.ofRaw(type, shape, new byte[(int) Math.min(bytes == Long.MAX_VALUE ? 8 : bytes + 1, 64)]);
        }
        ByteBuffer b = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            switch (type) {
                case FP32 -> b.putFloat(switch (rnd.nextInt(50)) {
                    case 0 -> Float.NaN;
                    case 1 -> Float.POSITIVE_INFINITY;
                    case 2 -> -Float.MAX_VALUE;
                    default -> (float) rnd.nextGaussian();
                });
                case INT64 -> b.putLong(name.equals("sr") && rnd.nextInt(4) != 0 ? 16000 : rnd.nextLong());
                default -> {
                    byte[] e = new byte[type.elementBytes()];
                    rnd.nextBytes(e);
                    b.put(e);
                }
            }
        }
        return TensorData.ofRaw(type, shape, b.array());
    }
}
