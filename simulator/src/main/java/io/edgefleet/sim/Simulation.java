package io.edgefleet.sim;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.mqtt.MqttLink;
import io.edgefleet.agent.serving.EscalationPolicy;
import io.edgefleet.agent.serving.Failure;
import io.edgefleet.agent.serving.OverloadedException;
import io.edgefleet.agent.slots.ModelNotReadyException;
import io.edgefleet.agent.slots.ModelNotServedException;
import io.edgefleet.agent.slots.Watchdog;
import io.edgefleet.cloud.CloudConfig;
import io.edgefleet.cloud.ControlPlane;
import io.edgefleet.cloud.Role;
import io.edgefleet.cloud.api.Token;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.fleet.Selector;
import io.edgefleet.cloud.rollout.RolloutStore;
import io.edgefleet.cloud.store.Aggregate;
import io.edgefleet.engines.EngineBusyException;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.InferenceFailedException;
import io.edgefleet.engines.InvalidInputException;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import io.edgefleet.sync.signing.Keys;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs a {@link Scenario}: a broker (embedded HiveMQ CE, Mosquitto, or one already running), the
 * real control plane in this JVM (all roles), and a fleet of real edge agents in lightweight mode
 * (own MQTT session, data folder, model slots and sync client each; no HTTP server unless the
 * scenario asks; requests are made in-process through the agent's inference service, the path
 * every protocol takes). Devices hit by network faults are wired through a {@link TcpLink} (MQTT)
 * and every device's model sync through a {@link SyncLink}, which counts the bytes. Steps run in
 * order, faults strike on their schedule, one sample per second feeds the report's timeline.
 */
public final class Simulation implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Simulation.class.getName());
    private static final Set<String> TERMINAL = Set.of("succeeded", "rolled-back", "aborted");

    /**
     * @param out folder for the report and the run's data ({@code out/work})
     * @param console terminal output (progress and summary)
     * @param live redraw one progress line in place (a terminal); otherwise a status line every 10 s
     */
    public record Options(Path out, PrintWriter console, boolean live) {
    }

    private final Scenario sc;
    private final Options opt;
    private final Path work;
    private final ActivityModels models;
    private final ActivityModels.InputSet inputs;
    private final Map<String, ActivityModels.Kind> kinds = new ConcurrentHashMap<>();
    private final Map<String, Long> fileSizes = new ConcurrentHashMap<>();
    private final Map<ActivityModels.Kind, Double> edgeAccuracy = new ConcurrentHashMap<>();
    private final List<SimDevice> devices = new ArrayList<>();
    private final Map<Set<Integer>, LinkGroup> links = new HashMap<>();
    private final Map<Integer, List<SimDevice>> targets = new HashMap<>();
    private final List<FaultRun> faultRuns = new CopyOnWriteArrayList<>();
    private final List<Report.Sample> timeline = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, List<RolloutStore.DeviceRow>> rolloutDevices = new ConcurrentHashMap<>();
    private final Stats stats = new Stats();
    private final Answers answers = new Answers();
    private final List<Report.ExperimentResult> experiments = new CopyOnWriteArrayList<>();
    /** While an experiment splits by key: each request carries its input's index as {@code edgefleet.split_key}. */
    private volatile boolean splitKeys;
    private final ScheduledExecutorService clock = Executors.newScheduledThreadPool(2, r -> Thread.ofPlatform().daemon().name("sim-clock").unstarted(r));
    /** Requests run on virtual threads (a cloud-answered request waits on HTTP); at most this many at once. */
    private static final int MAX_IN_FLIGHT = 256;
    private final ExecutorService load = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("sim-load-", 0).factory());
    private final java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(MAX_IN_FLIGHT);
    private final AtomicLong shed = new AtomicLong();
    private final ExecutorService faultThreads = Executors.newVirtualThreadPerTaskExecutor();
    private Broker broker;
    private ControlPlane cp;
    private CloudClient ops;
    private long t0;
    private Instant startedAt;
    private volatile boolean brokerUp = true;
    private volatile boolean loadOn;
    private volatile String step;
    private volatile String rollout;
    private volatile String progressLine = "";
    private long lastPrinted;

    /** A link group: the devices that share a set of link faults. */
    record LinkGroup(Set<Integer> faults, Optional<TcpLink> mqtt, SyncLink sync) {
    }

    /** One simulated device: a real agent and what the simulator counts about it. */
    final class SimDevice {
        final int index;
        final String id;
        final String profile;
        final LinkGroup link;
        final AtomicLong recorded = new AtomicLong();
        /** What kills may lose at most: requests recorded within an open telemetry window before each kill. */
        final AtomicLong lostOnKilledBound = new AtomicLong();
        /** (nanoTime, requests recorded before it), about every 100 ms, pruned past {@link #openWindowNanos()}. */
        private final java.util.concurrent.ConcurrentLinkedDeque<long[]> history = new java.util.concurrent.ConcurrentLinkedDeque<>();
        volatile EdgeAgent agent;
        volatile boolean killed;
        volatile boolean everKilled;
        /** Added to each request's features while an input-drift fault acts on this device; null otherwise. */
        volatile float[] inputShift;
        /** The experiment the device's last split answer named ({@code edgefleet.experiment}); null before any. */
        volatile String experiment;
        double credit;
        long sent;

        SimDevice(int index, String id, String profile, LinkGroup link) {
            this.index = index;
            this.id = id;
            this.profile = profile;
            this.link = link;
        }

        AgentConfig config() {
            AgentConfig c = AgentConfig.defaults(work.resolve("devices").resolve(id))
                    .withHttp("127.0.0.1", sc.fleet().http() ? 0 : -1).withCoapPort(-1)
                    .withIdentity(sc.fleet().name(), id).withProfile(profile, EngineOptions.defaults())
                    // the group's TCP proxy relays bytes: TLS passes through it, the certificate names 127.0.0.1
                    .withMqtt(link.mqtt().map(l -> (secured() ? "ssl" : "tcp") + "://127.0.0.1:" + l.port()).orElse(broker.url()))
                    .withSync(new AgentConfig.Sync(link.sync().uri(), trust))
                    // sync (through the group's proxy) and escalation authenticate with the simulator's token
                    .withTls(io.edgefleet.agent.AgentTls.none().withCloud(io.edgefleet.transport.http.HttpCredentials.tls(() -> cloudTls)
                            .withBearer(() -> cloudToken)))
                    // central logs off: the simulated devices share one JVM's loggers, so each would forward every device's records
                    .withTelemetry(new AgentConfig.Telemetry(sc.fleet().telemetryWindow(), 100_000, sc.fleet().heartbeat(),
                            io.edgefleet.agent.logs.CentralLogs.off()))
                    // on a shared 2-core host latency swings; latency alone must not roll versions back here
                    .withWatchdog(new Watchdog.Limits(Duration.ofMinutes(2), 20, 0.2, 0.0, 50.0))
                    .withMaxLatencyFactor(50.0)
                    // identical model bytes are verified in a child JVM once for the whole simulated fleet
                    .withIsolation(io.edgefleet.engines.isolation.IsolationOptions.defaults().withSharedVerdicts(true))
                    .withQueue(1, 256);
            if (enrolmentToken != null) {
                // first start: enrols with the fleet's token (key pair made here, CSR, certificate in data/identity);
                // a restart after a kill loads that identity and uses no token
                c = c.withEnrolment(io.edgefleet.agent.identity.EnrolmentSettings.of(cp.baseUri(), Optional.of(enrolmentToken)));
            }
            if (sc.escalation().threshold().isPresent()) {
                c = c.withEscalation(new AgentConfig.Escalation(cp.baseUri(),
                        Map.of(sc.model().name(), new EscalationPolicy(EscalationPolicy.Measure.MAX_PROBABILITY, sc.escalation().threshold().getAsDouble(),
                                sc.escalation().maxShare(), sc.escalation().deadline(), Optional.of(sc.model().cloudName()))),
                        3, Duration.ofSeconds(5)));
            }
            return c;
        }

        void start() {
            EdgeAgent a = EdgeAgent.start(config());
            sc.fleet().shadowShare().ifPresent(share -> a.shadow().configure(io.edgefleet.agent.shadow.ShadowRunner.Settings.defaults()
                    .withShare(share)));
            history.addLast(new long[] {System.nanoTime(), recorded.get()});
            a.addObservationListener(o -> sample(recorded.incrementAndGet()));
            agent = a;
            killed = false;
        }

        private void sample(long count) {
            long now = System.nanoTime();
            long[] last = history.peekLast();
            if (last == null || now - last[0] > 100_000_000L) {
                history.addLast(new long[] {now, count - 1});
                long horizon = now - 2 * openWindowNanos();
                while (history.size() > 2 && history.peekFirst()[0] < horizon) {
                    history.pollFirst();
                }
            }
        }

        /**
         * How far back a kill can lose requests: the agent's open telemetry window (the window, plus
         * one tick of its telemetry loop, {@code window / 4} capped at 1 s, before a finished window is
         * written to the outbox), plus 2 s for a loop delayed on a busy host.
         */
        long openWindowNanos() {
            long windowMillis = sc.fleet().telemetryWindow().toMillis();
            return TimeUnit.MILLISECONDS.toNanos(windowMillis + Math.max(10, Math.min(1000, windowMillis / 4)) + 2000);
        }

        void crash() {
            long from = System.nanoTime() - openWindowNanos();
            killed = true;
            everKilled = true;
            EdgeAgent a = agent;
            agent = null;
            if (a != null) {
                a.crash();
            }
            // counted once the agent is down: requests in flight at the kill still record into the window it loses
            long base = history.peekFirst() == null ? 0 : history.peekFirst()[1];
            for (long[] h : history) {
                if (h[0] <= from) {
                    base = h[1];
                }
            }
            lostOnKilledBound.addAndGet(recorded.get() - base);
        }

        String version() {
            EdgeAgent a = agent;
            if (a == null) {
                return "down";
            }
            return a.slots().activeVersions().getOrDefault(sc.model().name(), "-");
        }

        boolean connected() {
            EdgeAgent a = agent;
            return a != null && a.mqtt().map(MqttLink::isConnected).orElse(false);
        }
    }

    private Map<String, java.security.PublicKey> trust;
    /** Trusts the control plane's CA (its HTTPS certificate). */
    private volatile javax.net.ssl.SSLContext cloudTls;
    private volatile String cloudToken;
    /** The fleet's enrolment token (secured runs), good for one use per device. */
    private volatile String enrolmentToken;
    private volatile String enrolmentTokenId;

    public Simulation(Scenario scenario, Options options) {
        this.sc = scenario;
        this.opt = options;
        this.work = options.out().resolve("work");
        this.models = new ActivityModels(scenario.seed());
        this.inputs = ActivityModels.InputSet.of(models, scenario.load().inputs(), scenario.seed() + 1);
    }

    /** The answers the simulated clients received so far, by the {@code model_version} that gave them (from each answer). */
    public Map<String, Long> answersByVersion() {
        return answers.byVersion();
    }

    /** Runs the scenario to its end and writes {@code report.json} and {@code report.html} into the output folder. */
    public Report run() throws Exception {
        Files.createDirectories(work);
        t0 = System.nanoTime();
        startedAt = Instant.now();
        say("simulation '%s': %d devices, %d steps, %d faults; output in %s", sc.name(), sc.fleet().size(), sc.steps().size(), sc.faults().size(),
                opt.out());
        broker = startBroker();
        quietAgents();
        say("broker: %s", broker.describe());
        String token = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
        CloudConfig config = CloudConfig.defaults(work.resolve("cloud")).withHttp("127.0.0.1", 0).withRoles(EnumSet.allOf(Role.class))
                .withMqtt(broker.url()).withRolloutTick(Duration.ofMillis(200)).withBucket(Duration.ofSeconds(1))
                .withTokens(List.of(new Token("simulator", Token.Role.OPERATOR, token)));
        if (secured()) {
            // the control plane's sessions use its cloud-control / cloud-ingest identities for the ssl:// broker;
            // state, telemetry and acks count only when signed by the enrolled device the topic names
            config = config.withSenders(io.edgefleet.cloud.sender.SenderSettings.required());
        }
        // drift (docs/drift.md): agent windows merged into judging windows of 10 telemetry windows, so a simulated fleet's
        // few requests per window still reach the 200 values a window needs to be judged
        Duration tw = sc.fleet().telemetryWindow();
        cp = ControlPlane.start(config, java.time.Clock.systemUTC(), io.edgefleet.cloud.pki.Revocations.none(),
                io.edgefleet.transport.tracing.Tracing.off(), new io.edgefleet.cloud.drift.DriftSettings(10, 0.2, 3, 200, 20,
                        tw.multipliedBy(2).plusSeconds(2), 4096, tw.multipliedBy(10)));
        if (secured()) {
            EmbeddedBroker eb = (EmbeddedBroker) broker;
            // a revocation disconnects the device at the broker at once; the broker's check keeps it out
            cp.pki().onRevocation(r -> eb.revocation().ifPresent(b -> b.revoke(r.identity())));
            var created = cp.pki().tokens().create(sc.fleet().name(), Optional.empty(), Math.max(1, sc.fleet().size()), Duration.ofHours(1),
                    "simulator");
            enrolmentToken = created.token();
            enrolmentTokenId = created.info().id();
        }
        cloudToken = token;
        cloudTls = io.edgefleet.transport.pki.TlsContexts.trusting(List.of(cp.certificateAuthority().certificate()));
        ops = new CloudClient(cp.baseUri(), Optional.of(token), Optional.of(cloudTls));
        say("control plane: %s (roles control, ingest, inference)", cp.baseUri());
        register(sc.model().cloudName(), "1", sc.model().cloudKind());
        JsonNode key = ops.get("/api/v1/keys").json().get("keys").get(0);
        trust = Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText()));
        wireDevices();
        startDevices();
        clock.scheduleAtFixedRate(this::sample, 1000, 1000, TimeUnit.MILLISECONDS);
        clock.scheduleAtFixedRate(this::drive, 100, 100, TimeUnit.MILLISECONDS);
        loadOn = true;
        sc.faults().stream().filter(f -> f.step().isEmpty()).forEach(this::schedule);
        List<Report.StepResult> steps = new ArrayList<>();
        long deadline = t0 + sc.maxDuration().toNanos();
        for (Scenario.Step s : sc.steps()) {
            if (System.nanoTime() > deadline) {
                say("the scenario's duration (%s) is over: steps from %s on are skipped", Report.secs(sc.maxDuration()), s.name());
                break;
            }
            step = s.name();
            sc.faults().stream().filter(f -> f.step().equals(Optional.of(s.name()))).forEach(this::schedule);
            steps.add(switch (s) {
                case Scenario.Register r -> registerStep(r);
                case Scenario.Rollout r -> rolloutStep(r);
                case Scenario.Wait w -> waitStep(w);
                case Scenario.Experiment e -> experimentStep(e);
            });
        }
        step = "drain";
        awaitFaults();
        loadOn = false;
        load.shutdown();
        load.awaitTermination(30, TimeUnit.SECONDS);
        Report.Telemetry tm = drainTelemetry();
        sample();
        Report report = build(steps, tm);
        Path json = report.writeJson(opt.out().resolve("report.json"));
        Path html = ReportHtml.write(report, opt.out().resolve("report.html"));
        clearLine();
        opt.console().print(report.summary(html));
        LOG.log(System.Logger.Level.DEBUG, "report written to {0}", json);
        return report;
    }

    // ---- setup

    /** The embedded broker runs secured: TLS, client certificates from the control plane's CA, per-identity topic rights. */
    private boolean secured() {
        return sc.broker().equals("embedded");
    }

    private Broker startBroker() throws IOException {
        return switch (sc.broker()) {
            case "embedded" -> startSecuredBroker(work.resolve("broker"), freePort());
            case "mosquitto" -> MosquittoBroker.start(work.resolve("broker"), freePort());
            default -> new MosquittoBroker.External(sc.broker());
        };
    }

    /**
     * The control plane's CA (created in {@code work/cloud/pki} now; the control plane loads the same one
     * from there), a server certificate for 127.0.0.1 from it, and the embedded broker with TLS, required
     * client certificates and {@link BrokerSecurity}. Restarting the broker (a fault) reuses its key stores:
     * same port, same certificates. Revocations are asked of the control plane's registry; before the control
     * plane is up only service identities get in (fail closed for devices).
     */
    private Broker startSecuredBroker(Path dir, int port) {
        io.edgefleet.transport.pki.CertificateAuthority ca = io.edgefleet.cloud.pki.DevicePki.authority(io.edgefleet.cloud.pki.PkiSettings.defaults(),
                work.resolve("cloud").resolve("pki"));
        java.security.KeyPair keys = io.edgefleet.transport.pki.KeyPairs.ecP256();
        java.security.cert.X509Certificate cert = ca.issueServer(keys.getPublic(), io.edgefleet.transport.pki.Identity.service("mqtt-broker"),
                List.of("127.0.0.1", "localhost"), Duration.ofDays(30));
        return EmbeddedBroker.startSecured(dir, port, new EmbeddedBroker.Tls(keys.getPrivate(), List.of(cert), List.of(ca.certificate()), c -> {
            ControlPlane p = cp;
            if (p == null || p.pki() == null) {
                return io.edgefleet.transport.pki.Certificates.identity(c).isDevice();
            }
            return p.pki().isRevoked(c.getSerialNumber());
        }));
    }

    /** Fifty agents logging each connect and activation drown the progress; the report and the timeline say it instead. */
    private static final List<java.util.logging.Logger> QUIET = new CopyOnWriteArrayList<>();

    private static void quietAgents() {
        for (String name : List.of("io.edgefleet.agent", "io.edgefleet.engines", "io.edgefleet.sync", "io.edgefleet.cloud.inference",
                "io.edgefleet.cloud.mqtt", "io.edgefleet.cloud.registry")) {
            java.util.logging.Logger l = java.util.logging.Logger.getLogger(name);
            l.setLevel(java.util.logging.Level.WARNING);
            QUIET.add(l); // JUL holds loggers weakly: keep them, with their level
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Picks each fault's devices (deterministic in the seed) and wires each device through its link group. */
    private void wireDevices() throws IOException {
        int n = sc.fleet().size();
        for (Scenario.Fault f : sc.faults()) {
            if (f.type() == Scenario.FaultType.BROKER_RESTART) {
                continue;
            }
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                order.add(i);
            }
            Collections.shuffle(order, new Random(sc.seed() * 31 + f.index()));
            int k = (int) Math.max(1, Math.round(f.share() * n));
            targets.put(f.index(), new ArrayList<>());
            faultTargets.put(f.index(), new TreeSet<>(order.subList(0, k)));
        }
        InetSocketAddress brokerAddress = new InetSocketAddress("127.0.0.1", URI.create(broker.url()).getPort());
        URI cloud = cp.baseUri();
        int i = 0;
        for (Scenario.Group g : sc.fleet().groups()) {
            for (int c = 0; c < g.count(); c++, i++) {
                Set<Integer> mine = new TreeSet<>();
                for (Scenario.Fault f : sc.faults()) {
                    if (f.type().onLink() && faultTargets.get(f.index()).contains(i)) {
                        mine.add(f.index());
                    }
                }
                LinkGroup link = links.get(mine);
                if (link == null) {
                    link = new LinkGroup(mine, mine.isEmpty() ? Optional.empty() : Optional.of(new TcpLink("g" + links.size(), brokerAddress)),
                            new SyncLink(cloud, Optional.of(cloudTls)));
                    links.put(mine, link);
                }
                SimDevice d = new SimDevice(i, String.format(Locale.ROOT, "dev-%04d", i), g.profile(), link);
                devices.add(d);
                for (Scenario.Fault f : sc.faults()) {
                    if (faultTargets.containsKey(f.index()) && faultTargets.get(f.index()).contains(i)) {
                        targets.get(f.index()).add(d);
                    }
                }
            }
        }
    }

    private final Map<Integer, Set<Integer>> faultTargets = new HashMap<>();

    private void startDevices() throws Exception {
        long s = System.nanoTime();
        ExecutorService starters = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors() * 2));
        AtomicLong done = new AtomicLong();
        List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
        for (SimDevice d : devices) {
            fs.add(starters.submit(() -> {
                d.start();
                progress("starting devices " + bar(done.incrementAndGet(), devices.size()));
            }));
        }
        for (var f : fs) {
            f.get();
        }
        starters.shutdown();
        Selector online = Selector.parse("fleet=" + sc.fleet().name() + ",status=online");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60 + devices.size() / 10);
        while (cp.fleet().select(online).size() < devices.size() && System.nanoTime() < until) {
            progress("devices online " + bar(cp.fleet().select(online).size(), devices.size()));
            Thread.sleep(200);
        }
        say("%d devices started and online in %.1f s (%d link groups)", cp.fleet().select(online).size(), (System.nanoTime() - s) / 1e9, links.size());
    }

    // ---- steps

    private void register(String model, String version, ActivityModels.Kind kind) {
        register(model, version, kind, 0);
    }

    private void register(String model, String version, ActivityModels.Kind kind, double disagree) {
        Path file = models.write(work.resolve("models").resolve(model + "-" + version), model, kind, disagree);
        List<String> profiles = sc.fleet().groups().stream().map(Scenario.Group::profile).distinct().toList();
        CloudClient.Response r = ops.pushModel(model, version, List.of(file), profiles, Map.of("kind", kind.name().toLowerCase(Locale.ROOT)), n -> { });
        if (r.status() != 201) {
            throw new IllegalStateException("registering " + model + " v" + version + " failed: " + r.status() + " " + r.text());
        }
        postDriftReference(model, version);
        try {
            fileSizes.put(model + "@" + version, Files.size(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Records the version's drift reference from the scenario's input set (the operator's path: the API with an Open
     * Inference Protocol body of the samples stacked on axis 0). A refusal is logged; the run goes on without drift.
     */
    private void postDriftReference(String model, String version) {
        float[] all = new float[inputs.size() * ActivityModels.FEATURES];
        for (int i = 0; i < inputs.size(); i++) {
            System.arraycopy(inputs.inputs()[i], 0, all, i * ActivityModels.FEATURES, ActivityModels.FEATURES);
        }
        byte[] body = io.edgefleet.protocols.oip.OipCodec.create().encodeRequest(InferRequest.of(new InferTensor("x",
                TensorData.ofFloats(new long[] {inputs.size(), ActivityModels.FEATURES}, all))), false).body();
        CloudClient.Response r = ops.raw("POST", "/api/v1/models/" + model + "/versions/" + version + "/drift/reference", "application/json", body);
        if (r.status() != 201) {
            LOG.log(System.Logger.Level.WARNING, "drift reference of {0} v{1} refused: {2} {3}", model, version, r.status(), r.text());
        }
    }

    /** Per feature, the standard deviation of the input set (what an input-drift fault's shift is measured in). */
    private float[] featureStd() {
        float[] out = new float[ActivityModels.FEATURES];
        for (int f = 0; f < out.length; f++) {
            double sum = 0;
            double sq = 0;
            for (float[] x : inputs.inputs()) {
                sum += x[f];
                sq += (double) x[f] * x[f];
            }
            double mean = sum / inputs.size();
            out[f] = (float) Math.sqrt(Math.max(0, sq / inputs.size() - mean * mean));
        }
        return out;
    }

    private Report.StepResult registerStep(Scenario.Register r) {
        double s = now();
        register(sc.model().name(), r.version(), r.kind(), r.disagree());
        kinds.put(r.version(), r.kind());
        String kind = r.kind().name().toLowerCase(Locale.ROOT) + (r.disagree() > 0 ? String.format(Locale.ROOT, ", disagreeing on %.0f %%",
                r.disagree() * 100) : "");
        say("%s: registered %s v%s (%s, %s)", r.name(), sc.model().name(), r.version(), kind, Report.mb(fileSizes.get(sc.model().name() + "@" + r.version())));
        return Report.StepResult.plain(r.name(), "register", s, now(), Optional.of(r.version()), Optional.of(kind));
    }

    private Report.StepResult waitStep(Scenario.Wait w) throws InterruptedException {
        double s = now();
        long until = System.nanoTime() + w.time().toNanos();
        while (System.nanoTime() < until) {
            progress(w.name() + " " + bar(System.nanoTime() - (until - w.time().toNanos()), w.time().toNanos()));
            Thread.sleep(250);
        }
        return Report.StepResult.plain(w.name(), "wait", s, now(), Optional.empty(), Optional.empty());
    }

    private Report.StepResult rolloutStep(Scenario.Rollout r) throws Exception {
        double s = now();
        long bytes0 = syncBytes();
        long corrupted0 = corrupted();
        long answered0 = answers.withVersion(r.version());
        int lastShadowWave = ShadowReadout.shadowWaves(r.spec()).stream().mapToInt(Integer::intValue).max().orElse(0);
        long answeredInShadow = -1; // answers with the candidate by the first look after its shadow waves ended
        CloudClient.Response created = ops.raw("POST", "/api/v1/rollouts", "application/json", Report.JSON.writeValueAsBytes(r.spec()));
        if (created.status() != 201) {
            throw new IllegalStateException(r.name() + ": the control plane refused the rollout: " + created.status() + " " + created.text());
        }
        String id = created.json().get("rollout").get("id").asText();
        rollout = id;
        say("%s: rollout %s of v%s started (%d waves)", r.name(), id, r.version(), r.spec().path("waves").size());
        long until = System.nanoTime() + r.timeout().toNanos();
        RolloutStore.RolloutRow row = cp.rollouts().get(id).orElseThrow();
        List<Report.WaveSample> activations = new ArrayList<>();
        while (!TERMINAL.contains(row.state().wire()) && !(row.state().wire().equals("paused") && r.expect().equals(Optional.of("paused")))
                && System.nanoTime() < until) {
            Thread.sleep(250);
            row = cp.rollouts().get(id).orElseThrow();
            if (answeredInShadow < 0 && Report.waveNumber(row.wave()) > lastShadowWave) {
                answeredInShadow = answers.withVersion(r.version()) - answered0;
            }
            Map<Integer, Map<String, Long>> waves = cp.rollouts().waves(id);
            activations.add(new Report.WaveSample(Math.round(now() * 10) / 10.0, activatedByWave(waves)));
            Map<String, Long> st = states(waves);
            progress(String.format(Locale.ROOT, "%s wave %d/%d %s %s", r.name(), Report.waveNumber(row.wave()), r.spec().path("waves").size(),
                    bar(st.getOrDefault("activated", 0L), st.values().stream().mapToLong(Long::longValue).sum()), row.state().wire()));
        }
        if (!TERMINAL.contains(row.state().wire()) && !row.state().wire().equals("paused")) {
            say("%s: not finished after %s; aborting it", r.name(), Report.secs(r.timeout()));
            cp.rollouts().operate(id, "abort", "simulator", "scenario step timed out");
            row = cp.rollouts().get(id).orElseThrow();
        }
        rollout = null;
        List<RolloutStore.DeviceRow> rows = cp.rollouts().devices(id);
        rolloutDevices.put(id, rows);
        // Read after the rollout's final state: the last wave's activations, which the per-second timeline may not have caught.
        Map<Integer, Map<String, Long>> waves = cp.rollouts().waves(id);
        activations.add(new Report.WaveSample(Math.round(now() * 10) / 10.0, activatedByWave(waves)));
        List<Report.WaveResult> wr = new ArrayList<>();
        waves.forEach((w, m) -> wr.add(new Report.WaveResult(Report.waveNumber(w), m.values().stream().mapToLong(Long::longValue).sum(),
                new TreeMap<>(m))));
        List<Report.Gate> gates = new ArrayList<>();
        for (RolloutStore.LogRow l : cp.rollouts().logs(id)) {
            if (l.kind().startsWith("gate-")) {
                gates.add(new Report.Gate((l.at().toEpochMilli() - startedAt.toEpochMilli()) / 1000.0, Report.waveNumber(l.wave()),
                        l.kind().equals("gate-passed"), l.detail()));
            }
        }
        long activated = rows.stream().filter(d -> d.state().wire().equals("activated") || d.state().wire().equals("rolled-back") || d.state().wire().equals("rolling-back"))
                .filter(d -> d.activatedAt().isPresent()).count();
        long variant = fileSizes.getOrDefault(sc.model().name() + "@" + r.version(), 0L);
        long fetched = syncBytes() - bytes0;
        Report.Sync sync = new Report.Sync(fetched, variant, activated, variant * activated,
                activated == 0 ? 0 : (double) fetched / (variant * activated), corrupted() - corrupted0);
        Optional<Integer> stopped = row.state().wire().equals("succeeded") ? Optional.empty() : Optional.of(Report.waveNumber(row.wave()));
        say("%s: %s after %.1f s%s", r.name(), row.state().wire(), now() - s, row.reason().map(x -> " (" + x + ")").orElse(""));
        Optional<Report.Shadow> shadow = ShadowReadout.shadowWaves(r.spec()).isEmpty() ? Optional.empty()
                : ShadowReadout.read(r.spec(), ops.get("/api/v1/rollouts/" + id).json(), gates, row.state().wire(), stopped,
                        answeredInShadow >= 0 ? answeredInShadow : answers.withVersion(r.version()) - answered0);
        shadow.ifPresent(x -> say("%s: %s", r.name(), Report.shadowLine(x)));
        return new Report.StepResult(r.name(), "rollout", s, now(), Optional.of(r.version()),
                Optional.ofNullable(kinds.get(r.version())).map(k -> k.name().toLowerCase(Locale.ROOT)), Optional.of(id), Optional.of(row.state().wire()),
                row.reason(), stopped, wr, gates, Optional.of(sync), activations, gatesInForce(row), shadow);
    }

    /**
     * Starts an A/B experiment on the fleet (docs/ab.md), lets the load run through both arms for its duration, stops it,
     * waits until the control plane has ingested the arms' last windows (two reads a telemetry window plus a second apart
     * with the same counts, at most 20 s), and reads the comparison.
     */
    private Report.StepResult experimentStep(Scenario.Experiment e) throws Exception {
        double s = now();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", sc.model().name());
        body.put("candidate", e.version());
        body.put("share", e.share());
        body.put("splitBy", e.splitBy());
        body.put("selector", "fleet=" + sc.fleet().name());
        splitKeys = e.splitBy().equals("key");
        CloudClient.Response created = ops.raw("POST", "/api/v1/experiments", "application/json", Report.JSON.writeValueAsBytes(body));
        if (created.status() != 201) {
            throw new IllegalStateException(e.name() + ": the control plane refused the experiment: " + created.status() + " " + created.text());
        }
        String id = created.json().get("id").asText();
        say("%s: experiment %s started, v%s (A) vs v%s (B) on %d devices, %s", e.name(), id, created.json().path("versionA").asText(), e.version(),
                created.json().path("devices").size(), e.splitBy().equals("key") ? "by key" : String.format(Locale.ROOT, "%.0f %% to B", e.share() * 100));
        // the duration counts from when every device answers in the experiment: each first fetches and verifies arm B
        long joinBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long joined = 0;
        while (System.nanoTime() < joinBy && (joined = devices.stream().filter(d -> id.equals(d.experiment)).count()) < devices.size()) {
            progress(String.format(Locale.ROOT, "%s devices in the experiment %s", e.name(), bar(joined, devices.size())));
            Thread.sleep(250);
        }
        say("%s: %d/%d devices answer in the experiment after %.1f s; running it for %s", e.name(), joined, devices.size(), now() - s,
                Report.secs(e.duration()));
        long until = System.nanoTime() + e.duration().toNanos();
        while (System.nanoTime() < until) {
            progress(String.format(Locale.ROOT, "%s %s A %,d B %,d answers", e.name(), bar(System.nanoTime() - (until - e.duration().toNanos()),
                    e.duration().toNanos()), answers.withArm(id, "a"), answers.withArm(id, "b")));
            Thread.sleep(250);
        }
        CloudClient.Response stopped = ops.post("/api/v1/experiments/" + id + "/stop", Map.of());
        if (stopped.status() != 200) {
            LOG.log(System.Logger.Level.WARNING, "stopping experiment {0}: {1} {2}", id, stopped.status(), stopped.text());
        }
        double ended = now();
        splitKeys = false;
        long settle = sc.fleet().telemetryWindow().toMillis() + 1000;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        JsonNode shown = ops.get("/api/v1/experiments/" + id).json();
        while (System.nanoTime() < deadline) {
            Thread.sleep(settle);
            JsonNode again = ops.get("/api/v1/experiments/" + id).json();
            boolean same = counted(again).equals(counted(shown));
            shown = again;
            if (same) {
                break;
            }
        }
        Report.ExperimentResult result = AbReadout.read(e.name(), shown, s, ended, answers.withArm(id, "a"), answers.withArm(id, "b"));
        experiments.add(result);
        say("%s: experiment %s stopped after %.1f s%n%s", e.name(), id, ended - s, Report.experimentLines(result).stripTrailing());
        return Report.StepResult.plain(e.name(), "experiment", s, now(), Optional.of(e.version()),
                Optional.ofNullable(kinds.get(e.version())).map(k -> k.name().toLowerCase(Locale.ROOT)));
    }

    /** The requests each arm of an experiment's comparison counts ({@code "a/b"}). */
    private static String counted(JsonNode experiment) {
        JsonNode c = experiment.path("comparison");
        return c.path("a").path("requests").asLong() + "/" + c.path("b").path("requests").asLong();
    }

    /** Activated devices per wave number (from 1), from the engine's counts per wave index and state. */
    private static Map<Integer, Long> activatedByWave(Map<Integer, Map<String, Long>> waves) {
        Map<Integer, Long> out = new TreeMap<>();
        waves.forEach((w, m) -> out.put(Report.waveNumber(w), m.getOrDefault("activated", 0L)));
        return out;
    }

    /** The thresholds in force (the spec's gates over the defaults), by gate name; gates that are off are left out. */
    private static Map<String, Object> gatesInForce(RolloutStore.RolloutRow row) {
        Map<String, Object> out = new java.util.LinkedHashMap<>();
        Report.JSON.convertValue(row.spec().effectiveGates(), new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() { })
                .forEach((k, v) -> {
                    if (v != null) {
                        out.put(k, v);
                    }
                });
        return out;
    }

    private static Map<String, Long> states(Map<Integer, Map<String, Long>> waves) {
        Map<String, Long> out = new TreeMap<>();
        waves.values().forEach(m -> m.forEach((k, v) -> out.merge(k, v, Long::sum)));
        return out;
    }

    // ---- load

    /** Every 100 ms: each live device sends its share of requests (rate x 0.1 s, fractions carried over). */
    private void drive() {
        if (!loadOn) {
            return;
        }
        try {
            double per = sc.load().perDevice() / 10.0;
            for (SimDevice d : devices) {
                EdgeAgent a = d.agent;
                if (a == null) {
                    continue;
                }
                d.credit += per;
                while (d.credit >= 1) {
                    d.credit -= 1;
                    int k = (int) Math.floorMod(d.index * 7919L + d.sent++, inputs.size());
                    if (!inFlight.tryAcquire()) {
                        shed.incrementAndGet(); // the host cannot keep up with the scenario's load: counted, not sent
                        continue;
                    }
                    load.execute(() -> {
                        try {
                            request(d, a, k);
                        } finally {
                            inFlight.release();
                        }
                    });
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "load: {0}", e.toString());
        }
    }

    private void request(SimDevice d, EdgeAgent a, int k) {
        String v = d.version();
        long s = System.nanoTime();
        try {
            float[] x = inputs.inputs()[k];
            float[] shift = d.inputShift;
            if (shift != null) {
                x = x.clone();
                for (int f = 0; f < x.length; f++) {
                    x[f] += shift[f];
                }
            }
            InferTensor t = new InferTensor("x", TensorData.ofFloats(new long[] {1, ActivityModels.FEATURES}, x));
            InferRequest q = splitKeys ? new InferRequest(Optional.empty(), io.edgefleet.protocols.oip.Parameters.of(
                    io.edgefleet.agent.split.SplitRouter.KEY_PARAMETER, "input-" + k), List.of(t), List.of()) : InferRequest.of(t);
            InferResponse r = a.inference().infer(sc.model().name(), Optional.empty(), q);
            answers.count(r);
            r.parameters().string("edgefleet.experiment").ifPresent(id -> d.experiment = id);
            double ms = (System.nanoTime() - s) / 1e6;
            boolean cloud = r.parameters().string("edgefleet.source").orElse("edge").equals("cloud");
            boolean low = r.parameters().bool("edgefleet.low_confidence").orElse(false);
            boolean correct = ActivityModels.argmax(r.outputs().get(0).data().toFloatArray()) == inputs.labels()[k];
            stats.ok(answeringVersion(v, r, cloud), ms, cloud, low, correct);
        } catch (RuntimeException e) {
            stats.error(v, d.agent == null ? "agent down" : errorKind(e));
        }
    }

    /**
     * The edge version a request's answer is counted under in the report's "per edge version" rows: the device's
     * active version, except for an answer of an A/B experiment's arm (it carries {@code edgefleet.arm}) computed on
     * the device, which is counted under the version that answered ({@code model_version}: arm B is not the device's
     * active version). Before, arm B's answers were counted under arm A's version and arm B had no row.
     *
     * @param deviceVersion the device's active version when the request was sent ({@code -} for none)
     * @param r the answer
     * @param cloud whether the cloud answered it ({@code edgefleet.source: cloud}); then the device's version
     */
    static String answeringVersion(String deviceVersion, InferResponse r, boolean cloud) {
        if (cloud || r.parameters().string("edgefleet.arm").isEmpty()) {
            return deviceVersion;
        }
        return r.modelVersion().orElse(deviceVersion);
    }

    /**
     * A failed request's kind as the report names it: what the agent's answer means to its client
     * (the status its {@link Failure} table gives), never an exception's class name.
     */
    static String errorKind(RuntimeException e) {
        return switch (e) {
            case OverloadedException o -> o.queueFull() ? "queue full" : "overloaded";
            case EngineBusyException b -> "engine busy";
            case ModelNotServedException m -> "model not served";
            case ModelNotReadyException m -> "model not ready";
            case InvalidInputException i -> "invalid input";
            case InferenceFailedException f -> "inference failed";
            default -> {
                Failure f = Failure.of(e);
                yield f.status() == 500 ? "internal error" : "failed with status " + f.status();
            }
        };
    }

    /** Request outcomes: per second (the timeline) and per edge version (the totals). */
    static final class Stats {
        private int requests;
        private int errors;
        private int cloud;
        private int low;
        private int correct;
        private final List<Double> latencies = new ArrayList<>();
        private final Map<String, long[]> byVersion = new TreeMap<>(); // requests, errors, cloud, correct, low
        private final Map<String, List<Double>> versionLatencies = new HashMap<>();
        private final Map<String, Long> errorKinds = new TreeMap<>();

        synchronized void ok(String v, double ms, boolean c, boolean l, boolean right) {
            requests++;
            cloud += c ? 1 : 0;
            low += l ? 1 : 0;
            correct += right ? 1 : 0;
            latencies.add(ms);
            long[] t = byVersion.computeIfAbsent(v, k -> new long[5]);
            t[0]++;
            t[2] += c ? 1 : 0;
            t[3] += right ? 1 : 0;
            t[4] += l ? 1 : 0;
            List<Double> vl = versionLatencies.computeIfAbsent(v, k -> new ArrayList<>());
            if (vl.size() < 200_000) {
                vl.add(ms);
            }
        }

        synchronized void error(String v, String kind) {
            requests++;
            errors++;
            byVersion.computeIfAbsent(v, k -> new long[5])[1]++;
            byVersion.get(v)[0]++;
            errorKinds.merge(kind, 1L, Long::sum);
        }

        /** This second's numbers; resets them. */
        synchronized double[] second() {
            double[] lat = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            double[] out = {requests, errors, cloud, low, requests - errors == 0 ? 0 : (double) correct / (requests - errors),
                    pct(lat, 0.5), pct(lat, 0.95), pct(lat, 0.99)};
            requests = errors = cloud = low = correct = 0;
            latencies.clear();
            return out;
        }

        static double pct(double[] sorted, double q) {
            return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
        }
    }

    // ---- sampling and progress

    private void sample() {
        try {
            double[] s = stats.second();
            Map<String, Integer> versions = new TreeMap<>();
            int connected = 0;
            for (SimDevice d : devices) {
                versions.merge(d.version(), 1, Integer::sum);
                connected += d.connected() ? 1 : 0;
            }
            int online = cp.fleet().select(Selector.parse("fleet=" + sc.fleet().name() + ",status=online")).size();
            String r = rollout;
            Map<String, Long> rs = Map.of();
            Map<Integer, Long> byWave = Map.of();
            if (r != null) {
                Map<Integer, Map<String, Long>> waves = cp.rollouts().waves(r);
                rs = states(waves);
                byWave = activatedByWave(waves);
            }
            timeline.add(new Report.Sample(Math.round(now() * 10) / 10.0, (int) s[0], (int) s[1], (int) s[2], (int) s[3], s[4], s[5], s[6], s[7],
                    versions, online, connected, Optional.ofNullable(step), Optional.ofNullable(r), rs, byWave, syncBytes(), brokerUp));
            String line = String.format(Locale.ROOT, "%s | %s | %3.0f req/s, cloud %4.1f %% | %d/%d connected%s", step == null ? "setup" : step,
                    versions.entrySet().stream().map(e -> (e.getKey().matches("[-a-z]+") ? e.getKey() : "v" + e.getKey()) + ":" + e.getValue())
                            .reduce((a, b) -> a + " " + b).orElse(""),
                    s[0], s[0] == 0 ? 0 : 100 * s[2] / s[0], connected, devices.size(), brokerUp ? "" : " | broker DOWN");
            progress(line);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "sample: {0}", e.toString());
        }
    }

    private synchronized void progress(String what) {
        String line = String.format(Locale.ROOT, "[%5.1f s] %s", now(), what);
        if (opt.live()) {
            opt.console().print("\r\033[2K" + (line.length() > 150 ? line.substring(0, 150) : line));
            opt.console().flush();
            progressLine = line;
        } else if (System.nanoTime() - lastPrinted > TimeUnit.SECONDS.toNanos(10)) {
            lastPrinted = System.nanoTime();
            opt.console().println(line);
        }
    }

    private synchronized void clearLine() {
        if (opt.live() && !progressLine.isEmpty()) {
            opt.console().print("\r\033[2K");
            progressLine = "";
        }
    }

    private synchronized void say(String fmt, Object... args) {
        clearLine();
        opt.console().printf(Locale.ROOT, "[%5.1f s] " + fmt + "%n", prepend(now(), args));
        opt.console().flush();
    }

    private static Object[] prepend(double t, Object[] args) {
        Object[] out = new Object[args.length + 1];
        out[0] = t;
        System.arraycopy(args, 0, out, 1, args.length);
        return out;
    }

    static String bar(long done, long total) {
        int w = 20;
        int f = total == 0 ? 0 : (int) Math.min(w, done * w / total);
        return "[" + "#".repeat(f) + ".".repeat(w - f) + "] " + (total > 1_000_000 ? (done * 100 / Math.max(1, total)) + " %" : done + "/" + total);
    }

    private double now() {
        return (System.nanoTime() - t0) / 1e9;
    }

    private long syncBytes() {
        return links.values().stream().mapToLong(l -> l.sync().chunkBytes.get()).sum();
    }

    private long corrupted() {
        return links.values().stream().mapToLong(l -> l.sync().corrupted.get()).sum();
    }

    // ---- faults

    /** A fault as it runs: filled in while it happens and when the report is built. */
    static final class FaultRun {
        final Scenario.Fault fault;
        volatile double at;
        volatile double until;
        volatile List<String> devices = List.of();
        volatile String outcome = "running";
        final Map<String, Object> measured = new ConcurrentHashMap<>();
        volatile boolean done;

        FaultRun(Scenario.Fault f) {
            this.fault = f;
        }
    }

    private void schedule(Scenario.Fault f) {
        FaultRun run = new FaultRun(f);
        faultRuns.add(run);
        long delay = f.step().isPresent() ? f.at().toMillis() : Math.max(0, f.at().toMillis() - (long) (now() * 1000));
        clock.schedule(() -> faultThreads.execute(() -> {
            try {
                fire(run);
            } catch (Exception e) {
                run.outcome = "the fault could not be applied: " + e;
                LOG.log(System.Logger.Level.WARNING, "fault {0}: {1}", f.describe(), e.toString());
            } finally {
                run.done = true;
            }
        }), delay, TimeUnit.MILLISECONDS);
    }

    private List<LinkGroup> groupsOf(Scenario.Fault f) {
        return links.values().stream().filter(l -> l.faults().contains(f.index())).toList();
    }

    private void fire(FaultRun run) throws Exception {
        Scenario.Fault f = run.fault;
        run.at = now();
        List<SimDevice> mine = targets.getOrDefault(f.index(), List.of());
        run.devices = mine.stream().map(d -> d.id).toList();
        say("fault: %s%s", f.type().id(), mine.isEmpty() ? "" : " on " + mine.size() + " devices");
        switch (f.type()) {
            case BROKER_RESTART -> {
                if (!broker.restartable()) {
                    run.outcome = "skipped: the simulator cannot restart an external broker";
                    run.until = now();
                    return;
                }
                broker.stop();
                brokerUp = false;
                Thread.sleep(f.duration().orElseThrow().toMillis());
                broker.start();
                brokerUp = true;
                double back = now();
                run.until = back;
                double reconnect = awaitConnected(devices, Duration.ofSeconds(90));
                long connected = devices.stream().filter(SimDevice::connected).count();
                long live = devices.stream().filter(d -> !d.killed).count();
                run.measured.put("downSeconds", round(back - run.at));
                run.measured.put("reconnectSeconds", round(reconnect));
                run.measured.put("reconnected", connected);
                run.outcome = String.format(Locale.ROOT, "down %.1f s; %d/%d devices reconnected %.1f s after it came back", back - run.at,
                        connected, live, reconnect);
            }
            case PARTITION -> {
                groupsOf(f).forEach(l -> {
                    l.mqtt().ifPresent(m -> m.cut(true));
                    l.sync().cut(true);
                });
                Thread.sleep(f.duration().orElseThrow().toMillis());
                long offline = mine.stream().filter(d -> cp.fleet().get(sc.fleet().name(), d.id).map(r -> !r.online()).orElse(false)).count();
                groupsOf(f).forEach(l -> {
                    l.mqtt().ifPresent(m -> m.cut(false));
                    l.sync().cut(false);
                });
                double healed = now();
                run.until = healed;
                double reconnect = awaitConnected(mine, Duration.ofSeconds(90));
                long back = mine.stream().filter(SimDevice::connected).count();
                run.measured.put("markedOffline", offline);
                run.measured.put("reconnectSeconds", round(reconnect));
                run.outcome = String.format(Locale.ROOT, "cut for %.1f s: the control plane saw %d/%d offline (last will); %d/%d reconnected %.1f s "
                        + "after the link healed", healed - run.at, offline, mine.size(), back, mine.size(), reconnect);
            }
            case SLOW_LINK -> {
                groupsOf(f).forEach(l -> {
                    l.mqtt().ifPresent(m -> m.cap(f.bytesPerSecond()));
                    l.sync().cap(f.bytesPerSecond());
                });
                if (f.duration().isPresent()) {
                    Thread.sleep(f.duration().get().toMillis());
                    groupsOf(f).forEach(l -> {
                        l.mqtt().ifPresent(m -> m.cap(0));
                        l.sync().cap(0);
                    });
                    run.until = now();
                } else {
                    run.until = -1; // to the end
                }
                run.outcome = "capped";
            }
            case CORRUPT_CHUNKS -> {
                groupsOf(f).forEach(l -> l.sync().corrupt(true));
                if (f.duration().isPresent()) {
                    Thread.sleep(f.duration().get().toMillis());
                    groupsOf(f).forEach(l -> l.sync().corrupt(false));
                    run.until = now();
                } else {
                    run.until = -1;
                }
                run.outcome = "corrupting";
            }
            case INPUT_DRIFT -> {
                float[] std = featureStd();
                float[] shift = new float[ActivityModels.FEATURES];
                for (int i = 0; i < f.features(); i++) {
                    shift[i] = (float) (f.shift() * std[i]);
                }
                mine.forEach(d -> d.inputShift = shift);
                double shiftedAt = run.at;
                String model = sc.model().name();
                // the alarm needs consecutive-windows judged windows after the shift plus the grace: wait up to 2 minutes
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
                Optional<io.edgefleet.cloud.store.Event> alarm = Optional.empty();
                while (alarm.isEmpty() && System.nanoTime() < deadline && loadOn) {
                    Thread.sleep(500);
                    alarm = cp.events().list(Optional.of(model + "/"), 50).stream().filter(e -> e.kind().equals("model.drift.alarm")
                            && !e.at().isBefore(startedAt.plusMillis((long) (shiftedAt * 1000)))).findFirst();
                }
                if (f.duration().isPresent()) {
                    long left = f.duration().get().toMillis() - (long) ((now() - run.at) * 1000);
                    if (left > 0) {
                        Thread.sleep(left);
                    }
                    mine.forEach(d -> d.inputShift = null);
                    run.until = now();
                } else {
                    run.until = -1;
                }
                if (alarm.isPresent()) {
                    io.edgefleet.cloud.store.Event e = alarm.get();
                    double after = Duration.between(startedAt, e.at()).toMillis() / 1000.0 - shiftedAt;
                    run.measured.put("alarmSeconds", round(after));
                    run.measured.put("alarmSubject", e.subject());
                    run.measured.put("worstFeature", String.valueOf(e.detail().get("worst_feature")));
                    run.measured.put("maxPsi", round(((Number) e.detail().get("max_psi")).doubleValue()));
                    run.outcome = String.format(Locale.ROOT, "drift alarm for %s %.1f s after the shift (worst feature %s, PSI %.2f)", e.subject(),
                            after, e.detail().get("worst_feature"), ((Number) e.detail().get("max_psi")).doubleValue());
                } else {
                    run.outcome = "no drift alarm within 2 minutes of the shift";
                }
            }
            case KILL_AGENTS -> {
                Map<String, String> before = new HashMap<>();
                for (SimDevice d : mine) {
                    before.put(d.id, d.version());
                    d.crash();
                }
                Duration down = f.restartAfter().orElse(Duration.ofSeconds(10));
                Thread.sleep(down.toMillis());
                int restored = 0;
                int failed = 0;
                for (SimDevice d : mine) {
                    try {
                        d.start();
                        restored += d.version().equals(before.get(d.id)) ? 1 : 0;
                    } catch (RuntimeException e) {
                        failed++;
                        LOG.log(System.Logger.Level.WARNING, "restarting {0}: {1}", d.id, e.toString());
                    }
                }
                run.until = now();
                double reconnect = awaitConnected(mine, Duration.ofSeconds(60));
                run.measured.put("restoredSameVersion", restored);
                run.measured.put("reconnectSeconds", round(reconnect));
                run.measured.put("restartFailures", failed);
                run.outcome = String.format(Locale.ROOT, "%d agents killed (no DISCONNECT, open telemetry window lost), restarted after %s: %d/%d came "
                        + "back serving the version they had, reconnected in %.1f s", mine.size(), Report.secs(down), restored, mine.size(), reconnect);
            }
            default -> throw new IllegalStateException();
        }
        say("fault: %s: %s", f.type().id(), run.outcome);
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    /** Seconds until every live device of the list is connected (or the limit). */
    private double awaitConnected(List<SimDevice> ds, Duration limit) throws InterruptedException {
        long s = System.nanoTime();
        long until = s + limit.toNanos();
        while (System.nanoTime() < until) {
            if (ds.stream().allMatch(d -> d.killed || d.connected())) {
                break;
            }
            Thread.sleep(100);
        }
        return (System.nanoTime() - s) / 1e9;
    }

    private void awaitFaults() throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (faultRuns.stream().anyMatch(r -> !r.done && r.fault.duration().isPresent()) && System.nanoTime() < until) {
            Thread.sleep(200);
        }
        // faults that last to the end are lifted now
        links.values().forEach(l -> {
            l.sync().corrupt(false);
            l.sync().cap(0);
            l.mqtt().ifPresent(m -> m.cap(0));
        });
    }

    // ---- the end

    /** Waits until every agent's outbox is empty and the cloud has ingested what the agents recorded. */
    private Report.Telemetry drainTelemetry() throws InterruptedException {
        say("draining telemetry: waiting for every outbox to empty and the cloud to ingest it");
        Thread.sleep(sc.fleet().telemetryWindow().toMillis() * 2 + 500);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60 + devices.size() / 20);
        long recorded;
        long ingested;
        Map<String, Long> perDevice;
        while (true) {
            boolean empty = devices.stream().allMatch(d -> d.agent == null || d.agent.store().outboxSize() == 0);
            recorded = devices.stream().mapToLong(d -> d.recorded.get()).sum();
            Map<String, Long> now = ingestedPerDevice();
            perDevice = now;
            ingested = now.values().stream().mapToLong(Long::longValue).sum();
            long expected = devices.stream().filter(d -> !d.everKilled).mapToLong(d -> d.recorded.get()).sum();
            long got = devices.stream().filter(d -> !d.everKilled).mapToLong(d -> now.getOrDefault(d.id, 0L)).sum();
            if (empty && got >= expected) {
                break;
            }
            if (System.nanoTime() > until) {
                say("telemetry did not fully drain: %d of %d recorded requests ingested (devices not killed)", got, expected);
                break;
            }
            progress("draining telemetry " + bar(got, expected));
            Thread.sleep(250);
        }
        long lostKilled = 0;
        long lostKilledBound = devices.stream().mapToLong(d -> d.lostOnKilledBound.get()).sum();
        long lost = 0;
        for (SimDevice d : devices) {
            long diff = Math.max(0, d.recorded.get() - perDevice.getOrDefault(d.id, 0L));
            if (d.everKilled) {
                lostKilled += diff;
            } else {
                lost += diff;
            }
        }
        return new Report.Telemetry(recorded, ingested, lostKilled, lostKilledBound, lost, cp.ingestStats().duplicates.get());
    }

    private Map<String, Long> ingestedPerDevice() {
        Map<String, Long> out = new HashMap<>();
        Instant from = startedAt.minusSeconds(3600);
        Instant to = Instant.now().plusSeconds(3600);
        for (SimDevice d : devices) {
            out.put(d.id, cp.telemetry().deviceTotals(sc.fleet().name(), d.id, from, to).stream().mapToLong(Aggregate::count).sum());
        }
        return out;
    }

    private double edgeAccuracy(ActivityModels.Kind kind) {
        return edgeAccuracy.computeIfAbsent(kind, k -> {
            int right = 0;
            for (int i = 0; i < inputs.size(); i++) {
                right += ActivityModels.argmax(models.expected(k, inputs.inputs()[i])) == inputs.labels()[i] ? 1 : 0;
            }
            return (double) right / inputs.size();
        });
    }

    private Report build(List<Report.StepResult> steps, Report.Telemetry tm) {
        // device rows as they are now: rollback acknowledgements may have arrived after the rollout's step ended
        rolloutDevices.replaceAll((id, rows) -> cp.rollouts().devices(id));
        List<Report.Expectation> ex = new ArrayList<>();
        String lastGood = null;
        for (Report.StepResult s : steps) {
            if (!s.type().equals("rollout")) {
                continue;
            }
            Scenario.Rollout spec = (Scenario.Rollout) sc.steps().stream().filter(x -> x.name().equals(s.name())).findFirst().orElseThrow();
            if (s.state().equals(Optional.of("succeeded"))) {
                lastGood = s.version().orElseThrow();
            }
            if (spec.expect().isPresent()) {
                ex.add(new Report.Expectation(s.name() + " ends " + spec.expect().get(), spec.expect().get(), s.state().orElse("?"),
                        s.state().equals(spec.expect())));
                if (!spec.expect().get().equals("succeeded")) {
                    List<RolloutStore.DeviceRow> rows = rolloutDevices.getOrDefault(s.rolloutId().orElse(""), List.of());
                    int stoppedIn = s.stoppedInWave().orElse(0);
                    long beyond = rows.stream().filter(d -> Report.waveNumber(d.wave()) > stoppedIn && d.commandId().isPresent()).count();
                    ex.add(new Report.Expectation(s.name() + ": no device after the wave it was stopped in got v" + s.version().orElse("?"),
                            "0 devices commanded after wave " + stoppedIn, beyond + " devices commanded", beyond == 0));
                    long stuck = rows.stream().filter(d -> d.state().wire().equals("activated") || d.state().wire().equals("rolling-back")).count();
                    if (spec.expect().get().equals("rolled-back")) {
                        ex.add(new Report.Expectation(s.name() + ": every device that took v" + s.version().orElse("?") + " was rolled back",
                                "0 devices left on it", stuck + " devices left on it", stuck == 0));
                    }
                }
            }
        }
        for (Report.StepResult s : steps) {
            if (s.shadow().isEmpty() || s.stoppedInWave().isEmpty() || !s.shadow().get().waves().contains(s.stoppedInWave().get())) {
                continue;
            }
            // stopped in a shadow wave: the candidate must never have answered, over the whole run (a later step may use it)
            long with = answers.withVersion(s.version().orElseThrow());
            ex.add(new Report.Expectation(s.name() + ": no device ever answered with v" + s.version().orElseThrow() + " (stopped in shadow wave "
                    + s.stoppedInWave().get() + ")", "0 answers", with + " answers", with == 0));
        }
        for (Report.ExperimentResult e : experiments) {
            Scenario.Experiment spec = (Scenario.Experiment) sc.steps().stream().filter(x -> x.name().equals(e.step())).findFirst().orElseThrow();
            ex.add(new Report.Expectation(e.step() + ": both arms answered and were counted by the control plane",
                    "requests in arm A and arm B", e.a().requests() + " in A, " + e.b().requests() + " in B",
                    e.a().requests() > 0 && e.b().requests() > 0));
            if (spec.expectJudged()) {
                ex.add(new Report.Expectation(e.step() + ": the comparison is judged", "at least " + e.minSamples() + " requests in each arm",
                        e.a().requests() + " in A, " + e.b().requests() + " in B", e.judged()));
            }
        }
        if (lastGood != null) {
            String v = lastGood;
            long on = devices.stream().filter(d -> d.version().equals(v)).count();
            ex.add(new Report.Expectation("every device serves v" + v + " (the last version that rolled out) at the end", devices.size() + " devices",
                    on + " devices", on == devices.size()));
        }
        ex.add(new Report.Expectation("no telemetry lost (recorded by agents that were not killed, never ingested)", "0 requests", tm.lost() + " requests",
                tm.lost() == 0));
        if (devices.stream().anyMatch(d -> d.everKilled)) {
            ex.add(new Report.Expectation("killed agents lost only their open telemetry windows", "at most " + tm.lostOnKilledBound() + " requests",
                    tm.lostOnKilled() + " requests", tm.lostOnKilled() <= tm.lostOnKilledBound()));
        }
        for (FaultRun r : faultRuns) {
            if (r.fault.type() == Scenario.FaultType.BROKER_RESTART || r.fault.type() == Scenario.FaultType.PARTITION
                    || r.fault.type() == Scenario.FaultType.KILL_AGENTS) {
                Object reconnect = r.measured.get("reconnectSeconds");
                boolean ok = r.done && !r.outcome.startsWith("the fault could not") && !r.outcome.startsWith("skipped")
                        && reconnect instanceof Double d && d < 60;
                ex.add(new Report.Expectation(r.fault.type().id() + " at " + String.format(Locale.ROOT, "%.0f s", r.at)
                        + ": every affected device reconnects", "within 60 s", r.outcome, ok));
            }
            if (r.fault.type() == Scenario.FaultType.INPUT_DRIFT) {
                ex.add(new Report.Expectation("input-drift at " + String.format(Locale.ROOT, "%.0f s", r.at) + ": the drift alarm is raised",
                        "a model.drift.alarm event within 2 minutes", r.outcome, r.measured.containsKey("alarmSeconds")));
            }
            finishOutcome(r);
        }
        Map<String, Report.VersionStats> byVersion = new LinkedHashMap<>();
        long total;
        long errors;
        long cloud = 0;
        long low = 0;
        Map<String, Long> kindsOfErrors;
        synchronized (stats) {
            total = stats.byVersion.values().stream().mapToLong(t -> t[0]).sum();
            errors = stats.byVersion.values().stream().mapToLong(t -> t[1]).sum();
            for (Map.Entry<String, long[]> e : stats.byVersion.entrySet()) {
                long[] t = e.getValue();
                cloud += t[2];
                low += t[4];
                double[] lat = stats.versionLatencies.getOrDefault(e.getKey(), List.of()).stream().mapToDouble(Double::doubleValue).sorted().toArray();
                ActivityModels.Kind k = kinds.get(e.getKey());
                String name = e.getKey().equals("-") ? "none (no model yet)" : e.getKey().equals("down") ? "agent down" : "v" + e.getKey();
                long answered = t[0] - t[1];
                byVersion.put(name, new Report.VersionStats(t[0], t[1], t[2], answered == 0 ? 0 : (double) t[3] / answered,
                        k == null ? -1 : edgeAccuracy(k), answered == 0 ? 0 : (double) t[2] / answered, Stats.pct(lat, 0.5), Stats.pct(lat, 0.95)));
            }
            kindsOfErrors = new TreeMap<>(stats.errorKinds);
        }
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("cores", Runtime.getRuntime().availableProcessors());
        env.put("java", System.getProperty("java.version"));
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        env.put("maxHeapMiB", Runtime.getRuntime().maxMemory() >> 20);
        env.put("threads", Thread.activeCount());
        env.put("linkGroups", links.size());
        env.put("requestsShedByTheLoadGenerator", shed.get());
        env.put("requestsPerSecondAsked", sc.load().perDevice() * devices.size());
        env.put("cloudModel", sc.model().cloudName() + " v1 (" + sc.model().cloudKind().name().toLowerCase(Locale.ROOT) + ", edge-alone accuracy "
                + Report.pct(edgeAccuracy(sc.model().cloudKind())) + ")");
        List<Report.FaultResult> fr = faultRuns.stream().map(r -> new Report.FaultResult(r.fault.type().id(), r.fault.describe(), round(r.at),
                round(r.until < 0 ? now() : r.until), r.devices, r.outcome, new TreeMap<>(r.measured))).toList();
        Optional<Report.Security> security = Optional.empty();
        if (secured()) {
            int uses = Math.max(1, sc.fleet().size());
            long enrolled = cp.pki().tokens().list().stream().filter(t -> t.id().equals(enrolmentTokenId)).findFirst()
                    .map(t -> (long) (uses - t.usesLeft())).orElse(0L);
            long identities = devices.stream().filter(d -> d.agent != null && d.agent.identity().isPresent()).count();
            long live = devices.stream().filter(d -> d.agent != null).count();
            ex.add(new Report.Expectation("every device enrolled once with the fleet's enrolment token and runs on its certificate",
                    devices.size() + " enrolments, " + live + " live devices with an identity", enrolled + " enrolments, " + identities + " with an identity",
                    enrolled == devices.size() && identities == live));
            security = Optional.of(new Report.Security("TLS + client certificates on MQTT, per-identity topic rights at the broker, HTTPS to the control plane",
                    enrolled, cp.senderGate().settings().requireSignedMessages(), cp.senderGate().droppedTotal(), cp.senderGate().dropped()));
        }
        env.put("answersByVersion", answers.byVersion());
        boolean passed = ex.stream().allMatch(Report.Expectation::ok);
        return new Report(sc.summary(), broker.describe(), startedAt, round(now()), passed, ex, steps, fr,
                new Report.Requests(total, errors, cloud, low, byVersion, kindsOfErrors), tm, List.copyOf(timeline), env, security,
                List.copyOf(experiments));
    }

    /** Outcomes of link faults, from the rollouts' device rows: install times under the cap, activations despite corruption. */
    private void finishOutcome(FaultRun r) {
        Scenario.Fault f = r.fault;
        Set<String> mine = new java.util.HashSet<>(r.devices);
        if (f.type() == Scenario.FaultType.SLOW_LINK) {
            List<Double> capped = new ArrayList<>();
            List<Double> others = new ArrayList<>();
            double until = r.until < 0 ? Double.MAX_VALUE : r.until;
            rolloutDevices.values().forEach(rows -> rows.forEach(d -> {
                if (d.commandedAt().isEmpty() || d.activatedAt().isEmpty()) {
                    return;
                }
                double c = (d.commandedAt().get().toEpochMilli() - startedAt.toEpochMilli()) / 1000.0;
                if (c < r.at || c > until) {
                    return;
                }
                double secs = (d.activatedAt().get().toEpochMilli() - d.commandedAt().get().toEpochMilli()) / 1000.0;
                (mine.contains(d.device()) ? capped : others).add(secs);
            }));
            double a = median(capped);
            double b = median(others);
            r.measured.put("medianInstallSecondsCapped", round(a));
            r.measured.put("medianInstallSecondsOthers", round(b));
            r.outcome = capped.isEmpty() ? "no install happened on the capped devices while the cap held"
                    : String.format(Locale.ROOT, "installs under the cap took %.1f s (median of %d) vs %.1f s on the other devices (%d)", a, capped.size(),
                            b, others.size());
        } else if (f.type() == Scenario.FaultType.CORRUPT_CHUNKS) {
            long corrupted = groupsOf(f).stream().mapToLong(l -> l.sync().corrupted.get()).sum();
            long failed = rolloutDevices.values().stream().flatMap(List::stream).filter(d -> mine.contains(d.device()))
                    .filter(d -> d.state().wire().equals("failed") || d.state().wire().equals("timed-out")).count();
            long activated = rolloutDevices.values().stream().flatMap(List::stream).filter(d -> mine.contains(d.device()))
                    .filter(d -> d.activatedAt().isPresent()).count();
            r.measured.put("corruptedChunks", corrupted);
            r.measured.put("installsFailed", failed);
            r.outcome = String.format(Locale.ROOT, "%d corrupted chunk responses served; each caught by the chunk's SHA-256 and fetched again: %d "
                    + "installs completed on these devices, %d failed", corrupted, activated, failed);
        }
    }

    private static double median(List<Double> v) {
        if (v.isEmpty()) {
            return 0;
        }
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a[a.length / 2];
    }

    @Override
    public void close() {
        loadOn = false;
        clock.shutdownNow();
        load.shutdownNow();
        faultThreads.shutdownNow();
        ExecutorService closers = Executors.newFixedThreadPool(4);
        for (SimDevice d : devices) {
            closers.execute(() -> {
                EdgeAgent a = d.agent;
                d.agent = null;
                if (a != null) {
                    try {
                        a.close();
                    } catch (RuntimeException e) {
                        LOG.log(System.Logger.Level.DEBUG, "closing {0}: {1}", d.id, e.toString());
                    }
                }
            });
        }
        closers.shutdown();
        try {
            closers.awaitTermination(120, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        links.values().forEach(l -> {
            l.mqtt().ifPresent(TcpLink::close);
            l.sync().close();
        });
        if (cp != null) {
            cp.close();
        }
        if (broker != null) {
            try {
                broker.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "closing the broker: {0}", e.toString());
            }
        }
    }

    /** The edge-alone accuracy of a model kind on the scenario's input set (for docs and tests). */
    public double accuracyOf(ActivityModels.Kind kind) {
        return edgeAccuracy(kind);
    }

    static List<Integer> ints(int... v) {
        return Arrays.stream(v).boxed().toList();
    }
}
