package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.edgefleet.bench.VirtualDevice;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.sync.client.SyncClient;
import io.edgefleet.sync.signing.Keys;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code edgefleet rollout bench}: a control plane (its own process, so its CPU can be measured),
 * a Mosquitto it starts, and N virtual devices with their own MQTT sessions and sync clients; a
 * 3-wave rollout of a 1 MB model with zero bake, timed from creation to all activated. Baseline in
 * the same run: the same N devices fetching the same file with one plain HTTP GET each, at the
 * same concurrency.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time a 3-wave rollout (zero bake, 1 MB model) to N virtual devices with real MQTT sessions and",
            "real model sync, versus N plain downloads of the same file; control-plane CPU from its own process. Needs mosquitto."})
final class RolloutBench implements Callable<Integer> {
    @Option(names = "--devices", defaultValue = "1000", description = "Virtual devices (default ${DEFAULT-VALUE}).") int devices;
    @Option(names = "--concurrency", defaultValue = "100", description = "Devices downloading at once (default ${DEFAULT-VALUE}).") int concurrency;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path tmp = Files.createTempDirectory("edgefleet-rollout-bench-");
        int mqttPort = freePort();
        Process broker = AgentBench.startMosquitto(tmp, mqttPort);
        if (broker == null) {
            spec.commandLine().getErr().println("error: no mosquitto found (apt-get install mosquitto)");
            return Main.FAILED;
        }
        String url = "tcp://127.0.0.1:" + mqttPort;
        int httpPort = freePort();
        Process cloud = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-Xmx2g", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "cloud", "--data-dir", tmp.resolve("cloud").toString(),
                "--http-port", Integer.toString(httpPort), "--mqtt", url, "--rollout-tick-ms", "200", "--plain-http")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("cloud.log").toFile()).start();
        List<VirtualDevice> fleet = new ArrayList<>();
        ExecutorService work = Executors.newVirtualThreadPerTaskExecutor();
        HttpServer plain = null;
        try {
            CloudClient ops = awaitUp(cloud, tmp, httpPort);
            Path model = SyntheticModels.denseOnnx(Files.createDirectories(tmp.resolve("model")), 512);
            out.printf("# rollout bench: %d virtual devices, model %s (%d bytes), concurrency %d%n", devices, model.getFileName(), Files.size(model),
                    concurrency);
            CloudClient.Response pushed = ops.pushModel("dense", "2", List.of(model), List.of(), Map.of(), n -> { });
            if (!pushed.ok()) {
                return CloudCommands.fail(spec, pushed);
            }
            JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
            var trust = Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText()));
            var profile = DeviceCatalog.builtIn().get("raspberry-pi-4-4gb");
            // sync needs a credential: the operator token here (the TLS run with device certificates is the other half of the bench)
            String syncToken = Files.readString(tmp.resolve("cloud/tokens/operator.token")).strip();
            var credentials = io.edgefleet.transport.http.HttpCredentials.none().withBearer(() -> syncToken);
            long t0 = System.nanoTime();
            for (int i = 0; i < devices; i++) {
                Path d = tmp.resolve("devices").resolve("d" + i);
                VirtualDevice v = new VirtualDevice(url, "bench", "d" + i, profile, "dense", "1",
                        store -> new SyncClient(URI.create("http://127.0.0.1:" + httpPort), store, trust, SyncClient.Options.defaults(),
                                credentials, Clock.systemUTC()), d, work);
                fleet.add(v);
            }
            for (int i = 0; i < fleet.size(); i += 50) {
                List<VirtualDevice> batch = fleet.subList(i, Math.min(fleet.size(), i + 50));
                batch.forEach(VirtualDevice::connect);
                awaitConnected(batch, Duration.ofSeconds(60)); // pace the handshakes
            }
            awaitCount(ops, "fleet=bench,status=online", devices, Duration.ofSeconds(120));
            out.printf("%d sessions connected and registered in %.1f s%n", devices, (System.nanoTime() - t0) / 1e9);

            // Baseline: the same file, one plain GET per device, same concurrency.
            plain = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            byte[] bytes = Files.readAllBytes(model);
            plain.createContext("/model", x -> {
                x.sendResponseHeaders(200, bytes.length);
                x.getResponseBody().write(bytes);
                x.close();
            });
            plain.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            plain.start();
            HttpClient http = HttpClient.newHttpClient();
            Semaphore gate = new Semaphore(concurrency);
            URI plainUri = URI.create("http://127.0.0.1:" + plain.getAddress().getPort() + "/model");
            long b0 = System.nanoTime();
            List<java.util.concurrent.Future<?>> gets = new ArrayList<>();
            for (int i = 0; i < devices; i++) {
                gets.add(work.submit(() -> {
                    gate.acquire();
                    try {
                        Path target = Files.createTempFile(tmp, "plain", ".bin");
                        http.send(HttpRequest.newBuilder(plainUri).build(), HttpResponse.BodyHandlers.ofFile(target));
                        Files.delete(target);
                    } finally {
                        gate.release();
                    }
                    return null;
                }));
            }
            for (var f : gets) {
                f.get();
            }
            double plainSeconds = (System.nanoTime() - b0) / 1e9;

            long cpu0 = cpuMillis(cloud);
            long r0 = System.nanoTime();
            CloudClient.Response created = ops.post("/api/v1/rollouts", Map.of("model", "dense", "version", "2", "selector", "fleet=bench",
                    "waves", List.of(Map.of("percent", 1, "bake", "0s"), Map.of("percent", 10, "bake", "0s"), Map.of("percent", 100, "bake", "0s")),
                    "maxConcurrent", concurrency, "commandTimeout", "120s",
                    "gates", Map.of("minDevices", 0, "maxInstallFailures", 0)));
            if (!created.ok()) {
                return CloudCommands.fail(spec, created);
            }
            String id = created.json().get("rollout").get("id").asText();
            String state;
            long lastPrint = 0;
            while (true) {
                JsonNode st = ops.get("/api/v1/rollouts/" + id).json();
                state = st.get("rollout").get("state").asText();
                if (!state.equals("running")) {
                    break;
                }
                if (System.nanoTime() - lastPrint > 2_000_000_000L) {
                    lastPrint = System.nanoTime();
                    out.printf("  %5.1f s  wave %d  %s%n", (lastPrint - r0) / 1e9, st.get("currentWave").asInt(), st.get("waves"));
                    out.flush();
                }
                Thread.sleep(100);
            }
            double rolloutSeconds = (System.nanoTime() - r0) / 1e9;
            long cpu = cpuMillis(cloud) - cpu0;
            long activated = fleet.stream().filter(v -> v.active().equals("2")).count();
            out.printf("rollout %s: %s, %d/%d devices on the new version%n", id, state, activated, devices);
            out.printf("plain GET of the same file by every device:   %7.2f s%n", plainSeconds);
            out.printf("rollout, create to all activated (3 waves):   %7.2f s  (%.2fx the plain downloads)%n", rolloutSeconds,
                    rolloutSeconds / plainSeconds);
            out.printf("control-plane CPU during the rollout: %.1f s (%.0f %% of one core), %.1f ms per device%n", cpu / 1000.0,
                    100.0 * cpu / 1000.0 / rolloutSeconds, (double) cpu / devices);
            return state.equals("succeeded") && activated == devices ? Main.OK : Main.FAILED;
        } finally {
            if (plain != null) {
                plain.stop(0);
            }
            fleet.forEach(VirtualDevice::close);
            work.shutdownNow();
            cloud.destroy();
            cloud.waitFor(20, TimeUnit.SECONDS);
            broker.destroy();
            broker.waitFor(10, TimeUnit.SECONDS);
            deleteTree(tmp);
        }
    }

    private static long cpuMillis(Process p) {
        return p.toHandle().info().totalCpuDuration().map(Duration::toMillis).orElse(0L);
    }

    private static void awaitCount(CloudClient ops, String selector, int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (ops.get("/api/v1/devices?selector=" + CloudClient.enc(selector)).json().get("count").asInt() < n) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only some devices registered within " + timeout);
            }
            Thread.sleep(200);
        }
    }

    private static CloudClient awaitUp(Process p, Path tmp, int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Path token = tmp.resolve("cloud/tokens/operator.token");
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the control plane exited: " + Files.readString(tmp.resolve("cloud.log")));
            }
            if (Files.exists(token)) {
                CloudClient c = new CloudClient(URI.create("http://127.0.0.1:" + port), Optional.of(Files.readString(token).strip()));
                try {
                    if (c.get("/api/v1").status() == 200) {
                        return c;
                    }
                } catch (RuntimeException e) {
                    // not yet
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the control plane did not start");
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void deleteTree(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException e) {
            // temporary files; the OS cleans up
        }
    }

    /** Waits until every device of {@code batch} is connected; throws when one is not within {@code limit}. */
    private static void awaitConnected(List<VirtualDevice> batch, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!batch.stream().allMatch(VirtualDevice::isConnected)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(batch.stream().filter(v -> !v.isConnected()).count() + " virtual devices not connected within "
                        + limit.toSeconds() + " s");
            }
            Thread.sleep(20);
        }
    }
}
