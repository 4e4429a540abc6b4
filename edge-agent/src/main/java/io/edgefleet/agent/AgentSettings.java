package io.edgefleet.agent;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Reads an {@link AgentConfig} from Helidon config: a YAML file (node {@code agent}) overlaid by
 * environment variables ({@code AGENT_HTTP_PORT} overrides {@code agent.http.port}). Keys, all
 * optional (defaults from {@link AgentConfig#defaults}):
 *
 * <pre>
 * agent:
 *   data-dir: ./agent-data
 *   models-dir: ./models          # standalone mode
 *   models-strict: false          # true: a file of models-dir that does not load stops the start
 *   fleet: local
 *   device: agent
 *   http: { host: 127.0.0.1, port: 8000, max-payload-bytes: 16777216,
 *           idle-timeout-ms: 30000, header-timeout-ms: 10000, body-read-timeout-ms: 30000,
 *           max-connections: 256, max-concurrent-requests: 128 }
 *           tls: { certificate: cert.pem, key: key.pem } }   # optional: the local API over HTTPS (PEM, PKCS#8 key)
 *   coap: { port: 5683,                   # -1: off
 *           max-message-bytes: 1024,      # largest payload in one datagram (RFC 7252 4.6); larger goes block-wise; up to 65000 on a LAN
 *           block-size-bytes: 1024,       # block-wise block size: 16..1024, a power of two (RFC 7959)
 *           dtls: {                       # optional: CoAP over DTLS only (coaps://); a client needs a PSK or a certificate
 *             certificate: identity/cert.pem, key: identity/key.pem, ca: identity/ca.pem,   # clients' certificates from ca
 *             psk: [ { identity: gateway-3, key-env: GATEWAY3_PSK } ] } }                   # secrets from the environment
 *   cloud:                                # credentials towards sync and cloud inference (they refuse requests without)
 *     ca: cloud-data/pki/ca.pem           # the CA to trust for https URLs (default: the JDK's trust store)
 *     certificate: identity/cert.pem      # mTLS client certificate and key (PEM)...
 *     key: identity/key.pem
 *     token-env: EDGEFLEET_DEVICE_TOKEN   # ...and/or a bearer token from the environment (or token-file: FILE)
 *   mqtt: { url: tcp://127.0.0.1:1883, max-in-flight: 256 }   # connected mode
 *     tls: { ca-file: identity/ca.pem, key-file: identity/key.pem, cert-file: identity/cert.pem }   # with an ssl:// url
 *   inference: { threads-per-model: 1, queue-capacity: 64, request-timeout-ms: 10000, drain-timeout-ms: 10000 }
 *   engines:
 *     tflite:
 *       native-library: /usr/lib/aarch64-linux-gnu/libtensorflowlite_jni.so   # TFLite's JNI library for this host, instead of the
 *                                         # bundled linux/x86_64 one (e.g. on a Raspberry Pi); process-wide, applied by load()
 *   slots:                                # the self-test of a candidate against the active version
 *     max-latency-factor: 3.0             # a paired run counts as slower above 3x the faster version's time...
 *     latency-floor-ms: 2.0               # ...and more than 2 ms longer
 *     self-test-pairs: 60                 # paired runs per round, at most
 *     self-test-min-pairs: 30             # paired runs per round, at least (>= 10)
 *     self-test-budget-ms: 3000           # a round adds pairs past the minimum only within this time
 *   watchdog:                             # local rollback of a misbehaving new version
 *     bake-ms: 120000
 *     min-requests: 20                    # before error/non-finite shares are judged; answers a latency window needs
 *     max-error-rate: 0.2                 # model errors only, never clients' bad input
 *     max-non-finite-rate: 0.0
 *     window-ms: 10000                    # latency window
 *     max-latency-factor: 3.0             # a window's median above 3x the previous version's median...
 *     latency-floor-ms: 2.0               # ...and more than 2 ms above it violates
 *     sustained-windows: 3                # violating windows in a row that roll back
 *     min-baseline-requests: 50           # answers of the previous version needed to compare with it unpaired
 *     pairs-per-window: 10                # paired timings of the previous and the new version per window (0: off, else 6..100)
 *   shadow:                               # a shadow wave's candidate, run off the answer path (docs/shadow.md)
 *     share: 0.1                          # of the answered requests the candidate runs on
 *     queue-capacity: 16                  # samples waiting at most; beyond, dropped and counted
 *     cpu-share: 0.25                     # of one core at most (token bucket); beyond, dropped and counted
 *     abs-tolerance: 0.001                # regressors agree when |c - a| <= abs + rel * |a|
 *     rel-tolerance: 0.01
 *   telemetry: { window-ms: 10000, max-outbox-rows: 10000, heartbeat-ms: 60000 }
 *   logs:                                 # central logs: records forwarded to the control plane through the telemetry outbox
 *     forward: true
 *     level: WARN                         # WARN and ERROR
 *     max-records: 60                     # per period at most (token bucket); the rest are dropped and counted
 *     period-ms: 60000
 *     queue-capacity: 1000                # in memory between two flushes into the outbox
 *     max-outbox-rows: 1000               # log batches kept while the broker is away
 *     loggers: [""]                       # "" = every logger of the process
 *   sync:                                 # where deploy commands download models from (needed to take rollouts)
 *     url: https://cloud:8080             # default: identity.control-plane
 *     trust: [ { key-id: edgefleet-registry, file: edgefleet-registry.pub } ]   # the registry's signing key(s)
 *     bytes-per-second: 0                 # download limit; 0: none
 *   escalation:                           # joint inference with the cloud's inference role
 *     url: http://cloud:8080
 *     breaker: { failures: 3, open-ms: 5000 }
 *     models:
 *       kws: { measure: margin, threshold: 0.3, max-share: 0.2, deadline-ms: 300 }
 *   identity:                             # X.509 device identity (docs/security.md "Enrolment and device identity")
 *     control-plane: https://cloud:8080   # enrols and renews there; keys in data-dir/identity
 *     enrol-token-env: EF_ENROL_TOKEN     # or enrol-token: "ef1...." (needed only until the first certificate)
 *     renew-at: 0.667                     # fraction of the lifetime after which to renew
 *     retry-min-ms: 1000
 *     retry-max-ms: 300000
 *     enrol-timeout-ms: 120000            # how long the start retries while the control plane is away
 * </pre>
 */
public final class AgentSettings {
    private AgentSettings() {
    }

    /**
     * The file's settings, overlaid by the environment.
     *
     * @throws IllegalArgumentException one line, "configuration FILE: reason", when the file is missing, unreadable or wrong
     */
    public static AgentConfig load(Path yaml) {
        return io.edgefleet.transport.ConfigFiles.read(yaml, () -> {
            Config root = Config.builder()
                    .disableSystemPropertiesSource()
                    .sources(ConfigSources.environmentVariables(), ConfigSources.file(yaml))
                    .build();
            Config agent = root.get("agent");
            AgentConfig config = from(agent);
            applyProcessWide(agent);
            return config;
        });
    }

    /** {@code service.name} of the agent's spans unless configured. */
    public static final String SERVICE_NAME = "edgefleet-agent";

    /**
     * The {@code agent.tracing} node of the file ({@code enabled}, {@code otlp-endpoint},
     * {@code sampler-ratio}, {@code service-name}), overlaid by the OTEL_* environment variables
     * ({@link io.edgefleet.transport.tracing.TracingSettings}); without a file, the variables alone.
     *
     * @throws IllegalArgumentException one line, "configuration FILE: reason", for a value that does not fit
     */
    public static io.edgefleet.transport.tracing.TracingSettings tracing(java.util.Optional<Path> yaml) {
        if (yaml.isEmpty()) {
            return io.edgefleet.transport.tracing.TracingSettings.read(k -> java.util.Optional.empty(), System.getenv(), SERVICE_NAME);
        }
        return io.edgefleet.transport.ConfigFiles.read(yaml.get(), () -> {
            Config t = Config.builder()
                    .disableSystemPropertiesSource()
                    .sources(ConfigSources.environmentVariables(), ConfigSources.file(yaml.get()))
                    .build().get("agent.tracing");
            return io.edgefleet.transport.tracing.TracingSettings.read(k -> t.get(k).asString().asOptional(), System.getenv(), SERVICE_NAME);
        });
    }

    /**
     * Applies the settings that belong to the process rather than to one agent: a JNI library is loaded
     * once per JVM, so {@code engines.tflite.native-library} goes to {@link io.edgefleet.profiles.probe.TfliteNative#configure}.
     */
    static void applyProcessWide(Config agent) {
        agent.get("engines.tflite.native-library").asString().asOptional().filter(s -> !s.isBlank())
                .ifPresent(p -> io.edgefleet.profiles.probe.TfliteNative.configure(java.util.Optional.of(Path.of(p))));
    }

    /** {@code agent.logs}: central logs (docs/edge-agent.md "Logs"). */
    static io.edgefleet.agent.logs.CentralLogs centralLogs(Config l, io.edgefleet.agent.logs.CentralLogs d) {
        java.util.logging.Level level;
        try {
            level = l.get("level").asString().map(io.edgefleet.transport.logging.LogLevels::parse).orElse(d.level());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("agent.logs.level: " + e.getMessage());
        }
        return new io.edgefleet.agent.logs.CentralLogs(l.get("forward").asBoolean().orElse(d.forward()), level,
                l.get("max-records").asInt().orElse(d.maxRecords()),
                Duration.ofMillis(l.get("period-ms").asLong().orElse(d.period().toMillis())),
                l.get("queue-capacity").asInt().orElse(d.queueCapacity()),
                l.get("max-outbox-rows").asInt().orElse(d.maxOutboxRows()),
                l.get("loggers").asList(String.class).orElse(d.loggers()));
    }

    static AgentConfig from(Config c) {
        AgentConfig base = AgentConfig.defaults(Path.of(c.get("data-dir").asString().orElse("agent-data")));
        AgentConfig a = base
                .withIdentity(c.get("fleet").asString().orElse(base.fleet()), c.get("device").asString().orElse(base.device()))
                .withHttp(c.get("http.host").asString().orElse(base.httpHost()), c.get("http.port").asInt().orElse(base.httpPort()))
                .withMaxPayloadBytes(c.get("http.max-payload-bytes").asInt().orElse(base.maxPayloadBytes()))
                .withQueue(c.get("inference.threads-per-model").asInt().orElse(base.threadsPerModel()),
                        c.get("inference.queue-capacity").asInt().orElse(base.queueCapacity()));
        io.edgefleet.http.limits.HttpLimits l = base.httpLimits();
        a = a.withHttpLimits(new io.edgefleet.http.limits.HttpLimits(
                Duration.ofMillis(c.get("http.idle-timeout-ms").asLong().orElse(l.idleTimeout().toMillis())),
                Duration.ofMillis(c.get("http.header-timeout-ms").asLong().orElse(l.headerTimeout().toMillis())),
                Duration.ofMillis(c.get("http.body-read-timeout-ms").asLong().orElse(l.bodyReadTimeout().toMillis())),
                c.get("http.max-connections").asInt().orElse(l.maxConnections()),
                c.get("http.max-concurrent-requests").asInt().orElse(l.maxConcurrentRequests())))
                .withMqttMaxInFlight(c.get("mqtt.max-in-flight").asInt().orElse(base.mqttMaxInFlight()));
        if (c.get("models-dir").exists()) {
            a = a.withModelsDir(Path.of(c.get("models-dir").asString().get()), c.get("models-strict").asBoolean().orElse(false));
        }
        if (c.get("coap.port").exists()) {
            a = a.withCoapPort(c.get("coap.port").asInt().get());
        }
        if (c.get("coap.max-message-bytes").exists() || c.get("coap.block-size-bytes").exists()) {
            io.edgefleet.agent.coap.CoapTransfer t = base.coapTransfer();
            a = a.withCoapTransfer(new io.edgefleet.agent.coap.CoapTransfer(c.get("coap.max-message-bytes").asInt().orElse(t.maxMessageBytes()),
                    c.get("coap.block-size-bytes").asInt().orElse(t.blockSizeBytes())));
        }
        if (c.get("mqtt.url").exists()) {
            a = a.withMqtt(c.get("mqtt.url").asString().get());
        }
        if (c.get("mqtt.tls").exists()) {
            // MQTT over TLS (an ssl:// url): all three PEM files, read again at every connect
            java.util.function.Function<String, Path> file = k -> Path.of(c.get("mqtt.tls." + k).asString().orElseThrow(
                    () -> new IllegalArgumentException("agent.mqtt.tls needs ca-file, key-file and cert-file; " + k + " is missing")));
            a = a.withMqttTls(io.edgefleet.transport.mqtt.MqttTls.fromPem(file.apply("ca-file"), file.apply("key-file"), file.apply("cert-file")));
        }
        if (c.get("telemetry").exists()) {
            var t = base.telemetry();
            a = a.withTelemetry(new AgentConfig.Telemetry(
                    Duration.ofMillis(c.get("telemetry.window-ms").asLong().orElse(t.window().toMillis())),
                    c.get("telemetry.max-outbox-rows").asInt().orElse(t.maxOutboxRows()),
                    Duration.ofMillis(c.get("telemetry.heartbeat-ms").asLong().orElse(t.heartbeat().toMillis())), t.logs()));
        }
        if (c.get("logs").exists()) {
            a = a.withTelemetry(a.telemetry().withLogs(centralLogs(c.get("logs"), a.telemetry().logs())));
        }
        if (c.get("escalation.url").exists()) {
            java.util.Map<String, io.edgefleet.agent.serving.EscalationPolicy> policies = new java.util.HashMap<>();
            c.get("escalation.models").asNodeList().orElse(java.util.List.of()).forEach(m -> {
                java.util.Map<String, String> settings = new java.util.HashMap<>();
                m.asMap().orElse(java.util.Map.of()).forEach((k, v) -> settings.put("escalation." + k.substring(k.lastIndexOf('.') + 1), v));
                io.edgefleet.agent.serving.EscalationPolicy.fromSettings(settings).ifPresent(p -> policies.put(m.name(), p));
            });
            a = a.withEscalation(new AgentConfig.Escalation(java.net.URI.create(c.get("escalation.url").asString().get()), policies,
                    c.get("escalation.breaker.failures").asInt().orElse(3),
                    Duration.ofMillis(c.get("escalation.breaker.open-ms").asLong().orElse(5000L))));
        }
        if (c.get("identity.control-plane").exists()) {
            java.util.Optional<String> token = c.get("identity.enrol-token").asString().asOptional()
                    .or(() -> c.get("identity.enrol-token-env").asString().asOptional().map(System::getenv));
            var d = io.edgefleet.agent.identity.EnrolmentSettings.of(java.net.URI.create(c.get("identity.control-plane").asString().get()), token);
            a = a.withEnrolment(new io.edgefleet.agent.identity.EnrolmentSettings(d.controlPlane(), token,
                    c.get("identity.renew-at").asDouble().orElse(d.renewAt()),
                    Duration.ofMillis(c.get("identity.retry-min-ms").asLong().orElse(d.retryMin().toMillis())),
                    Duration.ofMillis(c.get("identity.retry-max-ms").asLong().orElse(d.retryMax().toMillis())),
                    Duration.ofMillis(c.get("identity.enrol-timeout-ms").asLong().orElse(d.enrolTimeout().toMillis()))));
        }
        if (c.get("sync").exists()) {
            a = a.withSync(sync(c));
        }
        a = a.withTls(tls(c));
        return a.withTimeouts(Duration.ofMillis(c.get("inference.request-timeout-ms").asLong().orElse(base.requestTimeout().toMillis())),
                        Duration.ofMillis(c.get("inference.drain-timeout-ms").asLong().orElse(base.drainTimeout().toMillis())))
                .withSelfTest(selfTest(c.get("slots"), base.selfTest()))
                .withWatchdog(watchdog(c.get("watchdog"), base.watchdog()))
                .withShadow(shadow(c.get("shadow"), base.shadow()));
    }

    /**
     * {@code sync}: where deploy commands download from ({@code url}, default
     * {@code identity.control-plane}) and the registry's manifest-signing keys to trust
     * ({@code trust: [ { key-id: ID, file: ID.pub } ]}, at least one: a manifest is verified
     * against them, never against what the server says).
     *
     * @throws IllegalArgumentException naming the key when a setting is missing or a key file is unreadable
     */
    static AgentConfig.Sync sync(Config c) {
        Config s = c.get("sync");
        java.net.URI url = s.get("url").asString().asOptional().or(() -> c.get("identity.control-plane").asString().asOptional())
                .map(java.net.URI::create).orElseThrow(() -> new IllegalArgumentException(
                        "agent.sync needs a url (or identity.control-plane, which it defaults to)"));
        java.util.Map<String, java.security.PublicKey> trust = new java.util.LinkedHashMap<>();
        for (Config k : s.get("trust").asNodeList().orElse(java.util.List.of())) {
            String id = k.get("key-id").asString().orElseThrow(() -> new IllegalArgumentException("agent.sync.trust: an entry without key-id"));
            Path file = Path.of(k.get("file").asString().orElseThrow(() -> new IllegalArgumentException("agent.sync.trust " + id + ": no file")));
            try {
                trust.put(id, io.edgefleet.sync.signing.Keys.publicKey(java.nio.file.Files.readString(file)));
            } catch (java.io.IOException | RuntimeException e) {
                throw new IllegalArgumentException("agent.sync.trust " + id + ": cannot read the public key " + file + ": " + e.getMessage(), e);
            }
        }
        if (trust.isEmpty()) {
            throw new IllegalArgumentException("agent.sync needs at least one trust entry { key-id: ID, file: ID.pub }: the registry's "
                    + "manifest-signing key (the control plane's data-dir/keys/ID.pub)");
        }
        return new AgentConfig.Sync(url, trust, s.get("bytes-per-second").asLong().orElse(0L));
    }

    /** {@code http.tls}, {@code coap.dtls} and {@code cloud}; file paths are read at start, secrets come from the environment. */
    static AgentTls tls(Config c) {
        AgentTls t = AgentTls.none();
        Config cloud = c.get("cloud");
        java.util.List<java.security.cert.X509Certificate> cloudCa = cloud.get("ca").asString().asOptional()
                .map(f -> io.edgefleet.transport.pki.Pem.certificates(io.edgefleet.transport.pki.Pem.read(Path.of(f)))).orElse(java.util.List.of());
        java.util.Optional<javax.net.ssl.SSLContext> cloudCtx = java.util.Optional.empty();
        if (cloud.get("certificate").exists()) {
            Path cert = Path.of(cloud.get("certificate").asString().get());
            Path key = Path.of(cloud.get("key").asString().orElseThrow(() -> new IllegalArgumentException("agent.cloud.certificate needs agent.cloud.key")));
            cloudCtx = java.util.Optional.of(AgentTls.pemContext(cert, key, cloudCa));
        } else if (!cloudCa.isEmpty()) {
            javax.net.ssl.SSLContext trusting = io.edgefleet.transport.pki.TlsContexts.trusting(cloudCa);
            cloudCtx = java.util.Optional.of(trusting);
        }
        boolean clientCertificate = cloud.get("certificate").exists();
        io.edgefleet.transport.http.HttpCredentials creds = cloudCtx.map(ctx -> clientCertificate
                        ? io.edgefleet.transport.http.HttpCredentials.tls(() -> ctx)
                        : io.edgefleet.transport.http.HttpCredentials.trusting(() -> ctx))
                .orElse(io.edgefleet.transport.http.HttpCredentials.none());
        java.util.Optional<String> token = cloud.get("token-env").asString().asOptional().map(System::getenv)
                .or(() -> cloud.get("token-file").asString().asOptional().map(f -> io.edgefleet.transport.pki.Pem.read(Path.of(f)).strip()));
        if (token.isPresent()) {
            String secret = token.get();
            creds = creds.withBearer(() -> secret);
        }
        t = t.withCloud(creds);
        if (c.get("http.tls.certificate").exists()) {
            javax.net.ssl.SSLContext ctx = AgentTls.pemContext(Path.of(c.get("http.tls.certificate").asString().get()),
                    Path.of(c.get("http.tls.key").asString().orElseThrow(() -> new IllegalArgumentException("agent.http.tls.certificate needs a key"))),
                    java.util.List.of());
            t = t.withLocalHttp(() -> ctx);
        }
        Config d = c.get("coap.dtls");
        if (d.exists()) {
            java.util.Map<String, byte[]> psk = new java.util.LinkedHashMap<>();
            for (Config e : d.get("psk").asNodeList().orElse(java.util.List.of())) {
                String id = e.get("identity").asString().orElseThrow(() -> new IllegalArgumentException("agent.coap.dtls.psk: an entry has no identity"));
                String secret = e.get("key-env").asString().asOptional().map(System::getenv).orElseThrow(() ->
                        new IllegalArgumentException("agent.coap.dtls.psk: identity " + id + " has no set key-env"));
                psk.put(id, io.edgefleet.agent.coap.CoapDtls.secret(secret));
            }
            java.util.Optional<java.security.PrivateKey> key = d.get("key").asString().asOptional()
                    .map(f -> io.edgefleet.transport.pki.Pem.privateKey(io.edgefleet.transport.pki.Pem.read(Path.of(f))));
            java.util.List<java.security.cert.X509Certificate> chain = d.get("certificate").asString().asOptional()
                    .map(f -> io.edgefleet.transport.pki.Pem.certificates(io.edgefleet.transport.pki.Pem.read(Path.of(f)))).orElse(java.util.List.of());
            java.util.List<java.security.cert.X509Certificate> ca = d.get("ca").asString().asOptional()
                    .map(f -> io.edgefleet.transport.pki.Pem.certificates(io.edgefleet.transport.pki.Pem.read(Path.of(f)))).orElse(java.util.List.of());
            t = t.withCoap(new io.edgefleet.agent.coap.CoapDtls(key, chain, ca, psk));
        }
        return t;
    }

    private static io.edgefleet.agent.slots.SelfTest.Limits selfTest(Config s, io.edgefleet.agent.slots.SelfTest.Limits d) {
        return new io.edgefleet.agent.slots.SelfTest.Limits(
                s.get("max-latency-factor").asDouble().orElse(d.maxLatencyFactor()),
                s.get("latency-floor-ms").asDouble().orElse(d.latencyFloorMillis()),
                s.get("self-test-pairs").asInt().orElse(d.pairs()),
                s.get("self-test-min-pairs").asInt().orElse(d.minPairs()),
                Duration.ofMillis(s.get("self-test-budget-ms").asLong().orElse(d.budget().toMillis())));
    }

    private static io.edgefleet.agent.shadow.ShadowRunner.Settings shadow(Config c, io.edgefleet.agent.shadow.ShadowRunner.Settings d) {
        return new io.edgefleet.agent.shadow.ShadowRunner.Settings(c.get("share").asDouble().orElse(d.share()),
                c.get("queue-capacity").asInt().orElse(d.queueCapacity()), c.get("cpu-share").asDouble().orElse(d.cpuShare()),
                c.get("abs-tolerance").asDouble().orElse(d.absTolerance()), c.get("rel-tolerance").asDouble().orElse(d.relTolerance()));
    }

    private static io.edgefleet.agent.slots.Watchdog.Limits watchdog(Config w, io.edgefleet.agent.slots.Watchdog.Limits d) {
        return new io.edgefleet.agent.slots.Watchdog.Limits(
                Duration.ofMillis(w.get("bake-ms").asLong().orElse(d.bake().toMillis())),
                w.get("min-requests").asInt().orElse(d.minRequests()),
                w.get("max-error-rate").asDouble().orElse(d.maxErrorRate()),
                w.get("max-non-finite-rate").asDouble().orElse(d.maxNonFiniteRate()),
                w.get("max-latency-factor").asDouble().orElse(d.maxLatencyFactor()),
                Duration.ofMillis(w.get("window-ms").asLong().orElse(d.window().toMillis())),
                w.get("latency-floor-ms").asDouble().orElse(d.latencyFloorMillis()),
                w.get("sustained-windows").asInt().orElse(d.sustainedWindows()),
                w.get("min-baseline-requests").asInt().orElse(d.minBaselineRequests()),
                w.get("pairs-per-window").asInt().orElse(d.pairsPerWindow()));
    }
}
