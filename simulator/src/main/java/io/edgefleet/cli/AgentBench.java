package io.edgefleet.cli;

import io.edgefleet.bench.AgentOverhead;
import io.edgefleet.engines.synth.SyntheticModels;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code edgefleet agent bench}: the agent's overhead per protocol, its start-to-ready time and idle memory. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmark the agent: the same model through HTTP JSON, HTTP binary, CoAP and MQTT versus the engine",
            "called in-process, p50/p99 and calls/s at each concurrency, as ratios and as microseconds over the engine; HTTP is",
            "driven from a second JVM (a small load generator), CoAP and MQTT from clients in this JVM (marked so); then an agent",
            "process's start-to-ready time and idle RSS with one small model. MQTT uses --mqtt, else a mosquitto started from the",
            "PATH, else is skipped."})
final class AgentBench implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "FILE", description = "Model file (default: a synthetic 256-wide dense ONNX model).")
    Path model;
    @Option(names = "--iterations", defaultValue = "2000", description = "Timed calls per client thread (default ${DEFAULT-VALUE}).")
    int iterations;
    @Option(names = "--warmup", defaultValue = "3000", description = "Untimed calls per client thread first (default ${DEFAULT-VALUE}; the agent's HTTP path needs thousands of calls before the JIT has compiled it: 200 gave 1.9 ms where 5,000 gave 0.31 ms).")
    int warmup;
    @Option(names = "--concurrency", split = ",", defaultValue = "1,2", description = "Client threads (default ${DEFAULT-VALUE}).")
    int[] concurrency;
    @Option(names = "--mqtt", paramLabel = "URL", description = "MQTT broker to use (default: start mosquitto if installed).")
    String mqtt;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path tmp = Files.createTempDirectory("edgefleet-agent-bench-");
        Process broker = null;
        try {
            Path models = Files.createDirectories(tmp.resolve("models"));
            Path m = model != null ? Files.copy(model, models.resolve(model.getFileName())) : SyntheticModels.denseOnnx(models, 256);
            Optional<String> url = Optional.ofNullable(mqtt);
            if (url.isEmpty()) {
                int port = freePort();
                broker = startMosquitto(tmp, port);
                if (broker != null) {
                    url = Optional.of("tcp://127.0.0.1:" + port);
                } else {
                    out.println("# no mosquitto on this machine and no --mqtt: MQTT is skipped");
                }
            }
            out.printf(Locale.ROOT, "# %s, %d cores, Java %s, %d timed calls per client after %d warm-up calls, load average %.2f "
                    + "(other processes share the CPU: compare rows of one run)%n", m.getFileName(),
                    Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), iterations, warmup,
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            List<AgentOverhead.Row> rows = new AgentOverhead(iterations, warmup).run(m, tmp.resolve("data"), url, concurrency, out);
            AgentOverhead.print(rows, out);
            out.printf(Locale.ROOT, "# load average %.2f at the end%n", java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            startAndIdle(tmp, out);
            return Main.OK;
        } finally {
            if (broker != null) {
                broker.destroy();
                broker.waitFor(10, TimeUnit.SECONDS);
            }
            try (var w = Files.walk(tmp)) {
                w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** An agent process with one small model: time from exec to ready, then resident memory after 3 s idle. */
    private static void startAndIdle(Path tmp, PrintWriter out) throws Exception {
        Path models = Files.createDirectories(tmp.resolve("small"));
        Files.move(SyntheticModels.classifierTflite(tmp), models.resolve("cls.tflite"));
        int port = freePort();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "agent",
                "--models-dir", models.toString(), "--data-dir", tmp.resolve("small-data").toString(), "--http-port", Integer.toString(port),
                "--coap-port", "0"));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("agent.log").toFile()).start();
        try {
            HttpClient http = HttpClient.newHttpClient();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                try {
                    if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/health/ready")).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        break;
                    }
                } catch (IOException e) {
                    Thread.sleep(20);
                }
            }
            double ready = (System.nanoTime() - t0) / 1e6;
            Thread.sleep(3000);
            long rss = 0;
            for (String line : Files.readAllLines(Path.of("/proc/" + p.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("\\D+", "")) / 1024;
                }
            }
            out.printf(Locale.ROOT, "agent process with one small model: start-to-ready %.0f ms (JVM start, first-load check in an isolated JVM, "
                    + "load, HTTP and CoAP up), idle RSS %d MiB%n", ready, rss);
        } finally {
            p.destroy();
            p.waitFor(20, TimeUnit.SECONDS);
        }
    }

    static Process startMosquitto(Path dir, int port) throws Exception {
        return startMosquitto(dir, "listener " + port + " 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n", port);
    }

    /** The mosquitto binary of this machine, if any. */
    static Optional<Path> mosquitto() {
        return List.of("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto").stream().map(Path::of)
                .filter(Files::isExecutable).findFirst();
    }

    /** Starts mosquitto with {@code lines} as its configuration (plus {@code user root} when run as root); null when none is installed. */
    static Process startMosquitto(Path dir, String lines, int port) throws Exception {
        Optional<Path> bin = mosquitto();
        if (bin.isEmpty()) {
            return null;
        }
        Path conf = Files.writeString(dir.resolve("mosquitto.conf"), lines + ("root".equals(System.getProperty("user.name")) ? "user root\n" : ""));
        Process p = new ProcessBuilder(bin.get().toString(), "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("mosquitto.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return p;
            } catch (IOException e) {
                Thread.sleep(25);
            }
        }
        p.destroyForcibly();
        return null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
