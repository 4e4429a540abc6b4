package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.profiles.probe.TfliteNative;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code agent.engines.tflite.native-library}: the agent loads TFLite's JNI library from the configured
 * file; one that is not a library leaves the TFLite model not ready with dlopen's reason, and the agent
 * serves the rest. Process-wide setting: reset after each test.
 */
class TfliteNativeLibraryTest {
    @TempDir
    Path dir;

    @AfterEach
    void reset() {
        TfliteNative.configure(Optional.empty());
    }

    @Test
    void a_configured_file_that_is_no_library_leaves_tflite_models_not_ready_with_the_reason_and_the_agent_serves_the_rest()
            throws Exception {
        Path notALibrary = Files.writeString(dir.resolve("libtensorflowlite_jni.so"), "not a shared library\n".repeat(10));
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("t"))), models.resolve("tcls.tflite"));
        Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("o"))), models.resolve("ocls.onnx"));
        Path yaml = Files.writeString(dir.resolve("agent.yaml"), """
                agent:
                  data-dir: %s
                  models-dir: %s
                  http: { port: 0 }
                  coap: { port: -1 }
                  engines:
                    tflite:
                      native-library: %s
                """.formatted(dir.resolve("data"), models, notALibrary));
        AgentConfig config = AgentSettings.load(yaml);
        assertThat(TfliteNative.configured()).contains(notALibrary.toAbsolutePath());
        try (EdgeAgent agent = EdgeAgent.start(config)) {
            assertThat(agent.slots().activeVersions()).containsOnlyKeys("ocls");
            assertThat(agent.slots().notReady()).containsOnlyKeys("tcls");
            assertThat(agent.slots().notReady().get("tcls")).contains(notALibrary.toAbsolutePath().toString())
                    .contains("failed to load on " + io.edgefleet.profiles.probe.Platform.current());
            assertThat(agent.runtimes().notLoadable()).containsOnlyKeys("tflite");
            assertThat(agent.runtimes().notLoadable().get("tflite")).contains(notALibrary.toAbsolutePath().toString());
        }
    }
}
