package io.edgefleet.cloud.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.cloud.CloudSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DriftSettingsTest {
    @TempDir
    Path dir;

    @Test
    void the_cloud_drift_node_overrides_the_defaults_key_by_key() throws Exception {
        Path yaml = Files.writeString(dir.resolve("cloud.yaml"), """
                cloud:
                  drift: { threshold: 0.25, consecutive-windows: 4, min-samples: 500, window: PT1M, grace: PT10S }
                """);
        DriftSettings s = CloudSettings.drift(Optional.of(yaml));
        assertThat(s).isEqualTo(new DriftSettings(10, 0.25, 4, 500, 20, Duration.ofSeconds(10), 4096, Duration.ofMinutes(1)));
        assertThat(CloudSettings.drift(Optional.empty())).isEqualTo(DriftSettings.defaults());
    }

    @Test
    void a_bad_setting_names_the_key() throws Exception {
        Path yaml = Files.writeString(dir.resolve("cloud.yaml"), "cloud:\n  drift: { threshold: -1 }\n");
        assertThatThrownBy(() -> CloudSettings.drift(Optional.of(yaml))).hasMessageContaining("drift.threshold");
        assertThatThrownBy(() -> new DriftSettings(1, 0.2, 3, 200, 20, Duration.ZERO, 1, Duration.ZERO)).hasMessageContaining("drift.bins");
    }
}
