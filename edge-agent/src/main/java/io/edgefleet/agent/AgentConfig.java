package io.edgefleet.agent;

import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.isolation.IsolationOptions;
import io.edgefleet.protocols.Checks;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything an agent needs to start. Build with {@link #defaults(Path)} and the {@code with*}
 * methods; the CLI maps its flags onto them.
 *
 * @param dataDir holds {@code agent.db} and the model files
 * @param modelsDir standalone mode: serve every {@code NAME.onnx}/{@code NAME.tflite} in it (see {@link ModelsDir})
 * @param httpHost address the HTTP server binds
 * @param httpPort 0 picks a free port (logged); -1 runs no HTTP server (simulated devices: MQTT and in-process calls only)
 * @param coapPort UDP port of the CoAP side; 0 picks a free one, -1 turns CoAP off
 * @param fleet fleet id
 * @param device device id
 * @param profile device-profile id reported in the agent's state
 * @param mqttUrl connected mode: the broker, e.g. {@code tcp://127.0.0.1:1883}
 * @param threadsPerModel native inference threads per model
 * @param queueCapacity requests that may wait per model before 429
 * @param maxPayloadBytes largest request body accepted (413 beyond)
 * @param requestTimeout a request not answered by then gets 503
 * @param drainTimeout on shutdown, how long in-flight requests may take (default 5 s, so SIGTERM ends the agent within 10 s)
 * @param selfTest limits of a candidate's latency comparison with the active version (paired runs, floor, factor)
 * @param engineOptions engine settings (from the device profile)
 * @param isolation limits of the first-load verifier JVM
 * @param telemetry telemetry window and outbox bound, and central logs (which share the outbox)
 * @param watchdog limits of the local watchdog that rolls back a misbehaving new version
 * @param sync model sync for {@code deploy} commands: the sync server and the trusted signing keys
 * @param httpLimits idle and read timeouts and connection caps of the HTTP listener
 * @param mqttMaxInFlight MQTT inference requests processed at once; one beyond is answered 503 {@code busy} at once
 * @param enrolment device identity: the control plane to enrol with and renew at, the enrolment token; empty: no
 *     certificate (plain-text links, as before issue 15)
 * @param tls credentials towards the cloud (sync, escalation), TLS of the local HTTP API, DTLS of CoAP; none by default
 * @param mqttTls MQTT over TLS ({@code ssl://} broker URL): the CA, client key and certificate of each connect
 * @param coapTransfer CoAP datagram and block sizes ({@code agent.coap.max-message-bytes}, {@code agent.coap.block-size-bytes})
 */
public record AgentConfig(Path dataDir, Optional<ModelsDir> modelsDir, String httpHost, int httpPort, int coapPort, String fleet, String device,
        String profile, Optional<String> mqttUrl, int threadsPerModel, int queueCapacity, int maxPayloadBytes, Duration requestTimeout, Duration drainTimeout,
        io.edgefleet.agent.slots.SelfTest.Limits selfTest, EngineOptions engineOptions, IsolationOptions isolation, Telemetry telemetry,
        io.edgefleet.agent.slots.Watchdog.Limits watchdog, Optional<Sync> sync, Optional<Escalation> escalation,
        io.edgefleet.http.limits.HttpLimits httpLimits, int mqttMaxInFlight, Optional<io.edgefleet.agent.identity.EnrolmentSettings> enrolment,
        AgentTls tls, Optional<io.edgefleet.transport.mqtt.MqttTls> mqttTls, io.edgefleet.agent.coap.CoapTransfer coapTransfer,
        io.edgefleet.agent.shadow.ShadowRunner.Settings shadow) {
    /**
     * Standalone mode's models folder.
     *
     * @param path every {@code NAME.onnx} / {@code NAME.tflite} in it is served as model {@code NAME}
     * @param strict false (default): a file that does not load is skipped, its model answers "not
     *     ready" with the reason and the others are served; true: the agent refuses to start
     */
    public record ModelsDir(Path path, boolean strict) {
        public ModelsDir {
            Objects.requireNonNull(path, "path");
        }
    }

    /**
     * Joint inference with the cloud's inference role.
     *
     * @param url the inference role, e.g. {@code http://cloud:8080}
     * @param policies per model; more can come from the cloud with {@code configure} ({@code escalation.*})
     * @param breakerFailures consecutive failures that open the circuit breaker
     * @param breakerOpen how long it stays open before one probe
     */
    public record Escalation(java.net.URI url, java.util.Map<String, io.edgefleet.agent.serving.EscalationPolicy> policies, int breakerFailures,
            Duration breakerOpen) {
        public Escalation {
            Objects.requireNonNull(url, "url");
            policies = java.util.Map.copyOf(policies);
            if (breakerFailures < 1) {
                throw new IllegalArgumentException("breakerFailures must be >= 1");
            }
        }
    }

    /**
     * @param url base URL of the sync server, e.g. {@code http://cloud:8081}
     * @param trust signing key id to Ed25519 public key; several keys let keys rotate
     * @param bytesPerSecond download limit; 0 for none
     */
    public record Sync(java.net.URI url, java.util.Map<String, java.security.PublicKey> trust, long bytesPerSecond) {
        public Sync(java.net.URI url, java.util.Map<String, java.security.PublicKey> trust) {
            this(url, trust, 0);
        }

        public Sync {
            Objects.requireNonNull(url, "url");
            trust = java.util.Map.copyOf(trust);
        }
    }

    /**
     * @param window length of a telemetry window
     * @param maxOutboxRows batches kept while the broker is away; beyond, the oldest are dropped and counted
     * @param heartbeat how often the retained state is republished while connected, so the cloud can
     *     tell a quiet device (no requests, no telemetry) from a silent one and mark the latter stale
     * @param logs central logs: which records go to the control plane through the same outbox, at what rate
     */
    public record Telemetry(Duration window, int maxOutboxRows, Duration heartbeat, io.edgefleet.agent.logs.CentralLogs logs) {
        public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(60);

        public Telemetry {
            Objects.requireNonNull(logs, "logs");
            if (window.toMillis() < 10 || window.compareTo(io.edgefleet.protocols.messages.TelemetryRecord.MAX_WINDOW) > 0 || maxOutboxRows < 1) {
                throw new IllegalArgumentException("telemetry window must be 10 ms .. 1 day (got " + window.toMillis() + " ms) and the outbox >= 1 row");
            }
            if (heartbeat.toMillis() < 10) {
                throw new IllegalArgumentException("heartbeat must be >= 10 ms");
            }
        }

        public Telemetry(Duration window, int maxOutboxRows) {
            this(window, maxOutboxRows, DEFAULT_HEARTBEAT);
        }

        /** With central logs at their defaults ({@link io.edgefleet.agent.logs.CentralLogs#defaults}). */
        public Telemetry(Duration window, int maxOutboxRows, Duration heartbeat) {
            this(window, maxOutboxRows, heartbeat, io.edgefleet.agent.logs.CentralLogs.defaults());
        }

        /** These settings with central logs as given. */
        public Telemetry withLogs(io.edgefleet.agent.logs.CentralLogs l) {
            return new Telemetry(window, maxOutboxRows, heartbeat, l);
        }
    }

    public AgentConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(modelsDir, "modelsDir");
        Checks.id(fleet, "fleet");
        Checks.id(device, "device");
        Checks.id(profile, "profile");
        Objects.requireNonNull(mqttUrl, "mqttUrl");
        Objects.requireNonNull(mqttTls, "mqttTls");
        Objects.requireNonNull(selfTest, "selfTest");
        Objects.requireNonNull(watchdog, "watchdog");
        if (coapPort < -1 || coapPort > 65535) {
            throw new IllegalArgumentException("coap port must be -1 (off) or 0..65535, got " + coapPort);
        }
        Objects.requireNonNull(httpLimits, "httpLimits");
        Objects.requireNonNull(enrolment, "enrolment");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(mqttTls, "mqttTls");
        Objects.requireNonNull(coapTransfer, "coapTransfer");
        if (mqttMaxInFlight < 1) {
            throw new IllegalArgumentException("mqtt max-in-flight must be >= 1, got " + mqttMaxInFlight);
        }
        if (httpPort < -1 || httpPort > 65535) {
            throw new IllegalArgumentException("http port must be -1 (off) or 0..65535, got " + httpPort);
        }
        if (threadsPerModel < 1 || queueCapacity < 1 || maxPayloadBytes < 1024) {
            throw new IllegalArgumentException("threadsPerModel and queueCapacity must be >= 1, maxPayloadBytes >= 1024");
        }
    }

    /** The agent's default HTTP port: Triton's, the usual port of an Open Inference Protocol v2 server (the control plane has 8080, a sync server 8081). */
    public static final int DEFAULT_HTTP_PORT = 8000;
    /** CoAP's registered port (RFC 7252). */
    public static final int DEFAULT_COAP_PORT = 5683;

    /**
     * Standalone defaults: HTTP on 127.0.0.1:{@value #DEFAULT_HTTP_PORT}, CoAP on {@value #DEFAULT_COAP_PORT}, fleet
     * {@code local}, device {@code agent}, 64 waiting requests per model.
     */
    public static AgentConfig defaults(Path dataDir) {
        return new AgentConfig(dataDir, Optional.empty(), "127.0.0.1", DEFAULT_HTTP_PORT, DEFAULT_COAP_PORT, "local", "agent", "generic", Optional.empty(), 1, 64,
                16 << 20, Duration.ofSeconds(10), Duration.ofSeconds(5), io.edgefleet.agent.slots.SelfTest.Limits.defaults(), EngineOptions.defaults(), IsolationOptions.defaults(),
                new Telemetry(Duration.ofSeconds(10), 100_000), io.edgefleet.agent.slots.Watchdog.Limits.defaults(), Optional.empty(), Optional.empty(),
                io.edgefleet.http.limits.HttpLimits.agentDefaults(), 256, Optional.empty(), AgentTls.none(), Optional.empty(), io.edgefleet.agent.coap.CoapTransfer.defaults(), io.edgefleet.agent.shadow.ShadowRunner.Settings.defaults());
    }

    public AgentConfig withDataDir(Path dir) {
        return new AgentConfig(dir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel, queueCapacity,
                maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    /** Serves the models of {@code dir}, skipping (not failing on) a file that does not load. */
    public AgentConfig withModelsDir(Path dir) {
        return withModelsDir(dir, false);
    }

    /** Serves the models of {@code dir}; with {@code strict} a file that does not load stops the start. */
    public AgentConfig withModelsDir(Path dir, boolean strict) {
        return new AgentConfig(dataDir, Optional.of(new ModelsDir(dir, strict)), httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withHttp(String host, int port) {
        return new AgentConfig(dataDir, modelsDir, host, port, coapPort, fleet, device, profile, mqttUrl, threadsPerModel, queueCapacity,
                maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    /** CoAP's datagram and block sizes. */
    public AgentConfig withCoapTransfer(io.edgefleet.agent.coap.CoapTransfer t) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation,
                httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, java.util.Objects.requireNonNull(t, "coapTransfer"), shadow);
    }

    public AgentConfig withCoapPort(int port) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, port, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withIdentity(String fleetId, String deviceId) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleetId, deviceId, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withProfile(String profileId, EngineOptions options) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profileId, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, options, isolation, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withMqtt(String url) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, Optional.of(url), threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withTelemetry(Duration window, int maxOutboxRows) {
        return withTelemetry(new Telemetry(window, maxOutboxRows, telemetry.heartbeat(), telemetry.logs()));
    }

    public AgentConfig withTelemetry(Telemetry t) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation,
                t, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withWatchdog(io.edgefleet.agent.slots.Watchdog.Limits limits) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, limits, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withEscalation(Escalation e) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog,
                sync, Optional.of(e), httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withSync(Sync settings) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog,
                Optional.of(settings), escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withQueue(int threads, int capacity) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threads, capacity,
                maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withMaxPayloadBytes(int bytes) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, bytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withTimeouts(Duration request, Duration drain) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, request, drain, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    /** The self-test's factor; its other limits stay. */
    public AgentConfig withMaxLatencyFactor(double factor) {
        return withSelfTest(selfTest.withMaxLatencyFactor(factor));
    }

    public AgentConfig withSelfTest(io.edgefleet.agent.slots.SelfTest.Limits limits) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, limits, engineOptions, isolation, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withHttpLimits(io.edgefleet.http.limits.HttpLimits limits) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog,
                sync, escalation, limits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withMqttMaxInFlight(int requests) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog,
                sync, escalation, httpLimits, requests, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withIsolation(IsolationOptions options) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, options, telemetry, watchdog, sync, escalation, httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, shadow);
    }

    /** Enrols (or loads the identity in {@code dataDir/identity}) with these settings on start. */
    /** Credentials towards the cloud, TLS of the local HTTP API and DTLS of CoAP. */
    public AgentConfig withTls(AgentTls t) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation,
                httpLimits, mqttMaxInFlight, enrolment, t, mqttTls, coapTransfer, shadow);
    }

    public AgentConfig withMqttTls(io.edgefleet.transport.mqtt.MqttTls t) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation,
                httpLimits, mqttMaxInFlight, enrolment, tls, Optional.of(t), coapTransfer, shadow);
    }

    public AgentConfig withEnrolment(io.edgefleet.agent.identity.EnrolmentSettings e) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation,
                httpLimits, mqttMaxInFlight, Optional.of(e), tls, mqttTls, coapTransfer, shadow);
    }

    /** Where the device's key, certificate and CA live: {@code dataDir/identity}. */
    public Path identityDir() {
        return dataDir.resolve("identity");
    }

    /** These settings with the shadow runner's {@code s} (docs/shadow.md; YAML {@code agent.shadow.*}). */
    public AgentConfig withShadow(io.edgefleet.agent.shadow.ShadowRunner.Settings s) {
        return new AgentConfig(dataDir, modelsDir, httpHost, httpPort, coapPort, fleet, device, profile, mqttUrl, threadsPerModel,
                queueCapacity, maxPayloadBytes, requestTimeout, drainTimeout, selfTest, engineOptions, isolation, telemetry, watchdog, sync, escalation,
                httpLimits, mqttMaxInFlight, enrolment, tls, mqttTls, coapTransfer, java.util.Objects.requireNonNull(s, "shadow"));
    }

}
