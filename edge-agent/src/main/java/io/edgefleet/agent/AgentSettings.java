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
 *   fleet: local
 *   device: agent
 *   http: { host: 127.0.0.1, port: 8080, max-payload-bytes: 16777216,
 *           idle-timeout-ms: 30000, header-timeout-ms: 10000, body-read-timeout-ms: 30000,
 *           max-connections: 256, max-concurrent-requests: 128 }
 *   coap: { port: 5683 }                  # -1: off
 *   mqtt: { url: tcp://127.0.0.1:1883, max-in-flight: 256 }   # connected mode
 *   inference: { threads-per-model: 1, queue-capacity: 64, request-timeout-ms: 10000, drain-timeout-ms: 10000 }
 *   slots: { max-latency-factor: 5.0 }
 *   telemetry: { window-ms: 10000, max-outbox-rows: 10000, heartbeat-ms: 60000 }
 *   escalation:                           # joint inference with the cloud's inference role
 *     url: http://cloud:8080
 *     breaker: { failures: 3, open-ms: 5000 }
 *     models:
 *       kws: { measure: margin, threshold: 0.3, max-share: 0.2, deadline-ms: 300 }
 * </pre>
 */
public final class AgentSettings {
    private AgentSettings() {
    }

    /** The file's settings, overlaid by the environment. */
    public static AgentConfig load(Path yaml) {
        Config root = Config.builder()
                .disableSystemPropertiesSource()
                .sources(ConfigSources.environmentVariables(), ConfigSources.file(yaml))
                .build();
        return from(root.get("agent"));
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
            a = a.withModelsDir(Path.of(c.get("models-dir").asString().get()));
        }
        if (c.get("coap.port").exists()) {
            a = a.withCoapPort(c.get("coap.port").asInt().get());
        }
        if (c.get("mqtt.url").exists()) {
            a = a.withMqtt(c.get("mqtt.url").asString().get());
        }
        if (c.get("telemetry").exists()) {
            var t = base.telemetry();
            a = a.withTelemetry(new AgentConfig.Telemetry(
                    Duration.ofMillis(c.get("telemetry.window-ms").asLong().orElse(t.window().toMillis())),
                    c.get("telemetry.max-outbox-rows").asInt().orElse(t.maxOutboxRows()),
                    Duration.ofMillis(c.get("telemetry.heartbeat-ms").asLong().orElse(t.heartbeat().toMillis()))));
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
        return a.withTimeouts(Duration.ofMillis(c.get("inference.request-timeout-ms").asLong().orElse(base.requestTimeout().toMillis())),
                        Duration.ofMillis(c.get("inference.drain-timeout-ms").asLong().orElse(base.drainTimeout().toMillis())))
                .withMaxLatencyFactor(c.get("slots.max-latency-factor").asDouble().orElse(base.maxLatencyFactor()));
    }
}
