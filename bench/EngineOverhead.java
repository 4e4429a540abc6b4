import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The engine's overhead over the raw ONNX Runtime call, paired: one thread alternates rounds of
 * raw calls and engine calls on the same dense model (y = Relu(x W + B), x [1,SIZE] FP32) in one
 * JVM, so both see the same machine load; every call is timed, warm-up rounds are discarded, and
 * the report gives median and p99 of each and their ratio.
 *
 * <p>The raw call is the least a server must do: {@code session.run} on an input tensor built
 * once, plus reading the output into a Java array (an answer has to leave native memory). The
 * engine call is {@code LoadedModel.infer}: what the agent and the cloud role call, from a
 * {@link TensorData} in Java memory to output {@link TensorData}, checks included.
 *
 * <p>Run: {@code bench/engine-overhead.sh [SIZE] [ROUNDS] [CALLS_PER_ROUND]}.
 */
public final class EngineOverhead {
    public static void main(String[] args) throws Exception {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        int perRound = args.length > 2 ? Integer.parseInt(args[2]) : 2000;
        int warmRounds = Math.max(1, rounds / 5);
        Path dir = Files.createTempDirectory("engine-overhead-");
        Path file = SyntheticModels.denseOnnx(dir, size);
        float[] x = new float[size];
        Random rnd = new Random(1);
        for (int i = 0; i < size; i++) {
            x[i] = rnd.nextFloat();
        }
        List<InferTensor> inputs = List.of(new InferTensor("x", TensorData.ofFloats(new long[] {1, size}, x)));

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                LoadedModel model = Engines.forRuntime("onnxruntime").load(file, EngineOptions.defaults().withPoolSize(1))) {
            // the engine's own session settings (OnnxEngine): one intra-op thread per call, all optimisations
            o.setIntraOpNumThreads(EngineOptions.defaults().threads());
            o.setInterOpNumThreads(1);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(file.toString(), o)) {
                ByteBuffer in = ByteBuffer.allocateDirect(size * 4).order(ByteOrder.nativeOrder());
                in.asFloatBuffer().put(x);
                try (OnnxTensor tensor = OnnxTensor.createTensor(env, in.asFloatBuffer(), new long[] {1, size})) {
                    Map<String, OnnxTensor> feed = Map.of("x", tensor);
                    float[] sink = new float[size];
                    Runnable raw = () -> {
                        try (OrtSession.Result r = session.run(feed)) {
                            ((OnnxTensor) r.get(0)).getFloatBuffer().get(sink);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    };
                    Runnable engine = () -> model.infer(inputs);
                    // the two must compute the same thing
                    raw.run();
                    float[] viaEngine = model.infer(inputs).get(0).data().toFloatArray();
                    if (!Arrays.equals(viaEngine, sink)) {
                        throw new IllegalStateException("engine and raw call disagree");
                    }
                    long[] rawNanos = new long[(rounds - warmRounds) * perRound];
                    long[] engNanos = new long[rawNanos.length];
                    int k = 0;
                    for (int round = 0; round < rounds; round++) {
                        boolean timed = round >= warmRounds;
                        // alternate which goes first, so neither always follows the other
                        Runnable first = round % 2 == 0 ? raw : engine;
                        Runnable second = round % 2 == 0 ? engine : raw;
                        long[] firstInto = round % 2 == 0 ? rawNanos : engNanos;
                        long[] secondInto = round % 2 == 0 ? engNanos : rawNanos;
                        time(first, perRound, timed ? firstInto : null, k);
                        time(second, perRound, timed ? secondInto : null, k);
                        if (timed) {
                            k += perRound;
                        }
                    }
                    Arrays.sort(rawNanos);
                    Arrays.sort(engNanos);
                    double[] load = loadAverage();
                    System.out.printf(Locale.ROOT, "# dense%d.onnx, x [1,%d] FP32, %d timed rounds x %d calls each (after %d warm-up rounds), "
                            + "%d cores, load average %.2f %.2f %.2f, Java %s%n", size, size, rounds - warmRounds, perRound, warmRounds,
                            Runtime.getRuntime().availableProcessors(), load[0], load[1], load[2], System.getProperty("java.version"));
                    System.out.printf(Locale.ROOT, "raw    p50 %7.2f us  p99 %7.2f us%n", pct(rawNanos, 0.5), pct(rawNanos, 0.99));
                    System.out.printf(Locale.ROOT, "engine p50 %7.2f us  p99 %7.2f us%n", pct(engNanos, 0.5), pct(engNanos, 0.99));
                    System.out.printf(Locale.ROOT, "engine/raw p50 %.2fx  p99 %.2fx%n", pct(engNanos, 0.5) / pct(rawNanos, 0.5),
                            pct(engNanos, 0.99) / pct(rawNanos, 0.99));
                }
            }
        } finally {
            try (var w = Files.walk(dir)) {
                w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void time(Runnable call, int n, long[] into, int at) {
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            call.run();
            long t = System.nanoTime() - t0;
            if (into != null) {
                into[at + i] = t;
            }
        }
    }

    private static double pct(long[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(sorted.length * q) - 1)] / 1e3;
    }

    private static double[] loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return new double[] {Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2])};
        } catch (Exception e) {
            return new double[] {-1, -1, -1};
        }
    }
}
