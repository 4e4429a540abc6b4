package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.edgefleet.bench.DeviceLink;
import io.edgefleet.bench.VirtualDevice;
import io.edgefleet.cloud.broker.MosquittoConfig;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.pki.PkiSettings;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.client.SyncClient;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.transport.http.HttpCredentials;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.TlsContexts;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code edgefleet rollout bench}: control planes in their own processes (so their CPU can be
 * measured), a Mosquitto it starts, and N virtual devices with their own MQTT sessions and sync
 * clients; a 3-wave rollout of a 1 MB model with zero bake, timed from creation to done. One node on
 * SQLite by default; with {@code --store postgresql --replicas N} N replicas on one PostgreSQL
 * database, optionally killing the leader with SIGKILL in a given wave. Checked from the devices'
 * side at the end: every device on the new version, exactly one command id per device and intent.
 * Baseline in the same run: the same N devices fetching the same file with one plain HTTP GET each,
 * at the same concurrency; {@code --compare-store} adds the same run on one SQLite node.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time a 3-wave rollout (zero bake, 1 MB model) to N virtual devices with real MQTT sessions and",
            "real model sync, versus N plain downloads of the same file; control-plane CPU from its own processes. Needs mosquitto."})
final class RolloutBench implements Callable<Integer> {
    @Option(names = "--devices", defaultValue = "1000", description = "Virtual devices (default ${DEFAULT-VALUE}).") int devices;
    @Option(names = "--concurrency", defaultValue = "100", description = "Devices downloading at once (default ${DEFAULT-VALUE}).") int concurrency;
    @Option(names = "--tls", description = "Run over MQTT TLS and HTTPS with a client certificate per device instead of plain text (Paho sessions, one node).")
    boolean tls;
    @Option(names = "--compare-tls", description = "Run plain text, then TLS with client certificates, and print the ratios (same invocation).")
    boolean compareTls;
    @Option(names = "--mqtt-client", defaultValue = "hivemq",
            description = "The virtual devices' MQTT client: hivemq (shared event loops) or paho (the product's session, ~4 threads each; default ${DEFAULT-VALUE}).")
    String mqttClient;
    @Option(names = "--compare-clients", description = "Run with paho, then with hivemq, and print both (same invocation).") boolean compareClients;
    @Option(names = "--store", defaultValue = "sqlite", description = "sqlite (one node, the default) or postgresql (needs --database-url).") String store;
    @Option(names = "--database-url", description = "PostgreSQL JDBC URL of a database the bench may connect to and create databases from, "
            + "e.g. jdbc:postgresql://127.0.0.1:5432/postgres; each run gets a new database.") String databaseUrl;
    @Option(names = "--database-user", defaultValue = "postgres", description = "PostgreSQL user (trust or .pgpass; default ${DEFAULT-VALUE}).") String databaseUser;
    @Option(names = "--replicas", defaultValue = "1", description = "Control-plane replicas on PostgreSQL (default ${DEFAULT-VALUE}).") int replicas;
    @Option(names = "--kill-leader-in-wave", defaultValue = "0",
            description = "SIGKILL the leading replica once the rollout is in this wave (1-3; 0: none, the default).") int killInWave;
    @Option(names = "--compare-store", description = "After the PostgreSQL run, the same run on one SQLite node, and the ratios (same invocation).")
    boolean compareStore;
    @Option(names = "--heartbeat-s", defaultValue = "60", description = {"Seconds between a device's state heartbeats (the agent's default: "
            + "${DEFAULT-VALUE}); the control planes' stale-after is three heartbeats.",
        "10,000 devices at 60 s are 167 state writes per second: more than a loaded 2-core machine ingests (docs/benchmarks.md)."})
    int heartbeatSeconds;
    @Spec
    CommandSpec spec;

    /** Lease of the replicas: duration, renew deadline, retry (ms): the documented defaults. */
    static final long[] LEASE = {5000, 3000, 1000};

    /** What one run is. */
    record Setup(boolean tls, boolean hivemq, int replicas, Optional<String> databaseUrl, String databaseUser, int killInWave) {
        String describe() {
            return (databaseUrl.isPresent() ? replicas + " replica(s) on PostgreSQL" : "one node on SQLite") + ", " + (hivemq ? "HiveMQ" : "Paho")
                    + " device sessions" + (tls ? ", MQTT over TLS and HTTPS with a client certificate per device" : ", plain MQTT and HTTP")
                    + (killInWave > 0 ? ", leader killed (SIGKILL) in wave " + killInWave : "");
        }
    }

    /** The figures of one run. */
    record Figures(Setup setup, double issueSeconds, double connectSeconds, double plainSeconds, double rolloutSeconds, double cpuSeconds,
            String state, long activated, Map<String, Long> versions, List<String> commandIdProblems, int killedInWave, double takeoverSeconds,
            DatabaseCounters.Reading database) {
        /** Completed, every device on the new version, one command id per device and intent, the kill done where asked. */
        boolean ok() {
            return state.equals("succeeded") && versions.size() == 1 && versions.containsKey("2") && commandIdProblems.isEmpty()
                    && killedInWave == setup.killInWave();
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (AgentBench.mosquitto().isEmpty()) {
            spec.commandLine().getErr().println("error: no mosquitto found (apt-get install mosquitto)");
            return Main.FAILED;
        }
        boolean postgres = switch (store) {
            case "sqlite" -> false;
            case "postgresql" -> true;
            default -> throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--store: sqlite or postgresql, got '" + store + "'");
        };
        if (postgres && databaseUrl == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--store postgresql needs --database-url");
        }
        if (!postgres && (replicas != 1 || killInWave != 0)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--replicas and --kill-leader-in-wave need --store postgresql");
        }
        if (killInWave < 0 || killInWave > 3 || (killInWave > 0 && replicas < 2)) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--kill-leader-in-wave: 1-3, with --replicas 2 or more");
        }
        if (!mqttClient.equals("hivemq") && !mqttClient.equals("paho")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--mqtt-client: hivemq or paho, got '" + mqttClient + "'");
        }
        boolean hivemq = mqttClient.equals("hivemq") && !tls && !compareTls;
        Optional<String> db = Optional.ofNullable(postgres ? databaseUrl : null);
        Setup base = new Setup(tls, hivemq, replicas, db, databaseUser, killInWave);
        if (compareTls) {
            Figures plain = run(new Setup(false, false, 1, Optional.empty(), databaseUser, 0), out);
            out.println();
            Figures secured = run(new Setup(true, false, 1, Optional.empty(), databaseUser, 0), out);
            out.printf(Locale.ROOT, "%n# TLS with client certificates vs plain text, %d devices, same invocation (load %.1f)%n", devices, load());
            ratio(out, "connect and register", plain.connectSeconds(), secured.connectSeconds(), "plain", "TLS");
            ratio(out, "rollout (3 waves)", plain.rolloutSeconds(), secured.rolloutSeconds(), "plain", "TLS");
            ratio(out, "control-plane CPU", plain.cpuSeconds(), secured.cpuSeconds(), "plain", "TLS");
            out.printf(Locale.ROOT, "certificates issued in-process for the TLS run: %.2f s%n", secured.issueSeconds());
            return plain.ok() && secured.ok() ? Main.OK : Main.FAILED;
        }
        if (compareClients) {
            Figures paho = run(new Setup(tls, false, replicas, db, databaseUser, killInWave), out);
            out.println();
            Figures hive = run(new Setup(tls, true, replicas, db, databaseUser, killInWave), out);
            out.printf(Locale.ROOT, "%n# virtual devices on HiveMQ vs Paho sessions, %d devices, same invocation (load %.1f)%n", devices, load());
            ratio(out, "connect and register", paho.connectSeconds(), hive.connectSeconds(), "Paho", "HiveMQ");
            ratio(out, "rollout (3 waves)", paho.rolloutSeconds(), hive.rolloutSeconds(), "Paho", "HiveMQ");
            ratio(out, "control-plane CPU", paho.cpuSeconds(), hive.cpuSeconds(), "Paho", "HiveMQ");
            out.printf("same result: %s (Paho %s %s, HiveMQ %s %s)%n", paho.ok() == hive.ok() && paho.versions().equals(hive.versions()),
                    paho.state(), paho.versions(), hive.state(), hive.versions());
            return paho.ok() && hive.ok() ? Main.OK : Main.FAILED;
        }
        Figures main = run(base, out);
        if (!compareStore || !postgres) {
            return main.ok() ? Main.OK : Main.FAILED;
        }
        out.println();
        Figures sqlite = run(new Setup(tls, hivemq, 1, Optional.empty(), databaseUser, 0), out);
        out.printf(Locale.ROOT, "%n# %d replicas on PostgreSQL%s vs one SQLite node, %d devices, same invocation (load %.1f)%n", replicas,
                killInWave > 0 ? " (leader killed in wave " + killInWave + ")" : "", devices, load());
        ratio(out, "rollout, create to done", sqlite.rolloutSeconds(), main.rolloutSeconds(), "SQLite", "PostgreSQL");
        ratio(out, "control-plane CPU (all processes)", sqlite.cpuSeconds(), main.cpuSeconds(), "SQLite", "PostgreSQL");
        out.printf(Locale.ROOT, "control-plane CPU per device:     SQLite %.1f ms   PostgreSQL %.1f ms%n", 1000 * sqlite.cpuSeconds() / devices,
                1000 * main.cpuSeconds() / devices);
        return main.ok() && sqlite.ok() ? Main.OK : Main.FAILED;
    }

    private static void ratio(PrintWriter out, String what, double base, double other, String baseName, String otherName) {
        out.printf(Locale.ROOT, "%-34s %s %8.2f   %s %8.2f   ratio %.2f%n", what + ":", baseName, base, otherName, other, other / Math.max(0.001, base));
    }

    static double load() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    /**
     * One run. Plain: anonymous Mosquitto over TCP, the control plane(s) over plain HTTP, sync with the
     * operator token. TLS: a secured Mosquitto ({@link MosquittoConfig}: client certificates required,
     * the certificate's CN as user, dynamic-security rights of every identity), the control plane on
     * HTTPS with its service identities on {@code ssl://}, and each device with its own certificate
     * from the control plane's CA for MQTT and for sync (mTLS).
     */
    Figures run(Setup setup, PrintWriter out) throws Exception {
        boolean secured = setup.tls();
        if (secured && setup.replicas() > 1) {
            throw new IllegalArgumentException("the TLS runs have one control plane");
        }
        Path tmp = Files.createTempDirectory("edgefleet-rollout-bench-");
        int mqttPort = BenchCloud.freePort();
        List<VirtualDevice> fleet = new ArrayList<>();
        ExecutorService work = Executors.newVirtualThreadPerTaskExecutor();
        List<Runnable> stops = new ArrayList<>();
        Process broker = null;
        BenchCloud cloud = null;
        DatabaseCounters db = null;
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
                        + "set_tcp_nodelay true\nmax_connections -1\n", mqttPort);
                operatorTls = Optional.of(CloudClient.trusting(pki.resolve("ca.pem")));
            } else {
                broker = AgentBench.startMosquitto(tmp, "listener " + mqttPort + " 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\nmax_connections -1\n",
                        mqttPort);
            }
            String url = (secured ? "ssl://" : "tcp://") + "127.0.0.1:" + mqttPort;
            Optional<BenchCloud.Database> database = Optional.empty();
            if (setup.databaseUrl().isPresent()) {
                db = DatabaseCounters.createDatabase(setup.databaseUrl().get(), setup.databaseUser());
                database = Optional.of(new BenchCloud.Database(db.jdbcUrl(), setup.databaseUser()));
            }
            // a bench stopped with Ctrl-C (SIGTERM) runs no finally block: its hook ends the processes it started
            Process startedBroker = broker;
            Thread orphans = new Thread(() -> {
                startedBroker.destroyForcibly();
                ProcessHandle.current().children().filter(c -> c.info().arguments().map(a -> String.join(" ", a).contains(tmp.toString())).orElse(false))
                        .forEach(ProcessHandle::destroyForcibly);
            }, "rollout-bench-stop");
            Runtime.getRuntime().addShutdownHook(orphans);
            stops.add(() -> {
                try {
                    Runtime.getRuntime().removeShutdownHook(orphans);
                } catch (IllegalStateException e) {
                    // the JVM is already exiting: the hook runs
                }
            });
            cloud = BenchCloud.start(tmp, setup.replicas(), database, LEASE, Duration.ofSeconds(3L * heartbeatSeconds), url, secured, operatorTls);
            CloudClient ops = cloud.api();
            Path model = SyntheticModels.denseOnnx(Files.createDirectories(tmp.resolve("model")), 512);
            out.printf(Locale.ROOT, "# rollout bench (%s): %d virtual devices, model %s (%d bytes), concurrency %d, load %.1f%n", setup.describe(),
                    devices, model.getFileName(), Files.size(model), concurrency, load());
            if (secured) {
                out.printf(Locale.ROOT, "%d device certificates (EC P-256 key, CSR, issued by the control plane's CA) in %.2f s; their TLS contexts in %.2f s%n",
                        devices, issueSeconds, contextSeconds);
            }
            CloudClient.Response pushed = ops.pushModel("dense", "2", List.of(model), List.of(), Map.of(), n -> { });
            if (!pushed.ok()) {
                throw new IllegalStateException("model push refused: " + pushed.status() + " " + new String(pushed.body(), StandardCharsets.UTF_8));
            }
            JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
            var trust = Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText()));
            var profile = DeviceCatalog.builtIn().get("raspberry-pi-4-4gb");
            // sync needs a credential: the operator token in plain text, the device's own certificate (mTLS) over TLS
            String syncToken = Files.readString(tmp.resolve("cloud/tokens/operator.token")).strip();
            List<URI> syncBases = cloud.nodes.stream().map(n -> n.base).toList();
            DeviceLink.Factory links = setup.hivemq() ? DeviceLink.hivemq("127.0.0.1", mqttPort) : DeviceLink.paho(url, Optional.empty());
            long t0 = System.nanoTime();
            for (int i = 0; i < devices; i++) {
                Path d = tmp.resolve("devices").resolve("d" + i);
                Optional<Supplier<SSLContext>> own = secured ? Optional.of(deviceTls.get(i)) : Optional.empty();
                // a client per download (and per replica: the device fails over), so that idle devices hold no HTTP client
                List<Function<ChunkStore, SyncClient>> sources = new ArrayList<>();
                for (URI syncBase : syncBases) {
                    sources.add(chunks -> new SyncClient(syncBase, chunks, trust, SyncClient.Options.defaults(),
                            own.map(HttpCredentials::tls).orElseGet(() -> HttpCredentials.none().withBearer(() -> syncToken)), Clock.systemUTC()));
                }
                fleet.add(new VirtualDevice(secured ? DeviceLink.paho(url, own) : links, "bench", "d" + i, profile, "dense", "1", sources, d, work));
            }
            // the agents' state heartbeat, spread over the fleet: a run longer than stale-after needs it
            Thread heartbeats = Thread.ofVirtual().name("bench-heartbeats").start(() -> heartbeats(fleet, heartbeatSeconds));
            stops.add(heartbeats::interrupt);
            int batchSize = setup.hivemq() ? 200 : 50;
            for (int i = 0; i < fleet.size(); i += batchSize) {
                List<VirtualDevice> batch = fleet.subList(i, Math.min(fleet.size(), i + batchSize));
                batch.forEach(VirtualDevice::connect);
                awaitConnected(batch, Duration.ofSeconds(60)); // pace the handshakes
            }
            awaitCount(ops, "fleet=bench,status=online", devices, Duration.ofSeconds(Math.max(120, devices / 10)));
            double connectSeconds = (System.nanoTime() - t0) / 1e9;
            out.printf(Locale.ROOT, "%d sessions connected and registered in %.1f s%n", devices, connectSeconds);

            double plainSeconds = plainDownloads(model, tmp, work);

            DatabaseCounters.Reading db0 = db == null ? null : db.read();
            long cpu0 = cloud.totalCpuMillis();
            long r0 = System.nanoTime();
            CloudClient.Response created = ops.post("/api/v1/rollouts", Map.of("model", "dense", "version", "2", "selector", "fleet=bench",
                    "waves", List.of(Map.of("percent", 1, "bake", "0s"), Map.of("percent", 10, "bake", "0s"), Map.of("percent", 100, "bake", "0s")),
                    "maxConcurrent", concurrency, "commandTimeout", "120s",
                    "gates", Map.of("minDevices", 0, "maxInstallFailures", 0)));
            if (!created.ok()) {
                throw new IllegalStateException("rollout refused: " + created.status() + " " + new String(created.body(), StandardCharsets.UTF_8));
            }
            String id = created.json().get("rollout").get("id").asText();
            String state;
            long lastPrint = 0;
            int killedInWave = 0;
            long killedAt = 0;
            double takeoverSeconds = 0;
            while (true) {
                // the rollout list (rows without their devices): a status with 10,000 device rows would load what it measures
                JsonNode row = null;
                try {
                    for (JsonNode r : cloud.api().get("/api/v1/rollouts").json()) {
                        if (r.get("id").asText().equals(id)) {
                            row = r;
                        }
                    }
                } catch (RuntimeException e) {
                    // the replica asked may just have been killed
                }
                if (row == null) {
                    Thread.sleep(200);
                    continue;
                }
                state = row.get("state").asText();
                if (!state.equals("running")) {
                    break;
                }
                int wave = row.get("wave").asInt();
                if (setup.killInWave() > 0 && killedInWave == 0 && wave == setup.killInWave()) {
                    Optional<BenchCloud.Node> leader = cloud.leader();
                    if (leader.isPresent()) {
                        long activated = fleet.stream().filter(v -> v.active().equals("2")).count();
                        cloud.kill(leader.get());
                        killedAt = System.nanoTime();
                        killedInWave = wave;
                        out.printf(Locale.ROOT, "  %5.1f s  wave %d: leader %s killed (SIGKILL), %d devices on the new version%n", (killedAt - r0) / 1e9,
                                wave, leader.get().instance, activated);
                    }
                }
                if (killedAt > 0 && takeoverSeconds == 0) {
                    Optional<BenchCloud.Node> now = cloud.leader();
                    if (now.isPresent()) {
                        takeoverSeconds = (System.nanoTime() - killedAt) / 1e9;
                        out.printf(Locale.ROOT, "  %5.1f s  %s leads (fencing token %d), %.1f s after the kill%n", (System.nanoTime() - r0) / 1e9,
                                now.get().instance, cloud.leaderToken(), takeoverSeconds);
                    }
                }
                if (System.nanoTime() - lastPrint > 5_000_000_000L) {
                    lastPrint = System.nanoTime();
                    out.printf(Locale.ROOT, "  %5.1f s  wave %d  %d devices on the new version (devices' side)%n", (lastPrint - r0) / 1e9, wave,
                            fleet.stream().filter(v -> v.active().equals("2")).count());
                    out.flush();
                }
                Thread.sleep(200);
            }
            double rolloutSeconds = (System.nanoTime() - r0) / 1e9;
            long cpu = cloud.totalCpuMillis() - cpu0;
            DatabaseCounters.Reading dbUsed = db == null ? null : db.read().minus(db0);
            Map<String, Long> versions = new TreeMap<>();
            fleet.forEach(v -> versions.merge(v.active(), 1L, Long::sum));
            List<String> idProblems = commandIdProblems(fleet);
            long activated = versions.getOrDefault("2", 0L);
            out.printf("rollout %s: %s, %d/%d devices on the new version; versions on the devices: %s%n", id, state, activated, devices, versions);
            out.printf("command ids (from the devices' side): %s%n", idProblems.isEmpty()
                    ? "exactly one per device and intent, received and acknowledged"
                    : idProblems.size() + " devices wrong, e.g. " + idProblems.subList(0, Math.min(5, idProblems.size())));
            out.printf(Locale.ROOT, "plain GET of the same file by every device:   %7.2f s%n", plainSeconds);
            out.printf(Locale.ROOT, "rollout, create to done (3 waves):            %7.2f s  (%.2fx the plain downloads)%n", rolloutSeconds,
                    rolloutSeconds / plainSeconds);
            out.printf(Locale.ROOT, "control-plane CPU during the rollout (%d process(es)%s): %.1f s (%.0f %% of one core), %.1f ms per device%n",
                    cloud.nodes.size(), killedInWave > 0 ? ", the killed one up to its kill" : "", cpu / 1000.0, 100.0 * cpu / 1000.0 / rolloutSeconds,
                    (double) cpu / devices);
            DatabaseCounters.describe(dbUsed, devices).ifPresent(s -> out.printf("database during the rollout: %s%n", s));
            out.printf(Locale.ROOT, "load average at the end: %.1f%n", load());
            out.flush();
            return new Figures(setup, issueSeconds, connectSeconds, plainSeconds, rolloutSeconds, cpu / 1000.0, state, activated, versions, idProblems,
                    killedInWave, takeoverSeconds, dbUsed);
        } finally {
            stops.forEach(Runnable::run);
            try (ExecutorService closing = Executors.newVirtualThreadPerTaskExecutor()) { // one close waits up to its timeout: all at once
                fleet.forEach(v -> closing.submit(v::close));
            }
            work.shutdownNow();
            if (cloud != null) {
                cloud.close();
            }
            if (broker != null) {
                broker.destroy();
                broker.waitFor(10, TimeUnit.SECONDS);
            }
            if (db != null) {
                db.drop();
            }
            deleteTree(tmp);
        }
    }

    /** Every device's {@link VirtualDevice#heartbeat()} once every {@code seconds}, spread evenly; until interrupted. */
    private static void heartbeats(List<VirtualDevice> fleet, int seconds) {
        long periodNanos = TimeUnit.SECONDS.toNanos(seconds);
        try {
            while (true) {
                long start = System.nanoTime();
                for (int i = 0; i < fleet.size(); i++) {
                    long due = start + periodNanos * (i + 1) / fleet.size();
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    fleet.get(i).heartbeat();
                }
            }
        } catch (InterruptedException e) {
            // the run is over
        }
    }

    /** Devices that did not receive and acknowledge exactly one command id for each intent, with what they got. */
    static List<String> commandIdProblems(List<VirtualDevice> fleet) {
        List<String> problems = new ArrayList<>();
        for (VirtualDevice v : fleet) {
            Map<String, Set<String>> got = v.receivedCommandIds();
            Map<String, Set<String>> acked = v.acknowledgedCommandIds();
            boolean one = !got.isEmpty() && got.values().stream().allMatch(s -> s.size() == 1) && got.equals(acked);
            if (!one) {
                problems.add(v.name() + " received " + got + " acknowledged " + acked);
            }
        }
        return problems;
    }

    /** The baseline: the same file, one plain GET per device, same concurrency; seconds. */
    private double plainDownloads(Path model, Path tmp, ExecutorService work) throws Exception {
        HttpServer plain = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        try {
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
            return (System.nanoTime() - b0) / 1e9;
        } finally {
            plain.stop(0);
        }
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
