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
 *           max-connections: 1024, max-concurrent-requests: 512 }
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
 * </pre>
 * Secrets belong in the environment: {@code token-env} names the variable holding a token.
 */
public final class CloudSettings {
    private CloudSettings() {
    }

    public static CloudConfig load(Path yaml) {
        Config root = Config.builder()
                .disableSystemPropertiesSource()
                .sources(ConfigSources.environmentVariables(), ConfigSources.file(yaml))
                .build();
        return from(root.get("cloud"));
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
        List<Token> tokens = new ArrayList<>();
        for (Config t : c.get("auth.tokens").asNodeList().orElse(List.of())) {
            String name = t.get("name").asString().orElseThrow(() -> new IllegalArgumentException("cloud.auth.tokens: an entry has no name"));
            Optional<String> secret = t.get("token").asString().asOptional()
                    .or(() -> t.get("token-env").asString().asOptional().map(System::getenv));
            tokens.add(new Token(name, Token.Role.parse(t.get("role").asString().orElse("viewer")), secret.orElseThrow(() ->
                    new IllegalArgumentException("cloud.auth.tokens: token " + name + " has neither token nor a set token-env"))));
        }
        return tokens.isEmpty() ? out : out.withTokens(tokens);
    }
}
