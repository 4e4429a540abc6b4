package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.inference.BatchingSettings;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Does dynamic batching pay on CPU for a convolutional model? The cloud inference role serves
 * {@link SyntheticModels#mobileNetOnnx} ({@code [N,3,128,128]} FP32, about 40 M multiply-adds per
 * image) to an out-of-process load generator ({@code bench/HttpLoad.java} in its own JVM, 16
 * keep-alive connections), batched versus unbatched, JSON v2 and the binary tensor extension, runs
 * alternated (u, b, b, u) and each ratio taken against the unbatched runs of the same pair. Then
 * the engine alone (no HTTP): 16 rows as sixteen one-row calls on a pool of sessions versus one
 * 16-row call, at one and two intra-op threads, to show what batching itself buys the runtime.
 * Set {@code -Dbench.jfr=DIR} to record one batched and one unbatched binary run with JFR.
 *
 * <p>Run: {@code ./mvnw -B -o -pl cloud-control-plane -am -P'!deb' -Dtest=ConvBatchingBenchmark
 * -Dsurefire.failIfNoSpecifiedTests=false -Pslow verify}; figures in docs/benchmarks.md.
 */
@Tag("slow")
class ConvBatchingBenchmark {
    @TempDir
    Path dir;

    static final int SIDE = 128;
    static final int CONC = 16;
    static final double WARMUP_S = Double.parseDouble(System.getProperty("bench.warmup", "3"));
    static final double MEASURE_S = Double.parseDouble(System.getProperty("bench.seconds", "6"));

    @Test
    void batched_versus_unbatched_on_a_conv_model() throws Exception {
        Path model = SyntheticModels.mobileNetOnnx(Files.createDirectories(dir.resolve("m")), SIDE);
        int n = 3 * SIDE * SIDE;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (i % 251) / 251f;
        }
        StringBuilder sb = new StringBuilder("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3," + SIDE + "," + SIDE + "],\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < n; i++) {
            sb.append(i == 0 ? "" : ",").append(x[i]);
        }
        Path json = Files.writeString(dir.resolve("req.json"), sb.append("]}]}").toString());
        byte[] header = ("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3," + SIDE + "," + SIDE + "],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":"
                + 4 * n + "}}],\"outputs\":[{\"name\":\"y\",\"parameters\":{\"binary_data\":true}}]}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer raw = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : x) {
            raw.putFloat(f);
        }
        ByteArrayOutputStream bin = new ByteArrayOutputStream();
        bin.write(header);
        bin.write(raw.array());
        Path binary = Files.write(dir.resolve("req.bin"), bin.toByteArray());

        String jfr = System.getProperty("bench.jfr");
        BatchingSettings batched = new BatchingSettings(32, Duration.ofMillis(2), 1024, Duration.ofSeconds(30));
        System.out.printf(Locale.ROOT, "%nConv batching benchmark: mobilenet%d ONNX (fp32, CPU, %d cores), concurrency %d, out-of-process HttpLoad, %.0f s per run, load average %s%n",
                SIDE, Runtime.getRuntime().availableProcessors(), CONC, MEASURE_S, loadAverage());
        System.out.printf(Locale.ROOT, "%-8s %-10s %10s %10s %10s%n", "format", "mode", "req/s", "ratio", "avg batch");
        for (String format : List.of("json", "binary")) {
            Path body = format.equals("json") ? json : binary;
            Integer headerLength = format.equals("json") ? null : header.length;
            double[] u1 = run(model, body, headerLength, batched.unbatched(), format + "-u1", null);
            double[] b1 = run(model, body, headerLength, batched, format + "-b1", null);
            double[] b2 = run(model, body, headerLength, batched, format + "-b2", jfr == null || format.equals("json") ? null : Path.of(jfr, "batched.jfr"));
            double[] u2 = run(model, body, headerLength, batched.unbatched(), format + "-u2", jfr == null || format.equals("json") ? null : Path.of(jfr, "unbatched.jfr"));
            System.out.printf(Locale.ROOT, "%-8s %-10s %10.1f %10s %10.2f%n", format, "unbatched", (u1[0] + u2[0]) / 2, "1.00", (u1[1] + u2[1]) / 2);
            System.out.printf(Locale.ROOT, "%-8s %-10s %10.1f %10.2f %10.2f   (pairs: %.2f, %.2f)%n", format, "batched", (b1[0] + b2[0]) / 2,
                    (b1[0] + b2[0]) / (u1[0] + u2[0]), (b1[1] + b2[1]) / 2, b1[0] / u1[0], b2[0] / u2[0]);
        }
        engineAlone(model, x);
        System.out.printf(Locale.ROOT, "load average at the end: %s%n", loadAverage());
    }

    /** The runtime alone: 16 rows as one-row calls on a pool of sessions versus 16-row calls, rows per second. */
    private static void engineAlone(Path model, float[] x) throws Exception {
        System.out.printf(Locale.ROOT, "%nEngine alone (no HTTP, no JSON), %d rows per round, rows/s, alternated twice:%n", CONC);
        System.out.printf(Locale.ROOT, "%-44s %10s %10s%n", "setting", "rows/s", "ratio");
        record Setting(String name, int pool, int threads, int rowsPerCall, int callers) {
        }
        List<Setting> settings = List.of(
                new Setting("unbatched: pool 2 x 1 thread, 16 callers", 2, 1, 1, CONC),
                new Setting("unbatched: pool 1 x 1 thread, 16 callers", 1, 1, 1, CONC),
                new Setting("batched 16: pool 1 x 1 thread", 1, 1, CONC, 1),
                new Setting("batched 16: pool 1 x 2 threads", 1, 2, CONC, 1),
                new Setting("batched 8: pool 2 x 1 thread, 2 callers", 2, 1, CONC / 2, 2),
                new Setting("unbatched: pool 1 x 2 threads, 16 callers", 1, 2, 1, CONC));
        Map<String, Double> sum = new HashMap<>();
        for (int round = 0; round < 2; round++) {
            for (Setting s : settings) {
                try (LoadedModel m = Engines.forRuntime("onnxruntime").load(model, "mobilenet",
                        EngineOptions.defaults().withThreads(s.threads()).withPoolSize(s.pool()))) {
                    float[] rows = new float[x.length * s.rowsPerCall()];
                    for (int r = 0; r < s.rowsPerCall(); r++) {
                        System.arraycopy(x, 0, rows, r * x.length, x.length);
                    }
                    ByteBuffer b = ByteBuffer.allocate(rows.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                    for (float f : rows) {
                        b.putFloat(f);
                    }
                    List<InferTensor> in = List.of(new InferTensor("x", TensorData.ofRaw(DataType.FP32, new long[] {s.rowsPerCall(), 3, SIDE, SIDE}, b.array())));
                    for (int i = 0; i < 3; i++) {
                        m.infer(in);
                    }
                    AtomicLong done = new AtomicLong();
                    ExecutorService pool = Executors.newFixedThreadPool(s.callers());
                    long end = System.nanoTime() + (long) (MEASURE_S / 2 * 1e9);
                    long t0 = System.nanoTime();
                    List<Future<?>> fs = new ArrayList<>();
                    for (int c = 0; c < s.callers(); c++) {
                        fs.add(pool.submit(() -> {
                            while (System.nanoTime() < end) {
                                m.infer(in);
                                done.addAndGet(s.rowsPerCall());
                            }
                            return null;
                        }));
                    }
                    for (Future<?> f : fs) {
                        f.get();
                    }
                    pool.shutdown();
                    sum.merge(s.name(), done.get() / ((System.nanoTime() - t0) / 1e9), Double::sum);
                }
            }
        }
        double base = sum.get(settings.get(0).name());
        for (Setting s : settings) {
            System.out.printf(Locale.ROOT, "%-44s %10.1f %10.2f%n", s.name(), sum.get(s.name()) / 2, sum.get(s.name()) / base);
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "n/a";
        }
    }

    /** One run: a fresh cloud role, the model pushed, HttpLoad in its own JVM; returns {requests/s, rows per model call}. */
    private double[] run(Path model, Path body, Integer headerLength, BatchingSettings settings, String name, Path jfr) throws Exception {
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve(name)).withRoles(EnumSet.allOf(Role.class))
                .withBatching(settings))) {
            CloudClient ops = client(cp, OPERATOR);
            assertThat(ops.pushModel("mobilenet", "1", List.of(model), List.of(), Map.of(), n -> { }).status()).isEqualTo(201);
            jdk.jfr.Recording rec = null;
            if (jfr != null) {
                rec = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
                rec.start();
            }
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx256m",
                    Path.of("..", "bench", "HttpLoad.java").toString(), "127.0.0.1", Integer.toString(cp.port()), "/v2/models/mobilenet/infer",
                    body.toString(), Integer.toString(CONC), Double.toString(WARMUP_S), Double.toString(MEASURE_S)));
            if (headerLength != null) {
                cmd.add(headerLength.toString());
            }
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("HTTPLOAD_AUTHORIZATION", "Bearer " + OPERATOR);
            long runs0 = -1;
            long rows0 = 0;
            Process p = pb.start();
            Thread.sleep((long) (WARMUP_S * 1000));
            runs0 = cp.inference().stats().get("runs");
            rows0 = cp.inference().stats().get("rows");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor();
            long runs = cp.inference().stats().get("runs") - runs0;
            long rows = cp.inference().stats().get("rows") - rows0;
            if (rec != null) {
                Files.createDirectories(jfr.getParent());
                rec.dump(jfr);
                rec.close();
            }
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("requests_per_s=(\\d+(?:\\.\\d+)?) ok=(\\d+) failed=(\\d+)").matcher(out);
            assertThat(m.find()).as("HttpLoad output: %s", out).isTrue();
            assertThat(Long.parseLong(m.group(3))).as("failed requests in %s: %s", name, out).isZero();
            long ok = Long.parseLong(m.group(2));
            return new double[] {ok / MEASURE_S, runs == 0 ? 0 : (double) rows / runs};
        }
    }
}
