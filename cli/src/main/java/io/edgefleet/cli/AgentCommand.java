package io.edgefleet.cli;

import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.AgentSettings;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.agent.SystemdNotify;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code edgefleet agent}: runs an edge agent until SIGTERM/Ctrl-C, then drains in-flight requests. */
@Command(name = "agent", mixinStandardHelpOptions = true, subcommands = BundleCommands.Install.class,
        description = {"Run an edge agent: the Open Inference Protocol over HTTP for the models it serves.",
            "Standalone: --models-dir DIR serves each NAME.onnx / NAME.tflite there as model NAME.",
            "Defaults: HTTP 127.0.0.1:8000, CoAP 5683. A port that cannot be bound stops the agent (exit 1) with one line naming it.",
            "Flags override the --config file, which environment variables override (AGENT_HTTP_PORT=...)."})
final class AgentCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE", description = "Agent YAML (node 'agent'); see docs/edge-agent.md.")
    Path config;
    @Option(names = "--data-dir", paramLabel = "DIR", description = "agent.db and model files (default ./agent-data).")
    Path dataDir;
    @Option(names = "--models-dir", paramLabel = "DIR", description = {"Serve the models in this folder (standalone mode).",
        "A file that does not load is skipped: its model answers 'not ready' (503) with the reason, the others are served."})
    Path modelsDir;
    @Option(names = "--strict", description = "Refuse to start (exit 1) when a file of the models folder does not load.")
    boolean strict;
    @Option(names = "--http-port", paramLabel = "P", description = "HTTP port; 0 picks a free one (default 8000; the control plane has 8080).")
    Integer httpPort;
    @Option(names = "--coap-port", paramLabel = "P", description = "CoAP UDP port; 0 picks a free one, -1 turns CoAP off (default 5683).")
    Integer coapPort;
    @Option(names = "--http-host", paramLabel = "HOST", description = "Address to bind (default 127.0.0.1).")
    String httpHost;
    @Option(names = "--mqtt", paramLabel = "URL", description = "Connected mode: MQTT broker, e.g. tcp://127.0.0.1:1883.")
    String mqtt;
    @Option(names = "--sync-url", paramLabel = "URL", description = "Model sync server for deploy commands (default: the --control-plane URL when --trust is given).")
    java.net.URI syncUrl;
    @Option(names = "--trust", paramLabel = "KEYID=FILE", description = {"A public key trusted for manifests (e.g. edgefleet-registry=cloud-data/keys/edgefleet-registry.pub);",
            "repeat to rotate keys. Turns model sync on, from --sync-url or else from --control-plane."})
    java.util.List<String> trust = java.util.List.of();
    @Option(names = "--cloud-ca", paramLabel = "FILE", description = {"CA certificate (PEM) trusted for the control plane's https URLs",
            "(sync, escalation), e.g. cloud-data/pki/ca.pem."})
    Path cloudCa;
    @Option(names = "--cloud-token-file", paramLabel = "FILE", description = "Bearer token for sync and cloud inference (instead of a device certificate).")
    Path cloudTokenFile;
    @Option(names = "--sync-rate", paramLabel = "BYTES", defaultValue = "0", description = "Download limit in bytes/s (default: none).")
    long syncRate;
    @Option(names = "--fleet", paramLabel = "F", description = "Fleet id (default local).")
    String fleet;
    @Option(names = "--device", paramLabel = "D", description = "Device id (default agent).")
    String device;
    @Option(names = "--profile", paramLabel = "ID", description = "Device profile id: engine threads, CUDA, memory budget.")
    String profile;
    @Option(names = "--control-plane", paramLabel = "URL", description = "Control plane to enrol with and renew the device certificate at, "
            + "e.g. https://cloud:8080 (keys in DATA/identity).")
    java.net.URI controlPlane;
    @Option(names = "--enrol-token", paramLabel = "TOKEN", description = {"Enrolment token (edgefleet enrolment-tokens create); needed only "
            + "until the first certificate. Prefer the EF_ENROL_TOKEN environment variable: a flag shows in the process list."})
    String enrolToken;
    @Spec
    CommandSpec spec;

    /** Where model sync comes from: {@code --sync-url}, else {@code agent.sync.url}, else the control plane the agent enrols with. */
    static java.util.Optional<java.net.URI> syncSource(java.net.URI syncUrl, AgentConfig c) {
        return java.util.Optional.ofNullable(syncUrl).or(() -> c.sync().map(AgentConfig.Sync::url))
                .or(() -> c.enrolment().map(io.edgefleet.agent.identity.EnrolmentSettings::controlPlane));
    }

    /**
     * Whether the agent takes commands from a control plane but has no model sync: connected by {@code --mqtt}, or by
     * enrolment ({@code --control-plane}), whose broker URL only comes with the enrolment answer (so {@code mqttUrl} is
     * still empty at start).
     */
    static boolean connectedWithoutSync(AgentConfig c) {
        return c.sync().isEmpty() && (c.mqttUrl().isPresent() || c.enrolment().isPresent());
    }

    @Override
    public Integer call() throws InterruptedException {
        if (config != null) {
            LoggingOptions.applyFile(config);
        }
        AgentConfig c = config != null ? AgentSettings.load(config) : AgentConfig.defaults(Path.of("agent-data"));
        if (dataDir != null) {
            c = c.withDataDir(dataDir);
        }
        if (mqtt != null) {
            c = c.withMqtt(mqtt);
        }
        if (modelsDir != null || strict) {
            Path dir = modelsDir != null ? modelsDir : c.modelsDir().map(AgentConfig.ModelsDir::path).orElse(null);
            if (dir == null) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--strict needs a models folder (--models-dir or models-dir)");
            }
            c = c.withModelsDir(dir, strict || c.modelsDir().map(AgentConfig.ModelsDir::strict).orElse(false));
        }
        c = c.withHttp(httpHost != null ? httpHost : c.httpHost(), httpPort != null ? httpPort : c.httpPort());
        if (coapPort != null) {
            c = c.withCoapPort(coapPort);
        }
        c = c.withIdentity(fleet != null ? fleet : c.fleet(), device != null ? device : c.device());
        if (profile != null) {
            c = c.withProfile(profile, EngineOptions.forProfile(DeviceCatalog.builtIn().get(profile)));
        }
        if (syncUrl != null && trust.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--sync-url needs at least one --trust KEYID=FILE");
        }
        String token = enrolToken != null ? enrolToken : System.getenv("EF_ENROL_TOKEN");
        if (controlPlane != null) {
            java.util.Optional<String> configured = c.enrolment().flatMap(io.edgefleet.agent.identity.EnrolmentSettings::token);
            c = c.withEnrolment(io.edgefleet.agent.identity.EnrolmentSettings.of(controlPlane,
                    java.util.Optional.ofNullable(token).or(() -> configured)));
        } else if (token != null) {
            var e = c.enrolment().orElseThrow(() -> new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--enrol-token needs --control-plane URL (or identity.control-plane in the config)"));
            c = c.withEnrolment(new io.edgefleet.agent.identity.EnrolmentSettings(e.controlPlane(), java.util.Optional.of(token), e.renewAt(),
                    e.retryMin(), e.retryMax(), e.enrolTimeout()));
        }
        // Model sync: --sync-url, else the control plane the agent enrols with (it serves /sync/v1 on the same port).
        AgentConfig before = c;
        java.util.Optional<java.net.URI> syncSource = syncSource(syncUrl, before);
        if (!trust.isEmpty()) {
            if (syncSource.isEmpty()) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--trust needs a sync source: --sync-url URL, or --control-plane URL (sync from the control plane)");
            }
            try {
                long rate = syncRate > 0 ? syncRate : before.sync().map(AgentConfig.Sync::bytesPerSecond).orElse(0L);
                c = c.withSync(new AgentConfig.Sync(syncSource.orElseThrow(), SyncCommands.trust(trust), rate));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot read a --trust key: " + e.getMessage(), e);
            }
        }
        if (connectedWithoutSync(c)) {
            spec.commandLine().getErr().println("edgefleet agent: no model sync configured: deploy, shadow and A/B commands will fail"
                    + " (not-supported) until the agent has one: --trust KEYID=FILE (the control plane's manifest-signing key, e.g."
                    + " cloud-data/keys/edgefleet-registry.pub) with --control-plane URL or --sync-url URL, or agent.sync in agent.yaml");
        }
        if (cloudCa != null || cloudTokenFile != null) {
            io.edgefleet.transport.http.HttpCredentials creds = c.tls().cloud();
            if (cloudCa != null) {
                javax.net.ssl.SSLContext ctx = io.edgefleet.transport.pki.TlsContexts.trusting(
                        io.edgefleet.transport.pki.Pem.certificates(io.edgefleet.transport.pki.Pem.read(cloudCa)));
                creds = creds.withTrust(() -> ctx);
            }
            if (cloudTokenFile != null) {
                String secret = io.edgefleet.transport.pki.Pem.read(cloudTokenFile).strip();
                creds = creds.withBearer(() -> secret);
            }
            c = c.withTls(c.tls().withCloud(creds));
        }
        // systemd (Type=notify) or podman --sdnotify: told READY=1 once the agent serves, STOPPING=1 on SIGTERM; else a no-op
        SystemdNotify systemd = SystemdNotify.fromEnvironment();
        // OpenTelemetry: off unless agent.tracing.enabled or OTEL_TRACES_EXPORTER=otlp (docs/edge-agent.md, Tracing)
        io.edgefleet.transport.tracing.Tracing tracing = io.edgefleet.transport.tracing.Tracing.create(
                AgentSettings.tracing(java.util.Optional.ofNullable(config)), EdgeAgent.VERSION, c.fleet() + "/" + c.device());
        EdgeAgent agent;
        try {
            agent = EdgeAgent.start(c, tracing);
        } catch (RuntimeException e) {
            tracing.close();
            throw e;
        }
        agent.onListenerDeath(reason -> { // health is DOWN by now; the supervisor restarts a process that exits
            systemd.stopping(reason + "; exiting (status 75)");
            spec.commandLine().getErr().println("edgefleet agent: " + reason + "; exiting (status 75) so that a supervisor restarts it");
            spec.commandLine().getErr().flush();
            System.exit(75);
        });
        String serving = String.format("%s%s serving %s%s%s",
                agent.httpPort() < 0 ? "HTTP off" : (c.tls().localHttp().isPresent() ? "https://" : "http://") + c.httpHost() + ":" + agent.httpPort() + "/v2",
                agent.coapPort().isPresent() ? (c.tls().coap().isPresent() ? ", coaps://" : ", coap://") + c.httpHost() + ":" + agent.coapPort().getAsInt() : "",
                agent.slots().activeVersions(), agent.slots().notReady().isEmpty() ? "" : ", not ready " + agent.slots().notReady(),
                c.mqttUrl().map(u -> ", MQTT " + u).orElse(""));
        spec.commandLine().getOut().printf("edgefleet agent %s/%s ready: %s%n", c.fleet(), c.device(), serving);
        spec.commandLine().getOut().flush();
        systemd.ready(serving);
        // SIGTERM: the drain may take its timeout, the rest (MQTT goodbye, CoAP, HTTP, store) a few seconds at most
        java.time.Duration drain = c.drainTimeout();
        BoundedShutdown.register("agent", () -> {
            systemd.stopping("draining in-flight requests (at most " + drain.toMillis() + " ms)");
            agent.close();
            tracing.close(); // the last spans, at most 5 s
        }, drain.plusSeconds(4)).await();
        return Main.OK;
    }
}
