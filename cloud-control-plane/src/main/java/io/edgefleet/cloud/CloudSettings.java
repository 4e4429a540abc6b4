package io.edgefleet.cloud;

import io.edgefleet.cloud.api.Token;
import io.edgefleet.cloud.ingest.KafkaSettings;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a {@link CloudConfig} from a YAML file (node {@code cloud}) overlaid by environment
 * variables ({@code CLOUD_HTTP_PORT} overrides {@code cloud.http.port}). All keys are optional:
 *
 * <pre>
 * cloud:
 *   roles: all                       # control, ingest, inference, all, or a list "control,ingest"
 *   instance: "1"                    # replica id; MQTT client ids derive from it
 *   data-dir: ./cloud-data
 *   http: { host: 127.0.0.1, port: 8080, max-upload-bytes: 1073741824,
 *           idle-timeout-ms: 60000, header-timeout-ms: 10000, body-read-timeout-ms: 120000,
 *           max-connections: 1024, max-concurrent-requests: 512,
 *           tls: { enabled: true,           # false: plain HTTP
 *                  certificate: server.pem, key: server-key.pem,   # absent: issued by the CA in data-dir/pki
 *                  hosts: [cloud.example.com] } }                  # extra names of the issued certificate
 *   mqtt: { url: tcp://127.0.0.1:1883 }
 *     tls: { ca-file: ..., control: { key-file: ..., cert-file: ... }, ingest: { key-file: ..., cert-file: ... } }   # with an ssl:// url
 *   kafka:                           # absent: the ingest pipeline runs in-process
 *     bootstrap-servers: 127.0.0.1:9092
 *     partitions: 6
 *     replication-factor: 3
 *     properties: { security.protocol: SSL }
 *   fleet: { stale-after-ms: 180000 }
 *   telemetry: { bucket-ms: 60000, dedupe-retention-ms: 604800000 }
 *   signing: { key-id: edgefleet-registry, key-dir: ./keys }
 *   auth:
 *     tokens:                        # absent: operator and viewer tokens are created in data-dir/tokens
 *       - { name: alice, role: operator, token: "..." }   # or token-env: ALICE_TOKEN
 *       - { name: grafana, role: viewer, token-env: GRAFANA_TOKEN }
 *   broker-admin:                    # a secured Mosquitto (edgefleet broker mosquitto-config): grants and revocations
 *     url: ssl://broker.example.com:8883
 *     broker-dir: /etc/mosquitto/edgefleet   # optional: also rewrite crl.pem there and run the reload command
 *     reload-command: [systemctl, reload, mosquitto]
 *   senders:                         # device messages must prove their sender (docs/security.md)
 *     require-signed-messages: true  # state, telemetry and cmd/ack signed by the enrolled device the topic names
 *     require-enrolment: true        # messages of devices without a certificate never register them
 *   access:
 *     oidc:                          # absent: only API tokens; present: JWTs of this issuer too
 *       issuer: https://login.example.com/realms/ops
 *       audience: edgefleet
 *       jwks-url: https://login.example.com/realms/ops/protocol/openid-connect/certs
 *       actor-claim: sub               # the claim naming the caller in the audit
 *     trusted-proxies: [10.0.0.5]    # X-Forwarded-For is believed only from these
 *     audit-retention-days: 365
 *   pki:                             # absent: a device CA is created in data-dir/pki on first start
 *     ca-certificate: ./ca.pem       # an operator's CA (with ca-key, mode 0600)
 *     ca-key: ./ca-key.pem
 *     device-validity-seconds: 2592000
 *     max-token-ttl-seconds: 604800
 *     crl-next-update-seconds: 3600
 *   database:                        # absent: SQLite in data-dir/cloud.db (the embedded default)
 *     url: jdbc:postgresql://db.example.com:5432/edgefleet   # or host: db.example.com, port: 5432, name: edgefleet
 *     user: edgefleet
 *     password-file: /run/secrets/edgefleet-db   # or password-env: EDGEFLEET_DB_PASSWORD
 *     pool-size: 10
 *     connect-timeout-ms: 30000
 *     lease:                         # replicas on PostgreSQL: who runs the rollout engine (docs/control-plane.md "Replicas")
 *       duration-ms: 5000            # a renewal keeps the lease this long (a dead leader is replaced within duration + retry)
 *       renew-deadline-ms: 3000      # the leader stops acting this long after its last renewal (< duration-ms)
 *       retry-ms: 1000               # renewal and takeover attempts (< renew-deadline-ms)
 * </pre>
 * Secrets belong in the environment: {@code token-env} names the variable holding a token.
 */
public final class CloudSettings {
    private CloudSettings() {
    }

    /**
     * The file's settings, overlaid by the environment.
     *
     * @throws IllegalArgumentException one line, "configuration FILE: reason", when the file is missing, unreadable or wrong
     */
    public static CloudConfig load(Path yaml) {
        return io.edgefleet.transport.ConfigFiles.read(yaml, () -> {
            Config root = Config.builder()
                    .disableSystemPropertiesSource()
                    .sources(ConfigSources.environmentVariables(), ConfigSources.file(yaml))
                    .build();
            return from(root.get("cloud"));
        });
    }

    /**
     * Without a file: the embedded defaults (data under {@code cloud-data}) overlaid by the environment, so that
     * {@code CLOUD_HTTP_PORT} or {@code CLOUD_DATABASE_URL} apply with or without {@code --config} (they were
     * silently ignored without one). No {@code CLOUD_*} variable set: exactly {@link CloudConfig#defaults}.
     *
     * @throws IllegalArgumentException one line naming the variable's key when a value is wrong
     */
    public static CloudConfig fromEnvironment() {
        if (System.getenv().keySet().stream().noneMatch(k -> k.startsWith("CLOUD_"))) {
            return CloudConfig.defaults(Path.of("cloud-data"));
        }
        try {
            Config root = Config.builder().disableSystemPropertiesSource()
                    .sources(ConfigSources.environmentVariables()).build();
            return from(root.get("cloud"));
        } catch (io.helidon.config.ConfigException e) {
            throw new IllegalArgumentException("environment (CLOUD_* variables): " + e.getMessage(), e);
        }
    }

    /** {@code service.name} of the control plane's spans unless configured. */
    public static final String SERVICE_NAME = "edgefleet-cloud";

    /**
     * The {@code cloud.tracing} node of the file ({@code enabled}, {@code otlp-endpoint},
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
                    .build().get("cloud.tracing");
            return io.edgefleet.transport.tracing.TracingSettings.read(k -> t.get(k).asString().asOptional(), System.getenv(), SERVICE_NAME);
        });
    }

    /**
     * The {@code cloud.drift} node of {@code yaml} (docs/drift.md): {@code bins}, {@code threshold},
     * {@code consecutive-windows}, {@code min-samples}, {@code reference-windows}, {@code grace} (ISO-8601, e.g. PT30S),
     * {@code max-open-windows}; defaults without a file or a key.
     */
    public static io.edgefleet.cloud.drift.DriftSettings drift(java.util.Optional<Path> yaml) {
        if (yaml.isEmpty()) {
            return io.edgefleet.cloud.drift.DriftSettings.defaults();
        }
        return io.edgefleet.transport.ConfigFiles.read(yaml.get(), () -> io.edgefleet.cloud.drift.DriftSettings.from(Config.builder()
                .disableSystemPropertiesSource()
                .sources(ConfigSources.environmentVariables(), ConfigSources.file(yaml.get()))
                .build().get("cloud.drift")));
    }

    static CloudConfig from(Config c) {
        CloudConfig base = CloudConfig.defaults(Path.of(c.get("data-dir").asString().orElse("cloud-data")));
        CloudConfig out = base
                .withRoles(Role.parse(c.get("roles").asString().orElse("control,ingest")))
                .withInstance(c.get("instance").asString().orElse(base.instance()))
                .withHttp(c.get("http.host").asString().orElse(base.httpHost()), c.get("http.port").asInt().orElse(base.httpPort()))
                .withMaxUploadBytes(c.get("http.max-upload-bytes").asLong().orElse(base.maxUploadBytes()))
                .withStaleAfter(Duration.ofMillis(c.get("fleet.stale-after-ms").asLong().orElse(base.staleAfter().toMillis())))
                .withBucket(Duration.ofMillis(c.get("telemetry.bucket-ms").asLong().orElse(base.bucket().toMillis())))
                .withSigningKey(c.get("signing.key-id").asString().orElse(base.signingKeyId()),
                        c.get("signing.key-dir").asString().map(Path::of).or(base::signingKeyDir));
        io.edgefleet.http.limits.HttpLimits l = base.httpLimits();
        out = out.withHttpLimits(new io.edgefleet.http.limits.HttpLimits(
                Duration.ofMillis(c.get("http.idle-timeout-ms").asLong().orElse(l.idleTimeout().toMillis())),
                Duration.ofMillis(c.get("http.header-timeout-ms").asLong().orElse(l.headerTimeout().toMillis())),
                Duration.ofMillis(c.get("http.body-read-timeout-ms").asLong().orElse(l.bodyReadTimeout().toMillis())),
                c.get("http.max-connections").asInt().orElse(l.maxConnections()),
                c.get("http.max-concurrent-requests").asInt().orElse(l.maxConcurrentRequests())));
        if (!c.get("http.tls.enabled").asBoolean().orElse(true)) {
            out = out.withHttpTls(io.edgefleet.cloud.tls.HttpTls.plain());
        } else if (c.get("http.tls.certificate").exists() || c.get("http.tls.key").exists()) {
            out = out.withHttpTls(new io.edgefleet.cloud.tls.HttpTls(true, c.get("http.tls.certificate").asString().asOptional().map(Path::of),
                    c.get("http.tls.key").asString().asOptional().map(Path::of), c.get("http.tls.hosts").asList(String.class).orElse(List.of())));
        } else {
            out = out.withHttpTls(io.edgefleet.cloud.tls.HttpTls.embedded().withHosts(c.get("http.tls.hosts").asList(String.class).orElse(List.of())));
        }
        if (c.get("senders.require-signed-messages").exists() || c.get("senders.require-enrolment").exists()) {
            var d = io.edgefleet.cloud.sender.SenderSettings.defaults();
            out = out.withSenders(new io.edgefleet.cloud.sender.SenderSettings(c.get("senders.require-signed-messages").asBoolean().orElse(false),
                    c.get("senders.require-enrolment").asBoolean().orElse(false), java.util.Optional.empty(), java.util.Optional.empty(),
                    d.maxRequestsPerSecond(), d.maxClockSkew()));
        }
        if (c.get("broker-admin.url").exists()) {
            var b0 = io.edgefleet.cloud.broker.BrokerAdminSettings.of(c.get("broker-admin.url").asString().get());
            var b = new io.edgefleet.cloud.broker.BrokerAdminSettings(b0.url(),
                    Duration.ofMillis(c.get("broker-admin.timeout-ms").asLong().orElse(b0.timeout().toMillis())), b0.brokerDir(), b0.reloadCommand());
            if (c.get("broker-admin.broker-dir").exists()) {
                b = b.withCrlRefresh(Path.of(c.get("broker-admin.broker-dir").asString().get()),
                        c.get("broker-admin.reload-command").asList(String.class).orElse(List.of()));
            }
            out = out.withBrokerAdmin(b);
        }
        if (c.get("mqtt.url").exists()) {
            out = out.withMqtt(c.get("mqtt.url").asString().get());
        }
        if (c.get("mqtt.tls").exists()) {
            // MQTT over TLS (an ssl:// url): the CA and each role's key and certificate, read again at every connect
            java.util.function.Function<String, Path> file = k -> Path.of(c.get("mqtt.tls." + k).asString().orElseThrow(
                    () -> new IllegalArgumentException("cloud.mqtt.tls needs ca-file, control.key-file, control.cert-file, ingest.key-file and "
                            + "ingest.cert-file; " + k + " is missing")));
            out = out.withMqttTls(io.edgefleet.cloud.mqtt.CloudMqttTls.fromPem(file.apply("ca-file"), file.apply("control.key-file"),
                    file.apply("control.cert-file"), file.apply("ingest.key-file"), file.apply("ingest.cert-file")));
        }
        if (c.get("kafka.bootstrap-servers").exists()) {
            Map<String, String> props = new HashMap<>();
            c.get("kafka.properties").detach().asMap().ifPresent(props::putAll);
            KafkaSettings d = KafkaSettings.of(c.get("kafka.bootstrap-servers").asString().get());
            out = out.withKafka(new KafkaSettings(d.bootstrapServers(), d.telemetryTopic(), d.eventsTopic(), d.consumerGroup(),
                    c.get("kafka.partitions").asInt().orElse(d.partitions()),
                    (short) (int) c.get("kafka.replication-factor").asInt().orElse((int) d.replicationFactor()), props));
        }
        io.edgefleet.cloud.pki.PkiSettings pki = base.pki();
        out = out.withPki(new io.edgefleet.cloud.pki.PkiSettings(c.get("pki.ca-certificate").asString().asOptional().map(Path::of),
                c.get("pki.ca-key").asString().asOptional().map(Path::of),
                Duration.ofSeconds(c.get("pki.device-validity-seconds").asLong().orElse(pki.deviceValidity().toSeconds())),
                Duration.ofSeconds(c.get("pki.max-token-ttl-seconds").asLong().orElse(pki.maxTokenTtl().toSeconds())),
                Duration.ofSeconds(c.get("pki.crl-next-update-seconds").asLong().orElse(pki.crlNextUpdate().toSeconds()))));
        List<Token> tokens = new ArrayList<>();
        for (Config t : c.get("auth.tokens").asNodeList().orElse(List.of())) {
            String name = t.get("name").asString().orElseThrow(() -> new IllegalArgumentException("cloud.auth.tokens: an entry has no name"));
            Optional<String> secret = t.get("token").asString().asOptional()
                    .or(() -> t.get("token-env").asString().asOptional().map(System::getenv));
            tokens.add(new Token(name, Token.Role.parse(t.get("role").asString().orElse("viewer")), secret.orElseThrow(() ->
                    new IllegalArgumentException("cloud.auth.tokens: token " + name + " has neither token nor a set token-env"))));
        }
        out = out.withAccess(access(c.get("access")));
        if (c.get("database").exists()) {
            out = out.withDatabase(database(c.get("database")));
        }
        return tokens.isEmpty() ? out : out.withTokens(tokens);
    }

    /** {@code cloud.database}: {@code url}, or {@code host} (+ {@code port}, {@code name}) of a PostgreSQL server; the rest optional. */
    static io.edgefleet.cloud.store.DatabaseSettings database(Config d) {
        io.edgefleet.cloud.store.DatabaseSettings e = io.edgefleet.cloud.store.DatabaseSettings.embedded();
        Optional<String> url = d.get("url").asString().asOptional();
        if (url.isPresent() && (d.get("host").exists() || d.get("port").exists() || d.get("name").exists())) {
            throw new IllegalArgumentException("database: give either url or host (with port and name), not both: the url names "
                    + "the server and database already");
        }
        if (url.isEmpty() && d.get("host").exists()) {
            url = Optional.of("jdbc:postgresql://" + d.get("host").asString().get() + ":" + d.get("port").asInt().orElse(5432) + "/"
                    + d.get("name").asString().orElse("edgefleet"));
        }
        io.edgefleet.cloud.lease.LeaseSettings l = e.lease();
        Config ls = d.get("lease");
        return new io.edgefleet.cloud.store.DatabaseSettings(url, d.get("user").asString().asOptional(),
                d.get("password-file").asString().asOptional().map(Path::of), d.get("password-env").asString().asOptional(),
                d.get("pool-size").asInt().orElse(e.poolSize()),
                Duration.ofMillis(d.get("connect-timeout-ms").asLong().orElse(e.connectTimeout().toMillis())),
                new io.edgefleet.cloud.lease.LeaseSettings(Duration.ofMillis(ls.get("duration-ms").asLong().orElse(l.duration().toMillis())),
                        Duration.ofMillis(ls.get("renew-deadline-ms").asLong().orElse(l.renewDeadline().toMillis())),
                        Duration.ofMillis(ls.get("retry-ms").asLong().orElse(l.retry().toMillis()))));
    }

    static io.edgefleet.cloud.access.AccessSettings access(Config a) {
        io.edgefleet.cloud.access.AccessSettings d = io.edgefleet.cloud.access.AccessSettings.defaults();
        Optional<io.edgefleet.cloud.access.OidcSettings> oidc = Optional.empty();
        if (a.get("oidc").exists()) {
            Config o = a.get("oidc");
            java.util.function.Function<String, String> req = k -> o.get(k).asString().orElseThrow(() ->
                    new IllegalArgumentException("cloud.access.oidc needs " + k));
            oidc = Optional.of(new io.edgefleet.cloud.access.OidcSettings(req.apply("issuer"), req.apply("audience"),
                    java.net.URI.create(req.apply("jwks-url")), o.get("actor-claim").asString().orElse("sub")));
        }
        return new io.edgefleet.cloud.access.AccessSettings(oidc, java.util.Set.copyOf(a.get("trusted-proxies").asList(String.class).orElse(List.of())),
                Duration.ofDays(a.get("audit-retention-days").asLong().orElse(d.auditRetention().toDays())));
    }
}
