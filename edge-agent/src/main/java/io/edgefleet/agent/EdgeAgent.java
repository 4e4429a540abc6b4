package io.edgefleet.agent;

import io.edgefleet.agent.coap.CoapApi;
import io.edgefleet.agent.commands.CommandHandler;
import io.edgefleet.agent.http.AgentObserve;
import io.edgefleet.agent.http.OipHttp;
import io.edgefleet.agent.mqtt.MqttLink;
import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.agent.slots.Watchdog;
import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.agent.telemetry.TelemetryPublisher;
import io.edgefleet.agent.telemetry.TelemetryRecorder;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.transport.net.PortUnavailableException;
import io.edgefleet.protocols.oip.OipCodec;
import io.helidon.webserver.WebServer;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The edge agent, wired: store, model slots, inference service and the HTTP server. {@link #start}
 * restores the models recorded in the data folder, installs those of the models folder
 * (standalone mode), then opens the HTTP port. {@link #close} stops taking requests, lets
 * in-flight ones finish within the drain timeout, then frees the models. Tests use the same
 * wiring as {@code main}.
 */
public final class EdgeAgent implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(EdgeAgent.class.getName());
    public static final String VERSION = versionOf();

    private final AgentConfig config;
    private final java.util.Optional<io.edgefleet.agent.identity.AgentIdentity> identity;
    private final AgentStore store;
    private final ModelSlots slots;
    private final InferenceService inference;
    private final java.util.Optional<WebServer> http;
    private final java.util.List<java.util.function.Consumer<io.edgefleet.agent.telemetry.Observation>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.Optional<MqttLink> mqtt;
    private final java.util.Optional<CoapApi> coap;
    private final TelemetryRecorder telemetry;
    private final io.edgefleet.agent.shadow.ShadowRunner shadow;
    private final io.edgefleet.agent.split.SplitRouter splits;
    private final java.util.Optional<io.edgefleet.agent.logs.LogForwarder> centralLogs;
    private final Watchdog watchdog;
    private final java.util.concurrent.ScheduledExecutorService loop = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("agent-telemetry").daemon().unstarted(r));
    private final AtomicBoolean ready = new AtomicBoolean();
    private final AtomicBoolean httpStopped = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final io.edgefleet.agent.health.ListenerHealth health = new io.edgefleet.agent.health.ListenerHealth();
    private final io.edgefleet.transport.net.ClientFailureLog clientFailures = new io.edgefleet.transport.net.ClientFailureLog(
            "io.edgefleet.agent.clients");
    private final java.util.Optional<io.edgefleet.http.limits.ReadDeadlines> deadlines;
    private final HostRuntimes runtimes = HostRuntimes.probed();
    private volatile java.util.function.Consumer<String> onListenerDeath = reason -> { };

    private EdgeAgent(AgentConfig config, io.edgefleet.transport.tracing.Tracing tracing) {
        // fields that the constructor's failure path (close) touches are set first
        this.config = config;
        // first: without its identity a device with enrolment settings must not start at all (fail closed)
        this.identity = config.enrolment().map(e -> io.edgefleet.agent.identity.AgentIdentity.open(config.identityDir(), config.fleet(),
                config.device(), e, Clock.systemUTC()));
        // towards the cloud (sync, escalation): the enrolled identity's certificate (its context trusts the CA pinned at
        // enrolment) unless the configuration names a client certificate of its own; a CA alone (--cloud-ca) served the enrolment
        io.edgefleet.transport.http.HttpCredentials cloud = identity.isPresent() && !config.tls().cloud().hasClientCertificate()
                ? config.tls().cloud().withTls(identity.get().sslContexts()) : config.tls().cloud();
        this.store = AgentStore.open(config.dataDir());
        this.slots = new ModelSlots(config.dataDir(), store, config.engineOptions(), config.isolation(), config.selfTest());
        this.inference = new InferenceService(slots, config.threadsPerModel(), config.queueCapacity(), config.requestTimeout());
        inference.useTracing(tracing);
        config.escalation().ifPresent(e -> inference.enableEscalation(
                traced(new io.edgefleet.agent.serving.CloudFallback(e.url(), e.breakerFailures(), e.breakerOpen(), cloud, Clock.systemUTC()), tracing),
                // A policy the cloud set with a configure command wins over the configuration file's.
                model -> io.edgefleet.agent.serving.EscalationPolicy.fromSettings(store.settings(model))
                        .or(() -> java.util.Optional.ofNullable(e.policies().get(model)))));
        OipCodec codec = OipCodec.create(DecodeLimits.DEFAULT.withMaxMessageBytes(config.maxPayloadBytes()));
        OipHttp oip = new OipHttp(inference, slots, codec, "edgefleet-agent", VERSION, ready::get, clientFailures,
                config.maxPayloadBytes());
        oip.useTracing(tracing);
        this.telemetry = new TelemetryRecorder(store, config.fleet(), config.device(), config.telemetry().window(),
                config.telemetry().maxOutboxRows(), Clock.systemUTC(), resourceReadings(config.dataDir()),
                config.telemetry().heartbeat());
        this.watchdog = new Watchdog(slots, config.watchdog(), Clock.systemUTC());
        AgentObserve observe = new AgentObserve(model -> slots.activeVersions().containsKey(model));
        inference.observe(o -> {
            telemetry.record(o);
            watchdog.observe(o);
            observe.count(o);
            listeners.forEach(l -> l.accept(o));
        });
        inference.sampleInputs(watchdog::offer); // paired timings of a new version against the one it replaced
        // a shadow candidate runs on a sampled share of the answered requests, off the answer path (docs/shadow.md)
        this.shadow = new io.edgefleet.agent.shadow.ShadowRunner(slots, config.shadow());
        inference.onAnswer(shadow::offer);
        telemetry.shadowStats(shadow::drain);
        // A/B experiments: both arms answer; counts per arm go out with each version's window (docs/ab.md)
        this.splits = new io.edgefleet.agent.split.SplitRouter(slots);
        inference.split(splits);
        telemetry.splitStats(splits::drain);
        telemetry.splitPending(splits::pending);
        oip.feedback(splits); // labels come back to the device that answered (docs/ab.md "Feedback and accuracy")
        CommandHandler commands = new CommandHandler(slots, store, config.device(), Clock.systemUTC(), config.sync().map(sync -> {
            io.edgefleet.profiles.DeviceProfile profile = io.edgefleet.profiles.catalog.DeviceCatalog.builtIn().find(config.profile())
                    .orElseGet(() -> io.edgefleet.profiles.probe.HostProbe.create().probe().profile());
            var client = new io.edgefleet.sync.client.SyncClient(sync.url(), new io.edgefleet.sync.chunks.ChunkStore(config.dataDir().resolve("sync")),
                    sync.trust(), new io.edgefleet.sync.client.SyncClient.Options(4, sync.bytesPerSecond(), 6, java.time.Duration.ofSeconds(30),
                            java.time.Duration.ofMillis(200)), cloud, Clock.systemUTC());
            // never a variant whose runtime does not load here (TFLite on linux/aarch64 without a configured library)
            return (io.edgefleet.agent.commands.Deployer) new io.edgefleet.agent.commands.SyncDeployer(client, profile, config.dataDir(),
                    runtimes::notLoadable, config.device());
        }));
        commands.splits(splits);
        this.commands = commands;
        // MQTT over TLS: the configured identity, else the enrolled one for an ssl:// broker
        java.util.Optional<io.edgefleet.transport.mqtt.MqttTls> mqttTls = config.mqttTls().or(() -> config.mqttUrl()
                .filter(u -> u.startsWith("ssl://")).flatMap(u -> identity.map(i -> new io.edgefleet.transport.mqtt.MqttTls(i.sslContexts()))));
        this.mqtt = config.mqttUrl().map(url -> new MqttLink(url, mqttTls, config.fleet(), config.device(), config.profile(), slots, inference,
                commands, codec, config.mqttMaxInFlight(), config.maxPayloadBytes(), clientFailures, Clock.systemUTC()));
        mqtt.ifPresent(m -> m.useTracing(tracing));
        this.centralLogs = mqtt.isPresent() && config.telemetry().logs().forward()
                ? java.util.Optional.of(new io.edgefleet.agent.logs.LogForwarder(config.telemetry().logs(), store, config.fleet(), config.device(),
                        Clock.systemUTC()))
                : java.util.Optional.empty();
        mqtt.ifPresent(m -> watchdog.onRollback(m::reportAutoRollback));
        mqtt.ifPresent(m -> m.reportRuntimes(runtimes::reports));
        // issue 15: sign with the enrolled key, run only the control plane's signed commands (once enrolled)
        mqtt.ifPresent(m -> m.useSenderProof(io.edgefleet.agent.mqtt.SenderProof.fromFolder(config.dataDir().resolve("identity"), config.dataDir(),
                config.fleet(), config.device(), Clock.systemUTC())));
        this.coap = config.coapPort() < 0 ? java.util.Optional.empty() : java.util.Optional.of(
                new CoapApi(config.httpHost(), config.coapPort(), config.maxPayloadBytes(), config.tls().coap(), config.coapTransfer(), inference,
                        slots, codec, health));
        coap.ifPresent(c -> c.useTracing(tracing));
        coap.ifPresent(c -> c.feedback(splits)); // POST /feedback/{model}, as /infer/{model} (docs/ab.md)
        this.registerHealthChecks();
        if (config.httpPort() < 0) {
            this.http = java.util.Optional.empty();
            this.deadlines = java.util.Optional.empty();
        } else {
            var builder = WebServer.builder()
                    // only the features added below: with discovery on, whatever sits on the class path joins in
                    // (the all-in-one launcher's class path carries the control plane's OpenAPI feature, which then
                    // served the control plane's document from every agent)
                    .featuresDiscoverServices(false)
                    .connectionOptions(o -> o.tcpNoDelay(true)) // small responses otherwise wait on Nagle + delayed ACK: 25 ms per chunk measured
                    .host(config.httpHost())
                    .port(config.httpPort())
                    // the v2 handler refuses bodies over max-payload-bytes itself, with a problem body; this is the backstop
                    .maxPayloadSize(config.maxPayloadBytes() + 64 * 1024L)
                    .shutdownHook(false)
                    .routing(r -> {
                        oip.routing(r);
                        // Helidon calls afterStop when the listener ends, also when its accept loop dies ("Too many open files")
                        r.register(new io.helidon.webserver.http.HttpService() {
                            @Override
                            public void routing(io.helidon.webserver.http.HttpRules rules) {
                            }

                            @Override
                            public void afterStop() {
                                httpStopped.set(true);
                            }
                        });
                    })
                    .addFeature(observe.feature(slots, inference, store, ready::get,
                            () -> mqtt.map(MqttLink::isConnected).orElse(false), health,
                            () -> mqtt.map(MqttLink::dropped).orElse(0L), () -> mqtt.map(MqttLink::busy).orElse(0L),
                            () -> mqtt.map(MqttLink::outsideReplySpace).orElse(0L)));
            // optional TLS of the local API: the context's key and certificate (the agent identity's, or PEM files)
            config.tls().localHttp().ifPresent(ctx -> builder.tls(t -> t.sslContext(ctx.get())));
            this.deadlines = java.util.Optional.of(config.httpLimits().applyTo(builder, clientFailures));
            this.http = java.util.Optional.of(builder.build());
        }
    }

    /** The central-log forwarder: present in connected mode unless {@code agent.logs.forward} is false. */
    public java.util.Optional<io.edgefleet.agent.logs.LogForwarder> centralLogs() {
        return centralLogs;
    }

    /** Which model runtimes load on this device, with the reasons (probed on first use). */
    public HostRuntimes runtimes() {
        return runtimes;
    }

    /** Per window, what the process and host use; a reading that fails leaves the window's batch without it. */
    private static java.util.function.Supplier<java.util.Optional<io.edgefleet.protocols.messages.ResourceUsage>> resourceReadings(
            java.nio.file.Path dataDir) {
        io.edgefleet.agent.telemetry.ResourceProbe probe = io.edgefleet.agent.telemetry.ResourceProbe.create(dataDir);
        return () -> {
            try {
                return java.util.Optional.of(probe.read());
            } catch (RuntimeException e) {
                System.getLogger(EdgeAgent.class.getName()).log(System.Logger.Level.WARNING, "cannot read resource use: " + e);
                return java.util.Optional.empty();
            }
        };
    }

    private void registerHealthChecks() {
        health.add("http", () -> http.isPresent() && httpStopped.get() && !closing.get()
                ? java.util.Optional.of("the HTTP listener has stopped") : java.util.Optional.empty());
        health.add("mqtt", () -> mqtt.flatMap(MqttLink::problem));
    }

    /**
     * Builds and starts an agent.
     *
     * @throws PortUnavailableException when the HTTP or CoAP port cannot be bound (nothing is left running)
     * @throws io.edgefleet.agent.slots.SlotException when the models folder cannot be read, or in strict mode a file of it does not load
     */
    public static EdgeAgent start(AgentConfig config) {
        return start(config, io.edgefleet.transport.tracing.Tracing.off());
    }

    private static io.edgefleet.agent.serving.CloudFallback traced(io.edgefleet.agent.serving.CloudFallback f,
            io.edgefleet.transport.tracing.Tracing tracing) {
        f.useTracing(tracing);
        return f;
    }

    /**
     * Builds and starts an agent that traces its requests, commands and escalations with
     * {@code tracing} ({@link io.edgefleet.transport.tracing.Tracing#off()}: not at all). The caller
     * owns {@code tracing} and closes it after the agent (that flushes the last spans).
     *
     * @throws PortUnavailableException when the HTTP or CoAP port cannot be bound (nothing is left running)
     * @throws io.edgefleet.agent.slots.SlotException when the models folder cannot be read, or in strict mode a file of it does not load
     */
    public static EdgeAgent start(AgentConfig config, io.edgefleet.transport.tracing.Tracing tracing) {
        EdgeAgent agent = new EdgeAgent(config, java.util.Objects.requireNonNull(tracing, "tracing"));
        try {
            agent.slots.restore();
            config.modelsDir().ifPresent(dir -> {
                Map<String, String> served = agent.slots.serveDirectory(dir.path(), dir.strict());
                LOG.log(System.Logger.Level.INFO, "serving {0} from {1}", served, dir.path());
            });
            agent.commands.restoreCandidates(); // shadows and arms B kept across the restart (docs/shadow.md, docs/ab.md)
            agent.identity.ifPresent(io.edgefleet.agent.identity.AgentIdentity::start);
            agent.startListeners();
            agent.mqtt.ifPresent(MqttLink::start);
            agent.startTelemetryLoop();
            agent.ready.set(true);
            LOG.log(System.Logger.Level.DEBUG, "agent {0}/{1} ready: HTTP on {2}, CoAP on {3}", config.fleet(), config.device(),
                    agent.http.isPresent() ? config.httpHost() + ":" + agent.httpPort() : "off",
                    agent.coapPort().isPresent() ? Integer.toString(agent.coapPort().getAsInt()) : "off");
            return agent;
        } catch (RuntimeException e) {
            agent.close();
            throw e;
        }
    }

    /** The HTTP setting, named in the one-line error when its port cannot be bound. */
    public static final String HTTP_PORT_SETTING = "agent.http.port / --http-port";
    /** The CoAP setting, named in the one-line error when its port cannot be bound. */
    public static final String COAP_PORT_SETTING = "agent.coap.port / --coap-port";

    /** Binds HTTP then CoAP; a port that cannot be bound is a {@link PortUnavailableException} naming it and its setting. */
    private void startListeners() {
        if (http.isPresent()) {
            PortUnavailableException.requireTcp("HTTP", config.httpHost(), config.httpPort(), HTTP_PORT_SETTING);
            http.get().start();
            if (!http.get().isRunning() || http.get().port() < 0) { // taken in between: Helidon logs and returns
                throw new PortUnavailableException("HTTP", config.httpHost(), config.httpPort(), HTTP_PORT_SETTING, null);
            }
        }
        if (coap.isPresent()) {
            try {
                coap.get().start();
            } catch (java.io.UncheckedIOException e) {
                throw new PortUnavailableException("CoAP (UDP)", config.httpHost(), config.coapPort(), COAP_PORT_SETTING, e.getCause());
            }
        }
    }

    private void startTelemetryLoop() {
        TelemetryPublisher publisher = mqtt.map(m -> new TelemetryPublisher(store, m::sendTelemetry)).orElse(null);
        // central logs: the forwarder's queue into the outbox, then the outbox's log batches out, both marked as the
        // forwarding path (what they log is never forwarded)
        TelemetryPublisher logs = centralLogs.flatMap(f -> mqtt.map(m -> new TelemetryPublisher(store, AgentStore.LOGS, m::sendLogs))).orElse(null);
        centralLogs.ifPresent(io.edgefleet.agent.logs.LogForwarder::install);
        long period = Math.max(10, Math.min(1000, config.telemetry().window().toMillis() / 4));
        loop.scheduleWithFixedDelay(() -> {
            try {
                telemetry.runOnce();
                if (publisher != null) {
                    publisher.runOnce();
                }
                if (logs != null) {
                    centralLogs.get().runOnce();
                    io.edgefleet.agent.logs.LogForwarder.forwarding(logs::runOnce);
                }
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "telemetry loop: {0}", e.toString());
            }
        }, period, period, java.util.concurrent.TimeUnit.MILLISECONDS);
        loop.scheduleWithFixedDelay(this::supervise, 1000, 1000, java.util.concurrent.TimeUnit.MILLISECONDS);
        mqtt.ifPresent(m -> {
            long beat = config.telemetry().heartbeat().toMillis();
            loop.scheduleWithFixedDelay(() -> {
                if (m.isConnected()) {
                    m.publishState(true);
                }
            }, beat, beat, java.util.concurrent.TimeUnit.MILLISECONDS);
        });
    }

    /**
     * A listener that stopped by itself (the HTTP accept loop died) cannot be restarted in
     * place: health turns DOWN (CoAP {@code /health}, {@code /observe/health}) and the action
     * given here runs once, on the agent's telemetry thread. The CLI's action exits with status
     * 75 so that the supervisor (systemd, a container runtime) restarts the agent; embedders
     * choose their own. A deaf MQTT receiver is recovered in place instead ({@link MqttLink#problem}).
     */
    public void onListenerDeath(java.util.function.Consumer<String> action) {
        this.onListenerDeath = java.util.Objects.requireNonNull(action);
    }

    private final AtomicBoolean deathReported = new AtomicBoolean();

    private void supervise() {
        try {
            watchdog.runOnce(); // closes latency windows that ended without traffic
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "watchdog loop: {0}", e.toString());
        }
        health.problems().entrySet().stream().filter(e -> e.getKey().equals("http")).findFirst().ifPresent(e -> {
            if (deathReported.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.ERROR, "agent {0}/{1}: {2}", config.fleet(), config.device(), e.getValue());
                onListenerDeath.accept(e.getValue());
            }
        });
    }

    /** What is broken now, by part ({@code http}, {@code mqtt}); empty when every listener is alive. */
    public Map<String, String> healthProblems() {
        return health.problems();
    }

    /** The HTTP read deadlines of this agent's listener (connections they closed). */
    public java.util.Optional<io.edgefleet.http.limits.ReadDeadlines> readDeadlines() {
        return deadlines;
    }

    /** Stops the HTTP listener as a dead accept loop would (tests of the health checks). */
    void stopHttpListenerForTest() {
        http.ifPresent(WebServer::stop);
    }

    public Watchdog watchdog() {
        return watchdog;
    }

    /** The shadow runner: runs a model's shadow candidate on a sampled share of its requests (docs/shadow.md). */
    public io.edgefleet.agent.shadow.ShadowRunner shadow() {
        return shadow;
    }

    /** The A/B split router (docs/ab.md). */
    /** Applies the cloud's commands; its candidates are loaded again at start. */
    private final CommandHandler commands;

    public io.edgefleet.agent.split.SplitRouter splits() {
        return splits;
    }

    /** The telemetry recorder (windows into the outbox). */
    public TelemetryRecorder telemetry() {
        return telemetry;
    }

    public AgentStore store() {
        return store;
    }

    /** The HTTP port; -1 when the agent runs without an HTTP server. */
    public int httpPort() {
        return http.map(WebServer::port).orElse(-1);
    }

    /** Hears every observation the agent records for telemetry (one per answered or failed request). */
    public void addObservationListener(java.util.function.Consumer<io.edgefleet.agent.telemetry.Observation> listener) {
        listeners.add(listener);
    }

    public ModelSlots slots() {
        return slots;
    }

    public InferenceService inference() {
        return inference;
    }

    /** The CoAP UDP port; empty when CoAP is off. */
    public java.util.OptionalInt coapPort() {
        return coap.map(c -> java.util.OptionalInt.of(c.port())).orElse(java.util.OptionalInt.empty());
    }

    /** The MQTT side, in connected mode. */
    public java.util.Optional<MqttLink> mqtt() {
        return mqtt;
    }

    public AgentConfig config() {
        return config;
    }

    /**
     * The device's X.509 identity (enrolled or loaded from {@code data/identity}, renewed in the
     * background), when the configuration has enrolment settings; its {@code sslContexts()} is what
     * MQTT and HTTPS clients present.
     */
    public java.util.Optional<io.edgefleet.agent.identity.AgentIdentity> identity() {
        return identity;
    }

    @Override
    public void close() {
        closing.set(true);
        ready.set(false);
        centralLogs.ifPresent(io.edgefleet.agent.logs.LogForwarder::close);
        loop.shutdownNow();
        watchdog.close();
        shadow.close();
        identity.ifPresent(io.edgefleet.agent.identity.AgentIdentity::close);
        mqtt.ifPresent(MqttLink::close);
        coap.ifPresent(CoapApi::close);
        inference.drain(config.drainTimeout());
        http.filter(WebServer::isRunning).ifPresent(WebServer::stop);
        deadlines.ifPresent(io.edgefleet.http.limits.ReadDeadlines::close);
        inference.close();
        slots.close();
        store.close();
    }

    /**
     * Stops the way a power cut does: the MQTT connection drops without DISCONNECT (the broker
     * publishes the last will), in-flight requests and the open telemetry window are lost, nothing
     * is drained. What is on disk (models, outbox, recorded commands) stays for the next start.
     */
    public void crash() {
        closing.set(true);
        ready.set(false);
        centralLogs.ifPresent(io.edgefleet.agent.logs.LogForwarder::close);
        loop.shutdownNow();
        watchdog.close();
        shadow.close();
        identity.ifPresent(io.edgefleet.agent.identity.AgentIdentity::close);
        mqtt.ifPresent(MqttLink::crash);
        coap.ifPresent(CoapApi::close);
        http.filter(WebServer::isRunning).ifPresent(WebServer::stop);
        deadlines.ifPresent(io.edgefleet.http.limits.ReadDeadlines::close);
        inference.close();
        slots.close();
        store.close();
    }

    private static String versionOf() {
        String v = EdgeAgent.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
