package io.edgefleet.cloud;

import io.edgefleet.cloud.api.Token;
import io.edgefleet.cloud.ingest.KafkaSettings;
import io.edgefleet.engines.isolation.IsolationOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Everything a control-plane process needs. {@link #defaults} gives the embedded defaults: all
 * roles, SQLite in {@code dataDir}, HTTPS on 127.0.0.1:8080 (certificate from the CA in {@code dataDir/pki}), no MQTT, no Kafka (in-process ingest),
 * a signing key and API tokens created in {@code dataDir} on first start.
 *
 * @param mqttUrl broker of the fleet; without one the registries serve the API but see no devices
 * @param kafka when present, ingest goes MQTT → Kafka → aggregates; otherwise in-process
 * @param staleAfter a device silent this long reads {@code stale}; keep it above the agents' heartbeat
 * @param bucket width of the telemetry aggregate buckets
 * @param dedupeRetention how long (device, sequence) pairs are kept to drop redeliveries
 * @param tokens API tokens given by configuration, imported as named tokens with their role's scopes; empty means:
 *     import {@code dataDir/tokens/operator.token} and {@code viewer.token}, created on the first start
 * @param instance this process's id among replicas (MQTT client ids derive from it)
 * @param rolloutTick how often the rollout engine advances its rollouts
 * @param batching dynamic batching of the inference role
 * @param httpLimits idle and read timeouts and connection caps of the HTTP listener (the agent's {@code HttpLimits})
 * @param access operator access: OIDC issuer, trusted proxies, audit retention
 * @param senders how device messages prove their sender and how commands are signed (issue 15, defence in depth)
 * @param pki the device CA (own, in {@code dataDir/pki}, or an operator's) and enrolment limits
 * @param httpTls TLS of the HTTP listener: on by default with a certificate from the CA in {@code dataDir/pki}
 * @param brokerAdmin the secured Mosquitto's admin session: grants each enrolled device its rights and
 *     applies revocations (dynamic security); empty with the embedded broker or an open one
 * @param mqttTls MQTT over TLS ({@code ssl://} broker URL): each role's identity, read at every connect
 * @param database the store: SQLite in {@code dataDir} by default, PostgreSQL when configured (issue 18)
 */
public record CloudConfig(Set<Role> roles, Path dataDir, String httpHost, int httpPort, long maxUploadBytes, Optional<String> mqttUrl,
        Optional<KafkaSettings> kafka, Duration staleAfter, Duration bucket, Duration dedupeRetention, String signingKeyId,
        Optional<Path> signingKeyDir, List<Token> tokens, IsolationOptions validation, String instance, Duration rolloutTick,
        io.edgefleet.cloud.inference.BatchingSettings batching, io.edgefleet.http.limits.HttpLimits httpLimits,
        io.edgefleet.cloud.access.AccessSettings access,
        io.edgefleet.cloud.sender.SenderSettings senders,
        io.edgefleet.cloud.pki.PkiSettings pki,
        io.edgefleet.cloud.tls.HttpTls httpTls, Optional<io.edgefleet.cloud.broker.BrokerAdminSettings> brokerAdmin,
        Optional<io.edgefleet.cloud.mqtt.CloudMqttTls> mqttTls,
        io.edgefleet.cloud.store.DatabaseSettings database) {

    public CloudConfig {
        roles = Set.copyOf(roles);
        java.util.Objects.requireNonNull(httpLimits, "httpLimits");
        java.util.Objects.requireNonNull(access, "access");
        java.util.Objects.requireNonNull(senders, "senders");
        java.util.Objects.requireNonNull(pki, "pki");
        java.util.Objects.requireNonNull(httpTls, "httpTls");
        java.util.Objects.requireNonNull(brokerAdmin, "brokerAdmin");
        java.util.Objects.requireNonNull(mqttTls, "mqttTls");
        java.util.Objects.requireNonNull(database, "database");
        tokens = List.copyOf(tokens);
        if (httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("http.port must be 0..65535, got " + httpPort);
        }
        if (maxUploadBytes < 1024) {
            throw new IllegalArgumentException("max-upload-bytes must be at least 1024, got " + maxUploadBytes);
        }
        if (staleAfter.toMillis() < 100) {
            throw new IllegalArgumentException("stale-after must be at least 100 ms, got " + staleAfter);
        }
        io.edgefleet.protocols.Checks.id(instance, "instance");
    }

    public static CloudConfig defaults(Path dataDir) {
        return new CloudConfig(EnumSet.of(Role.CONTROL, Role.INGEST), dataDir, "127.0.0.1", 8080, 1024L * 1024 * 1024, Optional.empty(),
                Optional.empty(), Duration.ofMinutes(3), Duration.ofMinutes(1), Duration.ofDays(7), "edgefleet-registry", Optional.empty(),
                List.of(), IsolationOptions.defaults(), "1", Duration.ofSeconds(1),
                io.edgefleet.cloud.inference.BatchingSettings.defaults(), io.edgefleet.http.limits.HttpLimits.cloudDefaults(),
                io.edgefleet.cloud.access.AccessSettings.defaults(), io.edgefleet.cloud.sender.SenderSettings.defaults(),
                io.edgefleet.cloud.pki.PkiSettings.defaults(),
                io.edgefleet.cloud.tls.HttpTls.embedded(), Optional.empty(), Optional.empty(),
                io.edgefleet.cloud.store.DatabaseSettings.embedded());
    }

    public CloudConfig withRoles(Set<Role> r) {
        return new CloudConfig(r, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    /** The same configuration over another data folder (every path under it follows). */
    public CloudConfig withDataDir(Path dir) {
        return new CloudConfig(roles, dir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withHttp(String host, int port) {
        return new CloudConfig(roles, dataDir, host, port, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withMaxUploadBytes(long bytes) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, bytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withMqtt(String url) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, Optional.of(url), kafka, staleAfter, bucket,
                dedupeRetention, signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withKafka(KafkaSettings k) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, Optional.of(k), staleAfter, bucket,
                dedupeRetention, signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withStaleAfter(Duration d) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, d, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withBucket(Duration d) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, d, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withSigningKey(String keyId, Optional<Path> dir) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                keyId, dir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withTokens(List<Token> t) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, t, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withValidation(IsolationOptions v) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, v, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withInstance(String id) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, id, rolloutTick, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withRolloutTick(Duration d) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, d, batching, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withBatching(io.edgefleet.cloud.inference.BatchingSettings b) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, b, httpLimits, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withHttpLimits(io.edgefleet.http.limits.HttpLimits l) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, l, access, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withPki(io.edgefleet.cloud.pki.PkiSettings p) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, p, httpTls, brokerAdmin, mqttTls, database);
    }

    /** Where the control plane's own CA and server certificates live: {@code dataDir/pki}. */
    public Path pkiDir() {
        return dataDir.resolve("pki");
    }

    public CloudConfig withHttpTls(io.edgefleet.cloud.tls.HttpTls t) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, t, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withBrokerAdmin(io.edgefleet.cloud.broker.BrokerAdminSettings b) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls,
                Optional.of(b), mqttTls, database);
    }

    public CloudConfig withMqttTls(io.edgefleet.cloud.mqtt.CloudMqttTls tls) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls,
                brokerAdmin, Optional.of(tls), database);
    }

    public Path keyDir() {
        return signingKeyDir.orElse(dataDir.resolve("keys"));
    }

    public CloudConfig withAccess(io.edgefleet.cloud.access.AccessSettings a) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, a, senders, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    public CloudConfig withSenders(io.edgefleet.cloud.sender.SenderSettings s) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, s, pki, httpTls, brokerAdmin, mqttTls, database);
    }

    /** The same configuration over another database (PostgreSQL in production; SQLite in {@code dataDir} by default). */
    public CloudConfig withDatabase(io.edgefleet.cloud.store.DatabaseSettings d) {
        return new CloudConfig(roles, dataDir, httpHost, httpPort, maxUploadBytes, mqttUrl, kafka, staleAfter, bucket, dedupeRetention,
                signingKeyId, signingKeyDir, tokens, validation, instance, rolloutTick, batching, httpLimits, access, senders, pki, httpTls,
                brokerAdmin, mqttTls, d);
    }
}
