package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.agent.serving.EscalationPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's YAML: joint-inference settings and their errors. */
class AgentSettingsTest {
    @TempDir
    Path dir;

    @Test
    void escalation_settings_become_per_model_policies() throws Exception {
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %s
                  escalation:
                    url: http://127.0.0.1:9999
                    breaker: { failures: 5, open-ms: 2500 }
                    models:
                      kws: { measure: margin, threshold: 0.3, max-share: 0.2, deadline-ms: 300 }
                      person: { threshold: 0.6 }
                """.formatted(dir.resolve("data")));
        AgentConfig.Escalation e = AgentSettings.load(yaml).escalation().orElseThrow();
        assertThat(e.url().toString()).isEqualTo("http://127.0.0.1:9999");
        assertThat(e.breakerFailures()).isEqualTo(5);
        assertThat(e.breakerOpen()).isEqualTo(Duration.ofMillis(2500));
        assertThat(e.policies().get("kws")).isEqualTo(new EscalationPolicy(EscalationPolicy.Measure.MARGIN, 0.3, 0.2, Duration.ofMillis(300)));
        assertThat(e.policies().get("person").measure()).isEqualTo(EscalationPolicy.Measure.MAX_PROBABILITY);
        assertThat(e.policies().get("person").threshold()).isEqualTo(0.6);
    }

    @Test
    void a_bad_policy_is_refused_naming_it() throws Exception {
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %s
                  escalation:
                    url: http://127.0.0.1:9999
                    models:
                      kws: { measure: vibes, threshold: 0.3 }
                """.formatted(dir.resolve("data")));
        assertThatThrownBy(() -> AgentSettings.load(yaml)).hasMessageContaining("escalation").hasMessageContaining("VIBES");
    }

    @Test
    void http_and_mqtt_bounds_are_read_and_default_to_the_documented_values() throws Exception {
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %s
                  http: { idle-timeout-ms: 5000, header-timeout-ms: 2000, body-read-timeout-ms: 7000, max-connections: 32, max-concurrent-requests: 8 }
                  mqtt: { max-in-flight: 12 }
                """.formatted(dir.resolve("data")));
        AgentConfig c = AgentSettings.load(yaml);
        assertThat(c.httpLimits()).isEqualTo(new io.edgefleet.http.limits.HttpLimits(Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofSeconds(7), 32, 8));
        assertThat(c.mqttMaxInFlight()).isEqualTo(12);
        AgentConfig d = AgentSettings.load(Files.writeString(dir.resolve("empty.yaml"), "agent:\n  fleet: f\n"));
        assertThat(d.httpLimits()).isEqualTo(new io.edgefleet.http.limits.HttpLimits(Duration.ofSeconds(30), Duration.ofSeconds(10),
                Duration.ofSeconds(30), 256, 128));
        assertThat(d.mqttMaxInFlight()).isEqualTo(256);
    }
}
