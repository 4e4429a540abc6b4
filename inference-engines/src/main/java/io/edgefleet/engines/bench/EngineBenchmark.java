package io.edgefleet.engines.bench;

import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.ModelFiles;
import io.edgefleet.engines.TensorBuffers;
import io.edgefleet.protocols.oip.InferTensor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Measures, per model and thread count, the latency (p50, p99) and throughput of the runtime's
 * own API called directly (the baseline) and of {@link LoadedModel#infer} (what the agent calls),
 * in the same run, and prints their ratio. Inputs are zeros of each input's shape, dynamic
 * dimensions as 1. A benchmark, not a test: numbers on a shared 2-core machine are noisy, so each
 * cell runs {@code warmup} calls first and reports the median and tail of {@code iterations}.
 */
public final class EngineBenchmark {
    /** One row of the report. */
    public record Row(String model, String runtime, int threads, Stats raw, Stats engine) {
        public double overheadP50() {
            return engine.p50Micros() / raw.p50Micros();
        }
    }

    /** Latency percentiles in microseconds and calls per second. */
    public record Stats(double p50Micros, double p99Micros, double callsPerSecond) {
        static Stats of(LatencyHarness.Stats s) {
            return new Stats(s.p50Micros(), s.p99Micros(), s.callsPerSecond());
        }
    }

    private final int iterations;
    private final int warmup;

    public EngineBenchmark(int iterations, int warmup) {
        this.iterations = iterations;
        this.warmup = warmup;
    }

    public List<Row> run(List<Path> models, int[] threadCounts, PrintWriter progress) {
        List<Row> rows = new ArrayList<>();
        for (Path file : models) {
            String runtime = ModelFiles.detectRuntime(file);
            for (int threads : threadCounts) {
                progress.printf(Locale.ROOT, "# %s on %s, %d thread(s)...%n", file.getFileName(), runtime, threads);
                progress.flush();
                List<InferTensor> inputs;
                Stats engine;
                try (LoadedModel m = Engines.forRuntime(runtime).load(file,
                        EngineOptions.defaults().withPoolSize(threads).withAcquireTimeout(Duration.ofSeconds(60)))) {
                    inputs = TensorBuffers.zeroInputs(m.signature().inputs());
                    engine = measure(threads, () -> () -> m.infer(inputs));
                }
                List<RawRunner> runners = new ArrayList<>();
                Stats raw;
                try {
                    for (int t = 0; t < threads; t++) {
                        runners.add(runtime.equals("tflite") ? RawRunner.tflite(file, inputs, 1) : RawRunner.onnx(file, inputs, 1));
                    }
                    raw = measureEach(runners);
                } finally {
                    runners.forEach(RawRunner::close);
                }
                rows.add(new Row(file.getFileName().toString(), runtime, threads, raw, engine));
            }
        }
        return rows;
    }

    private Stats measure(int threads, java.util.function.Supplier<LatencyHarness.Call> perThread) {
        List<LatencyHarness.Call> calls = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            calls.add(perThread.get());
        }
        return Stats.of(LatencyHarness.run("engine call", calls, warmup, iterations));
    }

    private Stats measureEach(List<RawRunner> runners) {
        List<LatencyHarness.Call> calls = new ArrayList<>();
        for (RawRunner r : runners) {
            calls.add(r::invoke);
        }
        return Stats.of(LatencyHarness.run("raw runtime call", calls, warmup, iterations));
    }

    /** The report as an aligned table. */
    public static void print(List<Row> rows, PrintWriter out) {
        out.printf(Locale.ROOT, "%-22s %-11s %3s | %10s %10s %11s | %10s %10s %11s | %s%n", "model", "runtime", "thr",
                "raw p50 us", "raw p99 us", "raw call/s", "eng p50 us", "eng p99 us", "eng call/s", "engine/raw p50");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-22s %-11s %3d | %10.1f %10.1f %11.0f | %10.1f %10.1f %11.0f | %.2fx%n", r.model(), r.runtime(),
                    r.threads(), r.raw().p50Micros(), r.raw().p99Micros(), r.raw().callsPerSecond(), r.engine().p50Micros(),
                    r.engine().p99Micros(), r.engine().callsPerSecond(), r.overheadP50());
        }
        out.flush();
    }
}
