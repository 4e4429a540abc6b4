package io.edgefleet.cli;

import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.Engines;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.ModelInspection;
import io.edgefleet.engines.ModelLoadException;
import io.edgefleet.engines.bench.EngineBenchmark;
import io.edgefleet.engines.isolation.IsolatedVerifier;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.profiles.select.Bytes;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.OipCodec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code edgefleet model ...}: inspect, run and benchmark model files ({@code model push} is added by {@link Main#commandLine} with the control plane). */
@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Model files: inspect, run, benchmark; keys, signed manifests, a sync server, delta statistics.",
        subcommands = {ModelCommand.Inspect.class, ModelCommand.Run.class, ModelCommand.Bench.class, SyncCommands.Keygen.class,
            SyncCommands.Sign.class, SyncCommands.Verify.class, SyncCommands.Serve.class, SyncCommands.ChunkStats.class, SyncBench.class, BundleCommands.Bundle.class})
final class ModelCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = {"Inspect a model file: runtime, inputs and outputs (types, shapes, quantization), size, SHA-256.",
                "The file is loaded in a separate, short-lived JVM, so a file that crashes the runtime cannot take this one down.",
                "Exit 0 when this host's runtime loads it, 1 (with the runtime's message) when it does not."})
    static final class Inspect implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE", description = "A .tflite or .onnx file.")
        Path file;
        @Option(names = "--json", description = "Print JSON instead of text.")
        boolean json;
        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60", description = "Time limit of the load (default ${DEFAULT-VALUE}).")
        int timeoutSeconds;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            try {
                ModelInspection i = IsolatedVerifier.verify(file, IsolationOptions.defaults().withTimeout(Duration.ofSeconds(timeoutSeconds)));
                if (json) {
                    ProfilesCommand.printJson(out, i);
                } else {
                    out.printf("file     %s%n", i.file());
                    out.printf("runtime  %s %s%n", i.runtime(), i.runtimeVersion());
                    out.printf("size     %s (%d bytes)%n", Bytes.human(i.sizeBytes()), i.sizeBytes());
                    out.printf("sha256   %s%n", i.sha256());
                    for (TensorSpec t : i.inputs()) {
                        out.printf("input    %s%n", tensor(t));
                    }
                    for (TensorSpec t : i.outputs()) {
                        out.printf("output   %s%n", tensor(t));
                    }
                    out.println("loads    yes, on this host (checked in an isolated JVM)");
                }
                return Main.OK;
            } catch (ModelLoadException e) {
                if (json) {
                    ProfilesCommand.printJson(out, java.util.Map.of("file", file.toString(), "loads", false, "error", e.reason()));
                } else {
                    out.printf("file     %s%nloads    no: %s%n", file, e.reason());
                }
                return Main.FAILED;
            }
        }
    }

    static String tensor(TensorSpec t) {
        String shape = t.shape().stream().map(d -> d < 0 ? "?" : Long.toString(d)).reduce((a, b) -> a + "," + b).map(s -> "[" + s + "]").orElse("[]");
        String q = t.quantization().map(x -> "  scale " + new java.math.BigDecimal(x.scale()).round(new java.math.MathContext(6))
                .stripTrailingZeros().toPlainString() + " zero point " + x.zeroPoint()).orElse("");
        return String.format(Locale.ROOT, "%-20s %-5s %s%s", t.name(), t.datatype(), shape, q);
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Run a model on input files and print the outputs as an Open Inference Protocol v2 response (JSON).",
                "Inputs: NAME=FILE, or FILE alone when the model has one input. A .bin file holds the raw tensor bytes in",
                "the input's element type (little-endian; its one dynamic dimension, if any, follows from the size);",
                "a .json file holds one v2 tensor ({\"datatype\":..,\"shape\":..,\"data\":..}).",
                "With --repeat N the response parameters carry latency percentiles of the N runs."})
    static final class Run implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE", description = "A .tflite or .onnx file.")
        Path file;
        @Option(names = {"-i", "--input"}, paramLabel = "[NAME=]FILE", required = true, description = "An input tensor file; repeat per input.")
        List<String> inputs;
        @Option(names = "--repeat", paramLabel = "N", defaultValue = "1", description = "Run N times (default ${DEFAULT-VALUE}).")
        int repeat;
        @Option(names = "--threads", paramLabel = "N", defaultValue = "1", description = "Intra-op threads (default ${DEFAULT-VALUE}).")
        int threads;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            if (repeat < 1) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--repeat must be >= 1");
            }
            // The file is the user's: check it in an isolated JVM before loading it into this one.
            ModelInspection inspection = IsolatedVerifier.verify(file, IsolationOptions.defaults());
            List<InferTensor> tensors = new ArrayList<>();
            for (String in : inputs) {
                tensors.add(InputFiles.read(in, inspection.inputs()));
            }
            try (LoadedModel m = Engines.forRuntime(inspection.runtime()).load(file,
                    EngineOptions.defaults().withThreads(threads).withPoolSize(1).withWarmUp(false))) {
                List<InferTensor> outputs = null;
                long[] nanos = new long[repeat];
                for (int r = 0; r < repeat; r++) {
                    long t0 = System.nanoTime();
                    outputs = m.infer(tensors);
                    nanos[r] = System.nanoTime() - t0;
                }
                Arrays.sort(nanos);
                io.edgefleet.protocols.oip.Parameters params = io.edgefleet.protocols.oip.Parameters.of("edgefleet.runtime", inspection.runtime() + " " + inspection.runtimeVersion());
                if (repeat > 1) {
                    params = params.with("edgefleet.repeat", (long) repeat)
                            .with("edgefleet.latency_p50_ms", nanos[repeat / 2] / 1e6)
                            .with("edgefleet.latency_p90_ms", nanos[(int) Math.ceil(repeat * 0.9) - 1] / 1e6)
                            .with("edgefleet.latency_p99_ms", nanos[(int) Math.ceil(repeat * 0.99) - 1] / 1e6);
                } else {
                    params = params.with("edgefleet.latency_ms", nanos[0] / 1e6);
                }
                String name = file.getFileName().toString().replaceFirst("\\.[^.]+$", "");
                InferResponse resp = new InferResponse(name, Optional.empty(), Optional.empty(), params, outputs);
                byte[] body = OipCodec.create().encodeResponse(resp, n -> false).body();
                spec.commandLine().getOut().println(new String(body, StandardCharsets.UTF_8));
            }
            return Main.OK;
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = {"Benchmark the engines: per model and thread count, latency p50/p99 and calls/s of the runtime's own API",
                "(the baseline) and of the EdgeFleet engine, in the same run, with their ratio. Without files it writes",
                "synthetic models (a 4-feature classifier and a 256- and 1024-wide dense layer) for both runtimes."})
    static final class Bench implements Callable<Integer> {
        @Parameters(paramLabel = "FILE", arity = "0..*", description = "Model files; default: synthetic models.")
        List<Path> files = new ArrayList<>();
        @Option(names = "--iterations", defaultValue = "2000", description = "Timed calls per thread (default ${DEFAULT-VALUE}).")
        int iterations;
        @Option(names = "--warmup", defaultValue = "200", description = "Untimed calls per thread first (default ${DEFAULT-VALUE}).")
        int warmup;
        @Option(names = "--threads", split = ",", defaultValue = "1,2", description = "Thread counts (default ${DEFAULT-VALUE}).")
        int[] threads;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            List<Path> models = new ArrayList<>(files);
            Path tmp = null;
            if (models.isEmpty()) {
                tmp = Files.createTempDirectory("edgefleet-bench-");
                models.add(SyntheticModels.classifierTflite(tmp));
                models.add(SyntheticModels.classifierOnnx(tmp));
                models.add(SyntheticModels.denseTflite(tmp, 256));
                models.add(SyntheticModels.denseOnnx(tmp, 256));
                models.add(SyntheticModels.denseTflite(tmp, 1024));
                models.add(SyntheticModels.denseOnnx(tmp, 1024));
            }
            for (Path p : models) {
                IsolatedVerifier.verify(p, IsolationOptions.defaults());
            }
            PrintWriter out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "# %d cores, Java %s, %d timed calls per thread after %d warm-up calls%n",
                    Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), iterations, warmup);
            List<EngineBenchmark.Row> rows = new EngineBenchmark(iterations, warmup).run(models, threads, out);
            EngineBenchmark.print(rows, out);
            if (tmp != null) {
                try (var w = Files.walk(tmp)) {
                    w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (UncheckedIOException e) {
                    // temp files; best effort
                }
            }
            return Main.OK;
        }
    }
}
