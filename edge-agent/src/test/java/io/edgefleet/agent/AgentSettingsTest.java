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
    void the_models_folder_is_lenient_unless_models_strict_is_set_and_ports_default_to_8000_and_5683() throws Exception {
        Path lenient = Files.writeString(dir.resolve("lenient.yaml"), """
                agent:
                  data-dir: %s
                  models-dir: %s
                """.formatted(dir.resolve("data"), dir.resolve("models")));
        AgentConfig c = AgentSettings.load(lenient);
        assertThat(c.modelsDir()).contains(new AgentConfig.ModelsDir(dir.resolve("models"), false));
        assertThat(c.httpPort()).isEqualTo(8000);
        assertThat(c.coapPort()).isEqualTo(5683);
        Path strict = Files.writeString(dir.resolve("strict.yaml"), """
                agent:
                  data-dir: %s
                  models-dir: %s
                  models-strict: true
                """.formatted(dir.resolve("data"), dir.resolve("models")));
        assertThat(AgentSettings.load(strict).modelsDir()).contains(new AgentConfig.ModelsDir(dir.resolve("models"), true));
    }
}
