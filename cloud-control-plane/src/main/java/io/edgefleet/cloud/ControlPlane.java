package io.edgefleet.cloud;

import io.edgefleet.cloud.access.AuditLog;
import io.edgefleet.cloud.access.JwtVerifier;
import io.edgefleet.cloud.access.Scope;
import io.edgefleet.cloud.access.TokenStore;
import io.edgefleet.cloud.api.AccessApi;
import io.edgefleet.cloud.api.ApiRoutes;
import io.edgefleet.cloud.api.CallAudit;
import io.edgefleet.cloud.api.Auth;
import io.edgefleet.cloud.api.Token;
import io.edgefleet.cloud.fleet.FleetRegistry;
import io.edgefleet.cloud.fleet.StateListener;
import io.edgefleet.cloud.ingest.Aggregator;
import io.edgefleet.cloud.ingest.DirectSink;
import io.edgefleet.cloud.ingest.IngestStats;
import io.edgefleet.cloud.ingest.KafkaAggregatorConsumer;
import io.edgefleet.cloud.ingest.KafkaEvents;
import io.edgefleet.cloud.ingest.KafkaSink;
import io.edgefleet.cloud.ingest.TelemetryBridge;
import io.edgefleet.cloud.ingest.TelemetrySink;
import io.edgefleet.cloud.mqtt.CloudMqtt;
import io.edgefleet.cloud.registry.ModelRegistry;
import io.edgefleet.cloud.registry.SigningKey;
import io.edgefleet.cloud.inference.CloudInference;
import io.edgefleet.cloud.inference.InferenceRoutes;
import io.edgefleet.cloud.rollout.RolloutEngine;
import io.edgefleet.cloud.rollout.RolloutStore;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.DeviceRepository;
import io.edgefleet.cloud.store.EventRepository;
import io.edgefleet.cloud.store.ModelRepository;
import io.edgefleet.cloud.store.TelemetryRepository;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.transport.net.PortUnavailableException;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.protocols.topics.TopicKind;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.server.SyncRoutes;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.service.registry.Services;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import io.edgefleet.transport.pki.Pem;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A control-plane process: the roles of its {@link CloudConfig} on one Helidon SE web server.
 *
 * <ul>
 * <li>{@code control}: model registry (+ the sync endpoints {@code /sync/v1}), fleet registry fed by
 *     retained {@code state} messages, the REST API {@code /api/v1}, the web console {@code /ui/}
 *     ({@link io.edgefleet.cloud.console.Console}), events to Kafka when configured.
 * <li>{@code ingest}: the MQTT → (Kafka →) aggregates pipeline.
 * </ul>
 * Every role has {@code /observe/health} and {@code /observe/metrics}. The listener is HTTPS by
 * default ({@link io.edgefleet.cloud.tls.HttpTls}; the device CA in {@code data-dir/pki}); every
 * request passes {@link io.edgefleet.cloud.tls.CallerFilter} (revoked certificates, the credential
 * that sync and inference need).
 */
public final class ControlPlane implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ControlPlane.class.getName());
    public static final String VERSION = "0.1.0";

    private final CloudConfig config;
    private final Clock clock;
    private final CloudStore store;
    private final TokenStore tokenStore;
    private final AuditLog auditLog;
    private final EventRepository events;
    private final TelemetryRepository telemetry;
    private final io.edgefleet.cloud.store.LogRepository logs;
    private final IngestStats stats = new IngestStats();
    private final io.edgefleet.cloud.metrics.CloudMeters meters = new io.edgefleet.cloud.metrics.CloudMeters(Services.get(MeterRegistry.class));
    /** How often the fleet gauges (devices, rollouts, registry, resources) are recomputed. */
    static final long FLEET_METERS_PERIOD_MILLIS = 5_000;
    /** Devices per resource figure that get a series of their own on /observe/metrics (the worst ones). */
    static final int RESOURCE_TOP_N = 10;
    private io.edgefleet.cloud.metrics.FleetMeters fleetMeters;
    private io.edgefleet.cloud.drift.DriftSettings driftSettings = io.edgefleet.cloud.drift.DriftSettings.defaults();
    private io.edgefleet.cloud.drift.DriftMonitor drift;

    /** Recomputes the fleet gauges now rather than at the next period (tests); nothing without the control role. */
    void refreshFleetMeters() {
        if (fleetMeters != null) {
            fleetMeters.refresh();
        }
    }
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ScheduledExecutorService housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "cloud-housekeeping");
        t.setDaemon(true);
        return t;
    });
    private ModelRegistry registry;
    private RolloutEngine rollouts;
    private CloudInference inference;
    private FleetRegistry fleet;
    private io.edgefleet.transport.mqtt.MqttSession control;
    private io.edgefleet.cloud.mqtt.DeviceInbox inbox;
    /** The control session's shared-subscription group on PostgreSQL ({@link #controlFilters}). */
    static final String CONTROL_GROUP = "edgefleet-control";
    /**
     * How long the broker keeps a replica's control session (and hands it messages) after its connection is lost: 0, so
     * the group's messages go to the replicas still connected at once (a 30 s expiry cost the 1,000-device bench a
     * command time-out in the wave of the leader's kill: half its acks went to the dead replica's session).
     */
    static final long SHARED_SESSION_EXPIRY_SECONDS = 0;
    /** Device messages the inbox holds at most: above the control session's Receive Maximum (1000), so the callback never waits. */
    private static final int INBOX_CAPACITY = 2048;
    /** Device messages applied per transaction at most. */
    private static final int INBOX_BATCH = 256;
    private TelemetryBridge bridge;
    private io.edgefleet.cloud.sender.SenderGate senders;
    private io.edgefleet.cloud.sender.CommandSigning commandSigning;
    private TelemetrySink sink;
    private List<Token> tokens;
    private io.edgefleet.cloud.pki.DevicePki pki;
    private WebServer server;
    private io.edgefleet.http.limits.ReadDeadlines deadlines;
    private final io.edgefleet.transport.net.ClientFailureLog clientFailures = new io.edgefleet.transport.net.ClientFailureLog(
            "io.edgefleet.cloud.clients");

    private final io.edgefleet.cloud.pki.Revocations revocations;
    private io.edgefleet.transport.pki.CertificateAuthority ca;
    private io.edgefleet.transport.tracing.Tracing tracing = io.edgefleet.transport.tracing.Tracing.off();
    private io.edgefleet.cloud.rollout.CommandTracing commandTracing;
    /** Who runs the once-per-fleet work: always this process on SQLite; the holder of the lease on PostgreSQL (issue 18). */
    private io.edgefleet.cloud.lease.Leadership leadership = io.edgefleet.cloud.lease.Leadership.SINGLE;
    private io.edgefleet.cloud.ab.Experiments experiments;
    private io.edgefleet.cloud.lease.LeaderLease lease;

    private ControlPlane(CloudConfig config, Clock clock, io.edgefleet.cloud.pki.Revocations revocations) {
        this.config = config;
        this.clock = clock;
        this.revocations = java.util.Objects.requireNonNull(revocations, "revocations");
        this.store = CloudStore.open(config.dataDir(), config.database());
        this.tokenStore = new TokenStore(store, clock);
        this.auditLog = new AuditLog(store, clock);
        this.events = new EventRepository(store, clock);
        this.telemetry = new TelemetryRepository(store, config.bucket());
        this.logs = new io.edgefleet.cloud.store.LogRepository(store, clock, io.edgefleet.cloud.store.LogRepository.Retention.DEFAULT);
    }

    public static ControlPlane start(CloudConfig config) {
        return start(config, Clock.systemUTC());
    }

    /**
     * Starts the roles of {@code config}.
     *
     * @throws PortUnavailableException when the HTTP port cannot be bound (nothing is left running)
     */
    public static ControlPlane start(CloudConfig config, Clock clock) {
        return start(config, clock, io.edgefleet.cloud.pki.Revocations.none());
    }

    /**
     * Starts the roles of {@code config}; every HTTP request presenting a client certificate asks
     * {@code revocations} whether its serial was revoked.
     *
     * @throws PortUnavailableException when the HTTP port cannot be bound (nothing is left running)
     */
    public static ControlPlane start(CloudConfig config, Clock clock, io.edgefleet.cloud.pki.Revocations revocations) {
        return start(config, clock, revocations, io.edgefleet.transport.tracing.Tracing.off());
    }

    /**
     * Starts the roles of {@code config}, tracing cloud inference (request, batch, model call) and
     * rollout commands with their acknowledgements with {@code tracing}. The caller owns
     * {@code tracing} and closes it after the control plane.
     *
     * @throws PortUnavailableException when the HTTP port cannot be bound (nothing is left running)
     */
    public static ControlPlane start(CloudConfig config, Clock clock, io.edgefleet.cloud.pki.Revocations revocations,
            io.edgefleet.transport.tracing.Tracing tracing) {
        return start(config, clock, revocations, tracing, io.edgefleet.cloud.drift.DriftSettings.defaults());
    }

    /**
     * Starts the roles of {@code config} with {@code drift} judging input drift (node {@code cloud.drift},
     * {@link CloudSettings#drift}).
     *
     * @throws PortUnavailableException when the HTTP port cannot be bound (nothing is left running)
     */
    public static ControlPlane start(CloudConfig config, Clock clock, io.edgefleet.cloud.pki.Revocations revocations,
            io.edgefleet.transport.tracing.Tracing tracing, io.edgefleet.cloud.drift.DriftSettings drift) {
        ControlPlane cp = new ControlPlane(config, clock, revocations);
        cp.driftSettings = java.util.Objects.requireNonNull(drift, "drift");
        cp.tracing = java.util.Objects.requireNonNull(tracing, "tracing");
        try {
            cp.startRoles();
            return cp;
        } catch (RuntimeException e) {
            cp.close();
            throw e;
        }
    }

    /** The HTTP setting, named in the one-line error when its port cannot be bound. */
    public static final String HTTP_PORT_SETTING = "cloud.http.port / --http-port";

    private void startRoles() {
        // before anything else starts: a taken port stops the process at once with one line
        PortUnavailableException.requireTcp("HTTP", config.httpHost(), config.httpPort(), HTTP_PORT_SETTING);
        config.kafka().ifPresent(k -> {
            KafkaEvents ke = new KafkaEvents(k);
            closeables.add(ke);
            events.listen(ke);
        });
        Aggregator aggregator = new Aggregator(telemetry, stats, clock, meters::ingestLag);
        // drift (docs/drift.md): the ingest role feeds and judges; the control role's API reads and sets references
        drift = new io.edgefleet.cloud.drift.DriftMonitor(new io.edgefleet.cloud.drift.DriftRepository(store), events, driftSettings, clock);
        if (config.roles().contains(Role.INGEST)) {
            drift.listen(new io.edgefleet.cloud.drift.DriftMeters(Services.get(MeterRegistry.class))::accept);
            aggregator.afterStore(drift::offer);
            aggregator.afterStore(new io.edgefleet.cloud.rollout.ShadowReadings(store)::record); // shadow waves (docs/shadow.md)
            aggregator.afterStore(new io.edgefleet.cloud.ab.Experiments(store, registry, fleet, (f, d, c) -> false,
                    io.edgefleet.cloud.lease.Leadership.SINGLE, clock)::record); // A/B arms' readings (docs/ab.md)
            var d = drift;
            housekeeping.scheduleWithFixedDelay(() -> safely(d::runOnce), 5, 5, TimeUnit.SECONDS);
        }
        // the device CA (own, or the operator's): trust anchor of client certificates, issuer of the
        // embedded server certificate, of the control plane's service identities and of device certificates
        ca = io.edgefleet.cloud.pki.DevicePki.authority(config.pki(), config.pkiDir());
        io.edgefleet.cloud.sender.SenderSettings senderSettings = config.senders();
        if (config.roles().contains(Role.CONTROL) || config.roles().contains(Role.INGEST)) {
            // both check senders against the enrolment registry (the same database)
            pki = new io.edgefleet.cloud.pki.DevicePki(ca, config.pki(), new io.edgefleet.cloud.store.PkiRepository(store), events, clock);
            io.edgefleet.cloud.pki.ServiceIdentities.ensure(ca, config.pkiDir());
            Path services = io.edgefleet.cloud.pki.ServiceIdentities.folder(config.pkiDir());
            io.edgefleet.cloud.pki.SenderCertificates senderCertificates = io.edgefleet.cloud.pki.SenderCertificates.of(pki, clock);
            events.listen(e -> {
                if (e.kind().equals("device.enrolled") || e.kind().equals("certificate.renewed") || e.kind().equals("device.revoked")) {
                    try {
                        senderCertificates.invalidate(io.edgefleet.transport.pki.Identity.parse(e.subject()));
                    } catch (IllegalArgumentException notAnIdentity) {
                        // not a device subject: nothing cached under it
                    }
                }
            });
            senderSettings = senderSettings.withPki(senderCertificates, new io.edgefleet.transport.signing.MessageSigner(
                    Pem.privateKey(Pem.read(services.resolve("cloud-control-key.pem"))),
                    Pem.certificates(Pem.read(services.resolve("cloud-control.pem"))).get(0)));
        }
        senders = new io.edgefleet.cloud.sender.SenderGate(senderSettings, clock);
        commandSigning = new io.edgefleet.cloud.sender.CommandSigning(senderSettings.commandSigner(), clock);
        fleet = new FleetRegistry(new DeviceRepository(store), events, config.staleAfter(), clock);
        if (config.roles().contains(Role.INGEST)) {
            if (config.kafka().isPresent()) {
                sink = new KafkaSink(config.kafka().get(), stats);
                closeables.add(new KafkaAggregatorConsumer(config.kafka().get(), aggregator, stats));
            } else {
                sink = new DirectSink(aggregator, 500);
            }
            if (config.mqttUrl().isPresent()) {
                bridge = new TelemetryBridge(config.mqttUrl().get(), mqttTls().map(io.edgefleet.cloud.mqtt.CloudMqttTls::ingest),
                        "ef-cloud-ingest-" + config.instance(), sink, stats, senders);
                bridge.start();
            } else {
                LOG.log(System.Logger.Level.WARNING, "ingest role without mqtt.url: no telemetry will arrive");
            }
            long prune = Math.max(60_000, config.dedupeRetention().toMillis() / 24);
            housekeeping.scheduleWithFixedDelay(() -> safely(() -> telemetry.pruneSeen(clock.instant().minus(config.dedupeRetention()))),
                    prune, prune, TimeUnit.MILLISECONDS);
        }
        SyncRoutes sync = null;
        if (config.roles().contains(Role.CONTROL) || config.roles().contains(Role.INFERENCE)) {
            // API, sync and inference callers: the inference role alone also takes tokens
            tokens = config.tokens().isEmpty() ? tokenFiles(config.dataDir().resolve("tokens"), !tokenStore.any()) : config.tokens();
            for (Token t : tokens) {
                if (tokenStore.ensure(t.name(), t.role().scopes(), t.secret(), config.tokens().isEmpty() ? "token-file" : "config")) {
                    LOG.log(System.Logger.Level.INFO, "API token {0} ({1}) imported as a named token with scopes {2}", t.name(),
                            t.role().name().toLowerCase(java.util.Locale.ROOT), Scope.join(t.role().scopes()));
                }
            }
        }
        if (config.roles().contains(Role.CONTROL) || config.roles().contains(Role.INFERENCE)) {
            SigningKey key = SigningKey.loadOrCreate(config.keyDir(), config.signingKeyId());
            // on PostgreSQL the chunks table is the store of record and data-dir/chunks a cache: every replica serves every chunk
            ChunkStore chunks = new ChunkStore(config.dataDir().resolve("chunks"), store.kind() == io.edgefleet.cloud.store.DatabaseSettings.Kind.POSTGRESQL
                    ? Optional.of(new io.edgefleet.cloud.store.ChunkTable(store, clock)) : Optional.empty());
            registry = new ModelRegistry(new ModelRepository(store), events, chunks, key,
                    DeviceCatalog.builtIn(), config.validation(), 2, clock);
            if (store.kind() == io.edgefleet.cloud.store.DatabaseSettings.Kind.POSTGRESQL) {
                registry.checkSigningKeyAgainstStored().ifPresent(w -> LOG.log(System.Logger.Level.WARNING, w));
            }
        }
        if (config.roles().contains(Role.INFERENCE)) {
            java.util.function.IntConsumer sizes = meters.inference(
                    () -> inference == null ? 0 : inference.queueDepths().values().stream().mapToInt(Integer::intValue).sum());
            inference = new CloudInference(registry, config.dataDir().resolve("inference"), config.batching(),
                    new io.edgefleet.engines.EngineOptions(Math.max(1, Runtime.getRuntime().availableProcessors() / 2), true,
                            List.of("cuda", "cpu"), 0, 4L << 30, true, java.time.Duration.ofSeconds(5)), n -> sizes.accept(n));
            inference.useTracing(tracing);
            events.listen(e -> {
                if (e.kind().equals("model.registered")) {
                    String[] mv = e.subject().split("/", 2);
                    Thread.ofVirtual().start(() -> inference.preload(mv[0], mv[1]));
                }
            });
        }
        if (config.roles().contains(Role.CONTROL)) {
            if (store.kind() == io.edgefleet.cloud.store.DatabaseSettings.Kind.POSTGRESQL) {
                // the holder id changes at every start: a restarted replica never mistakes its predecessor's lease for its own
                lease = new io.edgefleet.cloud.lease.LeaderLease(store, "control-plane", config.instance() + "-"
                        + java.util.UUID.randomUUID().toString().substring(0, 8), config.database().lease(), System::nanoTime);
                leadership = lease;
                var l = lease;
                closeables.add(meters.leadership(lease.holder(), l::isLeader, () -> l.token().orElse(0)));
                lease.start();
            } else {
                closeables.add(meters.leadership(config.instance(), () -> true, () -> 0));
            }
            sync = new SyncRoutes(registry, registry.chunks(), 256);
            long day = TimeUnit.DAYS.toMillis(1);
            housekeeping.scheduleWithFixedDelay(leaderOnly(() -> auditLog.prune(clock.instant().minus(config.access().auditRetention()))),
                    0, day, TimeUnit.MILLISECONDS);
            commandTracing = new io.edgefleet.cloud.rollout.CommandTracing(tracing);
            var commands = new io.edgefleet.cloud.mqtt.MqttCommandChannel(commandTracing, commandSigning);
            rollouts = new RolloutEngine(new RolloutStore(store), registry, fleet, telemetry, events, commands, clock, leadership);
            rollouts.useShadowReadings(new io.edgefleet.cloud.rollout.ShadowReadings(store));
            experiments = new io.edgefleet.cloud.ab.Experiments(store, registry, fleet, commands, leadership, clock); // A/B (docs/ab.md)
            rollouts.alsoAcknowledge(experiments.commands()::acknowledge); // split commands tracked on the rollouts' ack path
            rollouts.alsoRefuse(experiments::blocksRollout); // no rollout of a model an experiment splits (409), as no experiment during a rollout
            var splitCommands = experiments.commands();
            housekeeping.scheduleWithFixedDelay(leaderOnly(() -> splitCommands.runOnce(Optional.empty())), 1, 1, TimeUnit.SECONDS); // re-sends
            rollouts.useDrift(drift);
            if (config.mqttUrl().isPresent()) {
                StateListener states = new StateListener(fleet, senders);
                io.edgefleet.protocols.messages.MessageCodec json = io.edgefleet.protocols.messages.MessageCodec.json();
                var acks = new io.edgefleet.cloud.mqtt.AckRouter(senders, commandTracing, rollouts::onAck);
                // states and acks applied in batches off the callback thread, each PUBACK after its commit (issue 18)
                inbox = new io.edgefleet.cloud.mqtt.DeviceInbox(states, fleet, acks, rollouts, INBOX_CAPACITY, INBOX_BATCH);
                var in = inbox;
                control = CloudMqtt.session(config.mqttUrl().get(), mqttTls().map(io.edgefleet.cloud.mqtt.CloudMqttTls::control),
                        "ef-cloud-control-" + config.instance(), true, controlFilters(), (m, ack) -> {
                            String topic = m.topic();
                            if (topic.endsWith("/state")) {
                                in.offer(m, ack, true);
                            } else if (topic.endsWith("/" + TopicKind.LOGS.wire())) {
                                storeLogs(m, json);
                                ack.ack();
                            } else {
                                in.offer(m, ack, false);
                            }
                        }, sharedDeviceMessages() ? SHARED_SESSION_EXPIRY_SECONDS : 24L * 3600);
                commands.attach(control);
                control.start();
            }
            rollouts.start(config.rolloutTick());
            housekeeping.scheduleWithFixedDelay(() -> safely(pki::refresh), 5, 5, TimeUnit.SECONDS); // other replicas' revocations
            brokerAdmin().ifPresent(this::administerBroker);
            long sweep = Math.max(100, config.staleAfter().toMillis() / 4);
            // once per fleet, on the leader: the offline sweep records one device.offline event per device, not one per replica
            housekeeping.scheduleWithFixedDelay(leaderOnly(fleet::sweep), sweep, sweep, TimeUnit.MILLISECONDS);
            housekeeping.scheduleWithFixedDelay(leaderOnly(logs::prune), 1, 60, TimeUnit.MINUTES); // central logs' retention
        }
        server = webServer(sync);
        server.start();
        if (!server.isRunning() || server.port() < 0) { // taken since the check: Helidon logs it and returns
            throw new PortUnavailableException("HTTP", config.httpHost(), config.httpPort(), HTTP_PORT_SETTING, null);
        }
        LOG.log(System.Logger.Level.INFO, "control plane {0} ({1}) on {2}://{3}:{4,number,#}/api/v1, data in {5}", config.instance(),
                config.roles(), config.httpTls().scheme(), config.httpHost(), server.port(), config.dataDir());
    }

    /**
     * The control session's subscriptions. On PostgreSQL, where replicas share one database, states and acks are MQTT 5
     * shared subscriptions of group {@value #CONTROL_GROUP}: each message reaches one replica, which applies it for all
     * (two replicas applying every message wrote each device row twice and conflicted). A broker sends no retained
     * message to a new shared subscription (MQTT 5 section 4.8.2): a replica needs none, the devices' rows are in the
     * database, and every agent republishes its retained state each heartbeat. On SQLite (one node) the plain filters
     * stay, so a node started on a fresh data folder still receives every device's retained state at once. Logs stay
     * plain on both (docs/control-plane.md "Replicas"). A shared member's broker session expires
     * {@value #SHARED_SESSION_EXPIRY_SECONDS} s after its connection is lost ({@link CloudMqtt}: Mosquitto hands a
     * disconnected member its share until then).
     */
    private boolean sharedDeviceMessages() {
        return store.kind() == io.edgefleet.cloud.store.DatabaseSettings.Kind.POSTGRESQL;
    }

    private List<String> controlFilters() {
        boolean shared = sharedDeviceMessages();
        return List.of(shared ? Topic.sharedFilterAll(CONTROL_GROUP, TopicKind.STATE) : Topic.filterAll(TopicKind.STATE),
                shared ? Topic.sharedFilterAll(CONTROL_GROUP, TopicKind.COMMAND_ACK) : Topic.filterAll(TopicKind.COMMAND_ACK),
                Topic.filterAll(TopicKind.LOGS));
    }

    /** Central logs: a batch an agent forwarded, stored once when its sender is proven and it names the topic's device. */
    private void storeLogs(io.edgefleet.transport.mqtt.Delivery m, io.edgefleet.protocols.messages.MessageCodec json) {
        String topic = m.topic();
        if (!senders.accept(topic, m.payload(), io.edgefleet.transport.signing.SessionSignatures.userProperties(m.metadata()))) {
            return; // as for acks: a batch whose sender is not proven is not stored
        }
        try {
            var b = json.decode(m.payload(), io.edgefleet.protocols.messages.LogBatch.class);
            var t = m.parsed().orElseThrow(() -> new io.edgefleet.protocols.ProtocolException("topic", "not a device topic"));
            if (!b.device().equals(t.device()) || !b.fleet().equals(t.fleet())) {
                throw new io.edgefleet.protocols.ProtocolException("device", "logs of " + b.fleet() + "/" + b.device() + " published on " + topic);
            }
            logs.store(b);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "log batch on {0} not stored: {1}", topic, e.getMessage());
        }
    }

    /** A housekeeping job that runs once per fleet: skipped on a replica that does not lead. */
    private Runnable leaderOnly(Runnable r) {
        return () -> {
            if (leadership.isLeader()) {
                safely(r);
            }
        };
    }

    private static void safely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "housekeeping: {0}", e.toString());
        }
    }

    /**
     * The MQTT identities of the control and ingest sessions: the configured ones, else, for an
     * {@code ssl://} broker, the service identities of this control plane's CA
     * ({@code pki/services/cloud-control.pem}, {@code cloud-ingest.pem}; see {@code ServiceIdentities}).
     */
    private Optional<io.edgefleet.cloud.mqtt.CloudMqttTls> mqttTls() {
        if (config.mqttTls().isPresent() || config.mqttUrl().filter(u -> u.startsWith("ssl://")).isEmpty()) {
            return config.mqttTls();
        }
        Path services = io.edgefleet.cloud.pki.ServiceIdentities.folder(config.pkiDir());
        return Optional.of(io.edgefleet.cloud.mqtt.CloudMqttTls.fromPem(services.resolve("ca.pem"),
                services.resolve("cloud-control-key.pem"), services.resolve("cloud-control.pem"),
                services.resolve("cloud-ingest-key.pem"), services.resolve("cloud-ingest.pem")));
    }

    /**
     * The broker's admin session: the configured one, else, for an {@code ssl://} broker when this
     * data folder holds the {@code broker-admin} identity ({@code edgefleet cloud} writes it with the
     * secured Mosquitto's config on first start), that broker itself.
     */
    private Optional<io.edgefleet.cloud.broker.BrokerAdminSettings> brokerAdmin() {
        if (config.brokerAdmin().isPresent()) {
            return config.brokerAdmin();
        }
        return config.mqttUrl().filter(u -> u.startsWith("ssl://"))
                .filter(u -> java.nio.file.Files.exists(config.pkiDir().resolve(io.edgefleet.cloud.broker.MosquittoConfig.ADMIN_CERT)))
                .map(io.edgefleet.cloud.broker.BrokerAdminSettings::of);
    }

    /**
     * Keeps a secured Mosquitto's dynamic security in step with the device CA: each enrolled device
     * is granted its rights ({@code TopicRights}), each revoked one is deleted there (its sessions
     * dropped at once) and, with a broker folder, the CRL rewritten and the reload command run. The
     * grant of an enrolment runs before the enrolment answers, so a device never connects ahead of
     * its rights (an enrolment waits at most {@code broker-admin.timeout-ms} for the broker). A
     * broker that cannot be reached is logged: the device's certificate is valid but it has no rights
     * until the next grant (enrol again or restart the control plane, which grants every enrolled
     * device).
     */
    private void administerBroker(io.edgefleet.cloud.broker.BrokerAdminSettings settings) {
        io.edgefleet.cloud.broker.DynamicSecurity dynsec = settings.open(config.pkiDir());
        closeables.add(dynsec);
        io.edgefleet.cloud.broker.BrokerRevocation revocation = settings.revocation(dynsec, ca,
                () -> new io.edgefleet.cloud.store.PkiRepository(store).revoked());
        pki.onRevocation(r -> {
            try {
                revocation.revoke(r.identity());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "revocation of {0} not applied at the broker: {1}", r.identity(), e.getMessage());
            }
        });
        events.listen(e -> {
            if (e.kind().equals("device.enrolled")) {
                // on the enrolling request's thread: the device receives its certificate only once the broker holds its
                // rights (or the grant failed, logged, after at most the admin timeout). Granted later, a device that
                // connects at once is let in with no rights: its subscriptions refused, its state dropped, until it reconnects.
                grant(dynsec, e.subject());
            }
        });
        Thread.ofVirtual().start(() -> fleet.select(io.edgefleet.cloud.fleet.Selector.parse("")).stream()
                .filter(d -> d.enrolledAt().isPresent()).forEach(d -> grant(dynsec, d.fleet() + "/" + d.device())));
    }

    private static void grant(io.edgefleet.cloud.broker.DynamicSecurity dynsec, String identity) {
        try {
            dynsec.grant(io.edgefleet.transport.pki.Identity.parse(identity));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "broker rights of {0} not granted: {1}", identity, e.getMessage());
        }
    }

    private WebServer webServer(SyncRoutes sync) {
        meters.ingest(stats, () -> sink == null ? 0 : sink.pending());
        if (fleet != null && config.roles().contains(Role.CONTROL)) {
            fleetMeters = new io.edgefleet.cloud.metrics.FleetMeters(Services.get(MeterRegistry.class), fleet,
                    Optional.of(new io.edgefleet.cloud.rollout.RolloutStore(store)), Optional.ofNullable(registry), RESOURCE_TOP_N);
            var f = fleetMeters;
            housekeeping.scheduleWithFixedDelay(() -> safely(f::refresh), 0, FLEET_METERS_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        }
        var health = HealthObserver.builder().details(true)
                .addCheck(() -> HealthCheckResponse.builder().status(true).detail("events", events.list(Optional.empty(), 1).size()).build(),
                        HealthCheckType.LIVENESS, "database");
        if (config.roles().contains(Role.CONTROL)) {
            // informational: a follower is as ready to serve the API as the leader
            health.addCheck(() -> {
                var b = HealthCheckResponse.builder().status(true);
                leader().forEach(b::detail);
                return b.build();
            }, HealthCheckType.READINESS, "leader");
        }
        if (config.mqttUrl().isPresent()) {
            health.addCheck(() -> HealthCheckResponse.builder().status(mqttConnected()).detail("broker", config.mqttUrl().get()).build(),
                    HealthCheckType.READINESS, "mqtt");
        }
        Auth auth = !config.roles().contains(Role.CONTROL) ? null : new Auth(tokenStore, config.access().oidc().map(JwtVerifier::new));
        io.edgefleet.cloud.pki.PkiRoutes pkiRoutes = auth == null || pki == null ? null : new io.edgefleet.cloud.pki.PkiRoutes(pki,
                Optional.of(new CallAudit(auditLog, config.access().trustedProxies())));
        ApiRoutes api = !config.roles().contains(Role.CONTROL) ? null : new ApiRoutes(
                auth,
                new CallAudit(auditLog, config.access().trustedProxies()), new AccessApi(tokenStore, auditLog, clock), registry, rollouts, fleet, telemetry, events, stats,
                DeviceCatalog.builtIn(), config.dataDir().resolve("uploads"), config.maxUploadBytes(), this::status);
        SyncRoutes s = sync;
        var builder = WebServer.builder()
                .connectionOptions(o -> o.tcpNoDelay(true))
                .host(config.httpHost())
                .port(config.httpPort())
                .maxPayloadSize(config.maxUploadBytes())
                .shutdownHook(false)
                .routing(r -> {
                    r.addFilter(new io.edgefleet.cloud.tls.CallerFilter(Optional.of(new Auth(tokenStore, config.access().oidc().map(JwtVerifier::new))),
                            serial -> revocations.isRevoked(serial) || (pki != null && pki.isRevoked(serial))));
                    if (s != null) {
                        s.routing(r);
                    }
                    if (pkiRoutes != null) { // before the API's catch-all
                        pkiRoutes.routing(r, api);
                    }
                    if (api != null) { // central logs, before the API's catch-all
                        new io.edgefleet.cloud.api.LogRoutes(logs, clock).routing(r, api);
                    }
                    if (api != null && experiments != null) { // A/B experiments, before the API's catch-all
                        new io.edgefleet.cloud.ab.AbRoutes(experiments).routing(r, api);
                    }
                    if (api != null && registry != null) { // drift references and state, before the API's catch-all
                        new io.edgefleet.cloud.drift.DriftRoutes(drift, registry, config.maxUploadBytes()).routing(r, api);
                    }
                    if (api != null) {
                        io.edgefleet.cloud.console.Console.routing(r);
                        io.edgefleet.cloud.api.ApiDocs.routing(r);
                        api.routing(r);
                    }
                    if (inference != null) {
                        new InferenceRoutes(inference, io.edgefleet.protocols.oip.OipCodec.create(), meters::inference)
                                .useTracing(tracing).routing(r);
                    }
                })
                .addFeature(ObserveFeature.just(health.build(), MetricsObserver.create()));
        if (api != null) {
            builder.addFeature(io.edgefleet.cloud.api.ApiDocs.feature());
        }
        if (config.httpTls().enabled()) {
            io.edgefleet.cloud.tls.HttpTls t = config.httpTls();
            io.edgefleet.cloud.tls.ServerCertificate cert = t.certificate().isPresent()
                    ? io.edgefleet.cloud.tls.ServerCertificate.fromFiles(t.certificate().get(), t.key().get())
                    : io.edgefleet.cloud.tls.ServerCertificate.loadOrIssue(config.pkiDir(), ca,
                            io.edgefleet.cloud.tls.ServerCertificate.hostsFor(config.httpHost(), t.hosts()));
            builder.tls(tls -> tls.privateKey(cert.key()).privateKeyCertChain(cert.chain()).trust(List.of(ca.certificate()))
                    .clientAuth(io.helidon.common.tls.TlsClientAuth.OPTIONAL)
                    .endpointIdentificationAlgorithm(io.helidon.common.tls.Tls.ENDPOINT_IDENTIFICATION_NONE));
        }
        deadlines = config.httpLimits().applyTo(builder, clientFailures);
        return builder.build();
    }

    private boolean mqttConnected() {
        return (control == null || control.isConnected()) && (bridge == null || bridge.isConnected());
    }

    private Map<String, Object> status() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("service", "edgefleet-control-plane");
        m.put("version", VERSION);
        m.put("instance", config.instance());
        m.put("roles", config.roles().stream().map(Role::wire).sorted().toList());
        m.put("mqtt", config.mqttUrl().map(u -> Map.of("url", u, "connected", mqttConnected())).orElse(Map.of()));
        m.put("kafka", config.kafka().map(k -> Map.of("bootstrapServers", k.bootstrapServers())).orElse(Map.of()));
        m.put("staleAfterSeconds", config.staleAfter().toSeconds());
        m.put("syncBase", "/sync/v1");
        if (config.roles().contains(Role.CONTROL)) {
            m.put("leader", leader());
        }
        return m;
    }

    /**
     * Which replica leads, as this one last read the lease: {@code replica} (this process's holder id), {@code leader}
     * (whether it leads now), {@code token} (the fencing token it holds; 0 when none), {@code leaderReplica} and
     * {@code leaderToken} (the lease row's holder and token), {@code leaseExpiresInMs}, {@code store}.
     */
    private Map<String, Object> leader() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (lease == null) {
            m.put("replica", config.instance());
            m.put("leader", true);
            m.put("token", 0);
            m.put("store", "sqlite (single node: always leads)");
            return m;
        }
        var o = lease.observed();
        m.put("replica", lease.holder());
        m.put("leader", lease.isLeader());
        m.put("token", lease.token().orElse(0));
        m.put("leaderReplica", o.holder().filter(h -> o.expiresInMillis() >= 0).orElse("(none: lease expired)"));
        m.put("leaderToken", o.token());
        m.put("leaseExpiresInMs", o.expiresInMillis());
        m.put("store", "postgresql (lease " + lease.settings().duration().toMillis() + " ms, renew deadline "
                + lease.settings().renewDeadline().toMillis() + " ms, retry " + lease.settings().retry().toMillis() + " ms)");
        return m;
    }

    /** Who runs the once-per-fleet work in this process (always this one on SQLite). */
    public io.edgefleet.cloud.lease.Leadership leadership() {
        return leadership;
    }

    /**
     * The token files {@code dir/operator.token} and {@code dir/viewer.token}: on the first start
     * ({@code create}: no token is stored yet) they are created (a secret {@code eft_} + 256 random
     * bits, mode 0600) so the embedded defaults are secure without setup; later only the files that
     * exist are read. Each is then imported as a named token ({@link TokenStore#ensure}).
     */
    static List<Token> tokenFiles(Path dir, boolean create) {
        List<Token> out = new ArrayList<>();
        for (Token.Role role : Token.Role.values()) {
            String name = role.name().toLowerCase(java.util.Locale.ROOT);
            Path f = dir.resolve(name + ".token");
            try {
                if (!Files.exists(f)) {
                    if (!create) {
                        continue;
                    }
                    Files.createDirectories(dir);
                    byte[] b = new byte[32];
                    new SecureRandom().nextBytes(b);
                    Files.writeString(f, TokenStore.PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(b) + "\n");
                    try {
                        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
                    } catch (UnsupportedOperationException e) {
                        // not POSIX
                    }
                    LOG.log(System.Logger.Level.INFO, "created API token {0}", f);
                }
                out.add(new Token(name, role, Files.readString(f).strip()));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create API token " + f, e);
            }
        }
        return out;
    }

    /** The named API tokens. */
    public TokenStore tokenStore() {
        return tokenStore;
    }

    /** The audit of calls. */
    public AuditLog audit() {
        return auditLog;
    }

    public int port() {
        return server.port();
    }

    /** The API's base URL as a client on this machine reaches it: {@code https://127.0.0.1:PORT} (or {@code http} when TLS is off). */
    public java.net.URI baseUri() {
        String host = config.httpHost().equals("0.0.0.0") || config.httpHost().equals("::") ? "127.0.0.1" : config.httpHost();
        return java.net.URI.create(config.httpTls().scheme() + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + server.port());
    }

    /** The device CA: issues device certificates; clients trust its certificate ({@code pki/ca.pem}). */
    public io.edgefleet.transport.pki.CertificateAuthority certificateAuthority() {
        return ca;
    }

    public CloudConfig config() {
        return config;
    }

    /** The drift monitor (docs/drift.md): references, judged windows, and what a rollout gate on drift would read. */
    public io.edgefleet.cloud.drift.DriftMonitor drift() {
        return drift;
    }

    public ModelRegistry registry() {
        return registry;
    }

    /** The A/B experiments (docs/ab.md), when this process runs the control role. */
    public Optional<io.edgefleet.cloud.ab.Experiments> experiments() {
        return Optional.ofNullable(experiments);
    }

    public RolloutEngine rollouts() {
        return rollouts;
    }

    public CloudInference inference() {
        return inference;
    }

    /** The batches of states and acks this replica applies; empty without MQTT or without the control role. */
    public Optional<io.edgefleet.cloud.mqtt.DeviceInbox> inbox() {
        return Optional.ofNullable(inbox);
    }

    public FleetRegistry fleet() {
        return fleet;
    }

    /** Central logs: what agents forwarded. */
    public io.edgefleet.cloud.store.LogRepository logs() {
        return logs;
    }

    public TelemetryRepository telemetry() {
        return telemetry;
    }

    public EventRepository events() {
        return events;
    }

    public IngestStats ingestStats() {
        return stats;
    }

    /**
     * The device CA, enrolment tokens and revocations (control role; null otherwise). It is also the
     * {@link io.edgefleet.cloud.pki.Revocations} and {@link io.edgefleet.cloud.pki.DeviceCertificates}
     * the broker, HTTPS and message checks query.
     */
    public io.edgefleet.cloud.pki.DevicePki pki() {
        return pki;
    }

    /** The tokens given outside the API (configuration or token files), imported into {@link #tokenStore}. */
    public List<Token> tokens() {
        return tokens;
    }

    /** Publishes on the fleet's broker through the control session (commands; used by rollouts). */
    /** The door for device messages: what it refused, by reason (issue 15). */
    public io.edgefleet.cloud.sender.SenderGate senderGate() {
        return senders;
    }

    public Optional<io.edgefleet.transport.mqtt.MqttSession> controlMqtt() {
        return Optional.ofNullable(control);
    }

    /** Stops taking new work first (MQTT), lets the sink finish, then the server and the database. */
    @Override
    public void close() {
        housekeeping.shutdownNow();
        if (fleetMeters != null) {
            fleetMeters.close(); // the registry is the process's: a closed control plane leaves no gauges behind
        }
        if (rollouts != null) {
            rollouts.close();
        }
        if (lease != null) {
            lease.close(); // after the engine stopped: the next leader takes over within one retry instead of a whole lease
        }
        if (inference != null) {
            inference.close();
        }
        if (bridge != null) {
            bridge.close();
        }
        if (sink != null) {
            sink.close();
        }
        for (AutoCloseable c : closeables.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "closing {0}: {1}", c.getClass().getSimpleName(), e.getMessage());
            }
        }
        if (inbox != null) {
            inbox.close(); // what it still holds is not acknowledged: the broker sends it again on the next session
        }
        if (control != null) {
            control.close();
        }
        if (server != null && server.isRunning()) {
            server.stop();
        }
        if (deadlines != null) {
            deadlines.close();
        }
        store.close();
    }
}
