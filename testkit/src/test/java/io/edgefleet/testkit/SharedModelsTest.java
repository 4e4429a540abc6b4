package io.edgefleet.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class SharedModelsTest {
    @TempDir
    Path dir;

    @Test
    void a_missing_model_skips_where_models_are_optional_and_fails_where_they_are_required() {
        assertThatThrownBy(() -> SharedModels.require(dir, "vad/vad.onnx", false)).isExactlyInstanceOf(TestAbortedException.class)
                .hasMessageContaining("skipped: real model " + dir.resolve("vad/vad.onnx") + " not found")
                .hasMessageContaining("-Dedgefleet.shared.models=DIR");
        assertThatThrownBy(() -> SharedModels.require(dir, "vad/vad.onnx", true)).isExactlyInstanceOf(AssertionFailedError.class)
                .hasMessageContaining("real model " + dir.resolve("vad/vad.onnx") + " not found")
                .hasMessageContaining("a failure, not a skip");
    }

    @Test
    void a_present_model_is_returned_either_way() throws Exception {
        Path f = Files.createDirectories(dir.resolve("vad")).resolve("vad.onnx");
        Files.write(f, new byte[] {1});
        assertThat(SharedModels.require(dir, "vad/vad.onnx", true)).isEqualTo(f);
        assertThat(SharedModels.require(dir, "vad/vad.onnx", false)).isEqualTo(f);
    }

    @Test
    void the_default_folder_is_shared_models_beside_the_repository_unless_overridden() {
        String before = System.getProperty(SharedModels.PROPERTY);
        try {
            System.clearProperty(SharedModels.PROPERTY);
            Path repo = Path.of("").toAbsolutePath().getParent(); // tests run in the module folder
            assertThat(repo.resolve("mvnw")).exists();
            assertThat(SharedModels.dir()).isEqualTo(repo.resolveSibling("shared").resolve("models"));
            System.setProperty(SharedModels.PROPERTY, dir.toString());
            assertThat(SharedModels.dir()).isEqualTo(dir.toAbsolutePath().normalize());
        } finally {
            if (before == null) {
                System.clearProperty(SharedModels.PROPERTY);
            } else {
                System.setProperty(SharedModels.PROPERTY, before);
            }
        }
    }
}
