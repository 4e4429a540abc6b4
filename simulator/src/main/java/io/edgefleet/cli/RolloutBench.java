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
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import io.edgefleet.cloud.broker.MosquittoConfig;
import io.edgefleet.cloud.pki.PkiSettings;
import io.edgefleet.transport.http.HttpCredentials;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.TlsContexts;
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
    @Option(names = "--tls", description = "Run over MQTT TLS and HTTPS with a client certificate per device instead of plain text.") boolean tls;
    @Option(names = "--compare-tls", description = "Run plain text, then TLS with client certificates, and print the ratios (same invocation).")
    boolean compareTls;
    @Spec
    CommandSpec spec;

    /** The figures of one run. */
    record Figures(boolean tls, double issueSeconds, double connectSeconds, double plainSeconds, double rolloutSeconds, double cpuSeconds,
            boolean ok) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (AgentBench.mosquitto().isEmpty()) {
            spec.commandLine().getErr().println("error: no mosquitto found (apt-get install mosquitto)");
            return Main.FAILED;
        }
        if (!compareTls) {
            return run(tls, out).ok() ? Main.OK : Main.FAILED;
        }
        Figures plain = run(false, out);
        out.println();
        Figures secured = run(true, out);
        out.printf(Locale.ROOT, "%n# TLS with client certificates vs plain text, %d devices, same invocation (load %.1f)%n", devices, load());
        out.printf(Locale.ROOT, "connect and register:  plain %7.2f s   TLS %7.2f s   ratio %.2f%n", plain.connectSeconds(), secured.connectSeconds(),
                secured.connectSeconds() / plain.connectSeconds());
        out.printf(Locale.ROOT, "rollout (3 waves):     plain %7.2f s   TLS %7.2f s   ratio %.2f%n", plain.rolloutSeconds(), secured.rolloutSeconds(),
                secured.rolloutSeconds() / plain.rolloutSeconds());
        out.printf(Locale.ROOT, "control-plane CPU:     plain %7.1f s   TLS %7.1f s   ratio %.2f%n", plain.cpuSeconds(), secured.cpuSeconds(),
                secured.cpuSeconds() / Math.max(0.001, plain.cpuSeconds()));
        out.printf(Locale.ROOT, "certificates issued in-process for the TLS run: %.2f s%n", secured.issueSeconds());
        return plain.ok() && secured.ok() ? Main.OK : Main.FAILED;
    }

    private static double load() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /**
     * One run. Plain: anonymous Mosquitto over TCP, the control plane over plain HTTP, sync with the
     * operator token. TLS: a secured Mosquitto ({@link MosquittoConfig}: client certificates required,
     * the certificate's CN as user, dynamic-security rights of every identity), the control plane on
     * HTTPS with its service identities on {@code ssl://}, and each device with its own certificate
     * from the control plane's CA for MQTT and for sync (mTLS).
     */
    private Figures run(boolean secured, PrintWriter out) throws Exception {
        Path tmp = Files.createTempDirectory("edgefleet-rollout-bench-");
        int mqttPort = freePort();
        int httpPort = freePort();
        List<VirtualDevice> fleet = new ArrayList<>();
        ExecutorService work = Executors.newVirtualThreadPerTaskExecutor();
        HttpServer plain = null;
        Process broker = null;
        Process cloud = null;
        try {
            double issueSeconds = 0;
            double contextSeconds = 0;
            List<Supplier<SSLContext>> deviceTls = new ArrayList<>();
            Optional<SSLContext> operatorTls = Optional.empty();
            if (secured) {
                // the control plane's own CA (it loads this folder on start), and a certificate per device issued in-process
                Path pki = Files.createDirectories(tmp.resolve("cloud/pki"));
                CertificateAuthority ca = CertificateAuthority.loadOrCreate(pki, "EdgeFleet device CA", PkiSettings.OWN_CA_VALIDITY);
                List<X509Certificate> trusted = List.of(ca.certificate());
                List<Identity> ids = new ArrayList<>();
                List<Map.Entry<KeyPair, X509Certificate>> issued = new ArrayList<>();
                long i0 = System.nanoTime();
                for (int i = 0; i < devices; i++) {
                    Identity id = Identity.device("bench", "d" + i);
                    KeyPair keys = KeyPairs.ecP256();
                    X509Certificate cert = ca.issue(Csr.create(keys, id), id, Duration.ofDays(1));
                    issued.add(Map.entry(keys, cert));
                    ids.add(id);
                }
                issueSeconds = (System.nanoTime() - i0) / 1e9;
                long c0 = System.nanoTime();
                for (var e : issued) {
                    SSLContext ctx = TlsContexts.of(e.getKey().getPrivate(), List.of(e.getValue()), trusted);
                    deviceTls.add(() -> ctx);
                }
                contextSeconds = (System.nanoTime() - c0) / 1e9;
                Path bdir = Files.createDirectories(tmp.resolve("broker")).toAbsolutePath();
                MosquittoConfig.writeSecurityFiles(bdir, ca, List.of("127.0.0.1"), Duration.ofDays(1), ids, Map.of());
                broker = AgentBench.startMosquitto(tmp, MosquittoConfig.securityLines("127.0.0.1", mqttPort, bdir, MosquittoConfig.DEBIAN_PLUGIN)
                        + "set_tcp_nodelay true\n", mqttPort);
                operatorTls = Optional.of(CloudClient.trusting(pki.resolve("ca.pem")));
            } else {
                broker = AgentBench.startMosquitto(tmp, "listener " + mqttPort + " 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\n", mqttPort);
            }
            String url = (secured ? "ssl://" : "tcp://") + "127.0.0.1:" + mqttPort;
            String scheme = secured ? "https" : "http";
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-Xmx2g", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "cloud",
                    "--data-dir", tmp.resolve("cloud").toString(), "--http-port", Integer.toString(httpPort), "--mqtt", url,
                    "--rollout-tick-ms", "200"));
            if (!secured) {
                cmd.add("--plain-http");
            }
            cloud = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("cloud.log").toFile()).start();
            CloudClient ops = awaitUp(cloud, tmp, URI.create(scheme + "://127.0.0.1:" + httpPort), operatorTls);
            Path model = SyntheticModels.denseOnnx(Files.createDirectories(tmp.resolve("model")), 512);
            out.printf(Locale.ROOT, "# rollout bench (%s): %d virtual devices, model %s (%d bytes), concurrency %d, load %.1f%n",
                    secured ? "MQTT over TLS and HTTPS, a client certificate per device; messages not signed" : "plain text: MQTT over TCP, HTTP",
                    devices, model.getFileName(), Files.size(model), concurrency, load());
            if (secured) {
                out.printf(Locale.ROOT, "%d device certificates (EC P-256 key, CSR, issued by the control plane's CA) in %.2f s; their TLS contexts in %.2f s%n",
                        devices, issueSeconds, contextSeconds);
            }
            CloudClient.Response pushed = ops.pushModel("dense", "2", List.of(model), List.of(), Map.of(), n -> { });
            if (!pushed.ok()) {
                throw new IllegalStateException("model push refused: " + pushed.status() + " " + new String(pushed.body(), java.nio.charset.StandardCharsets.UTF_8));
            }
            JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
            var trust = Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText()));
            var profile = DeviceCatalog.builtIn().get("raspberry-pi-4-4gb");
            // sync needs a credential: the operator token in plain text, the device's own certificate (mTLS) over TLS
            String syncToken = Files.readString(tmp.resolve("cloud/tokens/operator.token")).strip();
            URI syncBase = URI.create(scheme + "://127.0.0.1:" + httpPort);
            long t0 = System.nanoTime();
            for (int i = 0; i < devices; i++) {
                Path d = tmp.resolve("devices").resolve("d" + i);
                var credentials = secured ? HttpCredentials.tls(deviceTls.get(i)) : HttpCredentials.none().withBearer(() -> syncToken);
                VirtualDevice v = new VirtualDevice(url, secured ? Optional.of(deviceTls.get(i)) : Optional.empty(), "bench", "d" + i, profile, "dense",
                        "1", store -> new SyncClient(syncBase, store, trust, SyncClient.Options.defaults(), credentials, Clock.systemUTC()), d, work);
                fleet.add(v);
            }
            for (int i = 0; i < fleet.size(); i += 50) {
                List<VirtualDevice> batch = fleet.subList(i, Math.min(fleet.size(), i + 50));
                batch.forEach(VirtualDevice::connect);
                awaitConnected(batch, Duration.ofSeconds(60)); // pace the handshakes
            }
            awaitCount(ops, "fleet=bench,status=online", devices, Duration.ofSeconds(120));
            double connectSeconds = (System.nanoTime() - t0) / 1e9;
            out.printf(Locale.ROOT, "%d sessions connected and registered in %.1f s%n", devices, connectSeconds);

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
                throw new IllegalStateException("rollout refused: " + created.status() + " " + new String(created.body(), java.nio.charset.StandardCharsets.UTF_8));
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
                    out.printf(Locale.ROOT, "  %5.1f s  wave %d  %s%n", (lastPrint - r0) / 1e9, st.get("currentWave").asInt(), st.get("waves"));
                    out.flush();
                }
                Thread.sleep(100);
            }
            double rolloutSeconds = (System.nanoTime() - r0) / 1e9;
            long cpu = cpuMillis(cloud) - cpu0;
            long activated = fleet.stream().filter(v -> v.active().equals("2")).count();
            out.printf("rollout %s: %s, %d/%d devices on the new version%n", id, state, activated, devices);
            out.printf(Locale.ROOT, "plain GET of the same file by every device:   %7.2f s%n", plainSeconds);
            out.printf(Locale.ROOT, "rollout, create to all activated (3 waves):   %7.2f s  (%.2fx the plain downloads)%n", rolloutSeconds,
                    rolloutSeconds / plainSeconds);
            out.printf(Locale.ROOT, "control-plane CPU during the rollout: %.1f s (%.0f %% of one core), %.1f ms per device%n", cpu / 1000.0,
                    100.0 * cpu / 1000.0 / rolloutSeconds, (double) cpu / devices);
            out.flush();
            return new Figures(secured, issueSeconds, connectSeconds, plainSeconds, rolloutSeconds, cpu / 1000.0,
                    state.equals("succeeded") && activated == devices);
        } finally {
            if (plain != null) {
                plain.stop(0);
            }
            try (ExecutorService closing = Executors.newVirtualThreadPerTaskExecutor()) { // one close waits up to its timeout: all at once
                fleet.forEach(v -> closing.submit(v::close));
            }
            work.shutdownNow();
            if (cloud != null) {
                cloud.destroy();
                cloud.waitFor(20, TimeUnit.SECONDS);
            }
            if (broker != null) {
                broker.destroy();
                broker.waitFor(10, TimeUnit.SECONDS);
            }
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

    private static CloudClient awaitUp(Process p, Path tmp, URI base, Optional<SSLContext> tls) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Path token = tmp.resolve("cloud/tokens/operator.token");
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the control plane exited: " + Files.readString(tmp.resolve("cloud.log")));
            }
            if (Files.exists(token)) {
                CloudClient c = new CloudClient(base, Optional.of(Files.readString(token).strip()), tls);
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
