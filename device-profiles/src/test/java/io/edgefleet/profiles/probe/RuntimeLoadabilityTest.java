package io.edgefleet.profiles.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.profiles.Arch;
import io.edgefleet.profiles.RuntimeSupport;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which runtimes load, and why not: the real ONNX Runtime and TFLite natives on this host, and an
 * aarch64 device simulated through the probe's input (its {@code os.arch}), judged by the natives that
 * really ship in the jars or the library really configured.
 */
class RuntimeLoadabilityTest {
    private static final Platform PI = Platform.linux("aarch64");

    private static RuntimeStatus status(ProbeInputs inputs, String runtime) {
        return HostProbe.create().withInputs(inputs).runtimes().stream().filter(s -> s.runtime().equals(runtime)).findFirst().orElseThrow();
    }

    /** The TFLite library of the tflite-native-cpu jar, copied out to {@code dir}. */
    private static Path bundledTflite(Path dir) throws IOException {
        Path lib = dir.resolve("libtensorflowlite_jni.so");
        try (InputStream in = TfliteNative.class.getResourceAsStream(TfliteNative.RESOURCE)) {
            Files.copy(in, lib);
        }
        return lib;
    }

    @Test
    void an_aarch64_device_without_a_configured_library_runs_onnx_runtime_but_not_tflite() {
        HostReport pi = HostProbe.create().withInputs(new ProbeInputs(PI, Map.of())).probe();
        RuntimeStatus ort = pi.runtimes().get(0);
        RuntimeStatus tflite = pi.runtimes().get(1);
        assertThat(ort.loaded()).as(ort.detail()).isTrue();
        assertThat(ort.version()).contains("1.23.2");
        assertThat(ort.detail()).contains("ai/onnxruntime/native/linux-aarch64/").contains("not loaded");
        assertThat(tflite.loaded()).isFalse();
        assertThat(tflite.detail()).contains("no TensorFlow Lite JNI library is bundled for linux/aarch64")
                .contains("agent.engines.tflite.native-library").contains(TfliteNative.ENV);
        assertThat(pi.profile().arch()).isEqualTo(Arch.ARM64);
        assertThat(pi.profile().runtimes()).extracting(RuntimeSupport::name).containsExactly("onnxruntime");
        assertThat(pi.profile().labels()).containsEntry("os.arch", "aarch64").containsKey("probed-from");
    }

    @Test
    void a_library_configured_for_aarch64_is_judged_by_its_elf_header(@TempDir Path dir) throws IOException {
        Path x86 = bundledTflite(dir);
        RuntimeStatus wrongCpu = status(new ProbeInputs(PI, Map.of("tflite", x86)), "tflite");
        assertThat(wrongCpu.loaded()).isFalse();
        assertThat(wrongCpu.detail()).contains(x86.toString()).contains("is built for x86_64, not for linux/aarch64");

        Path text = Files.writeString(dir.resolve("not-a-library.so"), "hello\n");
        assertThat(status(new ProbeInputs(PI, Map.of("tflite", text)), "tflite").detail())
                .contains("is not a shared library (no ELF header)");
        assertThat(status(new ProbeInputs(PI, Map.of("tflite", dir.resolve("missing.so"))), "tflite").detail())
                .contains("does not exist");

        // an aarch64 ELF library: the aarch64 JNI library the ONNX Runtime jar carries
        Path arm = dir.resolve("libarm.so");
        try (InputStream in = getClass().getResourceAsStream("/ai/onnxruntime/native/linux-aarch64/libonnxruntime4j_jni.so")) {
            Files.copy(in, arm);
        }
        RuntimeStatus judged = status(new ProbeInputs(PI, Map.of("tflite", arm)), "tflite");
        assertThat(judged.loaded()).as(judged.detail()).isTrue();
        assertThat(judged.detail()).contains("ELF library for aarch64").contains("not loaded");
    }

    @Test
    void a_platform_no_jar_carries_natives_for_loads_nothing() {
        HostReport riscv = HostProbe.create().withInputs(new ProbeInputs(Platform.linux("riscv64"), Map.of())).probe();
        assertThat(riscv.runtimes()).noneMatch(RuntimeStatus::loaded);
        assertThat(riscv.runtimes().get(0).detail()).contains("carries no native library for linux/riscv64");
        assertThat(riscv.profile().runtimes()).isEmpty();
    }

    @Test
    @EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
    void on_this_host_a_configured_library_is_really_loaded(@TempDir Path dir) throws IOException {
        Path lib = bundledTflite(dir);
        RuntimeStatus s = status(new ProbeInputs(Platform.current(), Map.of("tflite", lib)), "tflite");
        assertThat(s.loaded()).as(s.detail()).isTrue();
        assertThat(s.version()).contains("2.6.2");
        assertThat(s.detail()).contains("JNI library loaded from " + lib);
    }

    @Test
    @EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
    void on_this_host_a_configured_file_that_is_no_library_is_refused_with_dlopen_reason(@TempDir Path dir) throws IOException {
        Path text = Files.writeString(dir.resolve("libtensorflowlite_jni.so"), "not a library\n".repeat(20));
        RuntimeStatus s = status(new ProbeInputs(Platform.current(), Map.of("tflite", text)), "tflite");
        assertThat(s.loaded()).isFalse();
        assertThat(s.detail()).contains(text.toString()).contains("failed to load on linux/x86_64")
                .contains("invalid ELF header"); // dlopen's own words
        Path arm = dir.resolve("libarm.so");
        try (InputStream in = getClass().getResourceAsStream("/ai/onnxruntime/native/linux-aarch64/libonnxruntime4j_jni.so")) {
            Files.copy(in, arm);
        }
        RuntimeStatus wrongCpu = status(new ProbeInputs(Platform.current(), Map.of("tflite", arm)), "tflite");
        assertThat(wrongCpu.loaded()).isFalse();
        assertThat(wrongCpu.detail()).contains("failed to load on linux/x86_64").containsIgnoringCase("AARCH64");
        RuntimeStatus missing = status(new ProbeInputs(Platform.current(), Map.of("tflite", dir.resolve("nowhere.so"))), "tflite");
        assertThat(missing.loaded()).isFalse();
        assertThat(missing.detail()).contains("nowhere.so").contains("does not exist on linux/x86_64");
        // the loader itself: a reason, never an UnsatisfiedLinkError
        assertThatThrownBy(() -> TfliteNative.load(Optional.of(text))).isInstanceOf(NativeLibraryUnavailableException.class)
                .hasMessageContaining("failed to load");
    }

    @Test
    void platforms_name_cpus_as_gnu_and_native_jars_do() {
        assertThat(Platform.linux("amd64")).hasToString("linux/x86_64");
        assertThat(Platform.linux("aarch64").arch()).contains(Arch.ARM64);
        assertThat(OnnxRuntimeProbe.folder(Platform.linux("aarch64"))).isEqualTo("linux-aarch64");
        assertThat(OnnxRuntimeProbe.folder(Platform.linux("amd64"))).isEqualTo("linux-x64");
        assertThat(Platform.current().isCurrent()).isTrue();
        assertThat(List.of(Platform.linux("aarch64"), Platform.linux("amd64")))
                .filteredOn(Platform::isCurrent).hasSize(1);
    }
}
