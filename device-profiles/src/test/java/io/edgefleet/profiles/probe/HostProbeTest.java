package io.edgefleet.profiles.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.profiles.Arch;
import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.protocols.manifest.Accelerator;
import io.edgefleet.protocols.manifest.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

class HostProbeTest {

    @Test
    void describes_this_host_with_the_runtimes_that_really_load() {
        HostReport report = HostProbe.create().probe();
        DeviceProfile p = report.profile();
        assertThat(p.id()).startsWith("host-").matches("[a-z0-9._-]{1,64}");
        assertThat(p.cores()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(p.memoryMb()).isGreaterThan(256);
        assertThat(p.arch()).isEqualTo(Arch.fromOsArch(System.getProperty("os.arch")).orElseThrow());
        assertThat(report.runtimes()).extracting(RuntimeStatus::runtime).containsExactly("onnxruntime", "tflite");
        assertThat(p.precisions()).endsWith(Precision.FP32).contains(Precision.INT8);
    }

    @Test
    @EnabledOnOs(value = OS.LINUX, architectures = {"amd64", "x86_64"})
    void loads_onnx_runtime_and_tflite_natives_on_linux_x86_64() {
        HostReport report = HostProbe.create().probe();
        RuntimeStatus ort = report.runtimes().get(0);
        RuntimeStatus tflite = report.runtimes().get(1);
        assertThat(ort.loaded()).as(ort.detail()).isTrue();
        assertThat(ort.version()).contains("1.23.2");
        assertThat(ort.providers()).contains("CPU");
        assertThat(tflite.loaded()).as(tflite.detail()).isTrue();
        assertThat(tflite.version()).contains("2.6.2");
        assertThat(report.profile().runtime("tflite").orElseThrow().version()).isEqualTo("2.6.2");
        assertThat(report.profile().runtime("onnxruntime").orElseThrow().version()).isEqualTo("1.23.2");
    }

    @Test
    void a_host_without_a_gpu_reports_none_and_does_not_rank_fp16_first(@TempDir Path root) throws IOException {
        Path proc = Files.createDirectories(root.resolve("proc"));
        Path dev = Files.createDirectories(root.resolve("dev"));
        Files.writeString(proc.resolve("meminfo"), "MemTotal:        4005888 kB\nMemFree: 1 kB\n");
        Files.writeString(proc.resolve("cpuinfo"), "processor : 0\nFeatures : fp asimd evtstrm crc32 cpuid\n");
        HostReport report = HostProbe.withRoots(proc, dev).probe();
        assertThat(report.gpus()).isEmpty();
        assertThat(report.profile().accelerators()).isEmpty();
        assertThat(report.profile().memoryMb()).isEqualTo(3912);
        assertThat(report.profile().maxModelBytes()).isEqualTo(3912L * 1024 * 1024 / 4);
        assertThat(report.profile().precisions()).containsExactly(Precision.INT8, Precision.FP32);
    }

    @Test
    void an_arm_cpu_with_fp16_arithmetic_and_a_visible_nvidia_driver_change_the_precision_order(@TempDir Path root)
            throws IOException {
        Path proc = Files.createDirectories(root.resolve("proc"));
        Path dev = Files.createDirectories(root.resolve("dev"));
        Files.writeString(proc.resolve("cpuinfo"), "Features : fp asimd asimdhp asimddp\n");
        assertThat(HostProbe.withRoots(proc, dev).probe().profile().precisions())
                .containsExactly(Precision.INT8, Precision.FP16, Precision.FP32);
        Files.createDirectories(proc.resolve("driver/nvidia/gpus/0000:01:00.0"));
        HostReport withGpu = HostProbe.withRoots(proc, dev).probe();
        assertThat(withGpu.gpus()).isNotEmpty();
        assertThat(withGpu.profile().accelerators()).containsExactly(Accelerator.CUDA_GPU);
        assertThat(withGpu.profile().precisions()).containsExactly(Precision.FP16, Precision.INT8, Precision.FP32);
    }

    @Test
    void numeric_versions_drop_suffixes() {
        assertThat(HostProbe.numericVersion("2.6.2")).isEqualTo("2.6.2");
        assertThat(HostProbe.numericVersion("1.23.2-rc1")).isEqualTo("1.23.2");
        assertThat(HostProbe.numericVersion("unknown")).isEqualTo("0");
    }
}
