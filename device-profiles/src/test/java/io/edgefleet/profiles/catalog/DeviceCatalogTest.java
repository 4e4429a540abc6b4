package io.edgefleet.profiles.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.profiles.Arch;
import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.Accelerator;
import io.edgefleet.protocols.manifest.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceCatalogTest {
    private final DeviceCatalog catalog = DeviceCatalog.builtIn();

    @Test
    void ships_at_least_six_real_device_classes() {
        assertThat(catalog.ids()).hasSizeGreaterThanOrEqualTo(6).doesNotHaveDuplicates()
                .contains("raspberry-pi-4-4gb", "raspberry-pi-5-8gb", "jetson-orin-nano-8gb", "coral-dev-board",
                        "intel-nuc-13-pro-i5", "arm64-gateway-1gb", "x86-gpu-server-l4");
        for (DeviceProfile p : catalog.all()) {
            assertThat(p.labels()).as(p.id()).containsKey("source");
            assertThat(p.runtimes()).as(p.id()).isNotEmpty();
        }
    }

    @Test
    void profiles_carry_the_vendor_figures() {
        DeviceProfile pi4 = catalog.get("raspberry-pi-4-4gb");
        assertThat(pi4.arch()).isEqualTo(Arch.ARM64);
        assertThat(pi4.cores()).isEqualTo(4);
        assertThat(pi4.memoryMb()).isEqualTo(4096);
        assertThat(pi4.accelerators()).isEmpty();
        assertThat(pi4.precisions()).containsExactly(Precision.INT8, Precision.FP32);
        DeviceProfile jetson = catalog.get("jetson-orin-nano-8gb");
        assertThat(jetson.cores()).isEqualTo(6);
        assertThat(jetson.has(Accelerator.CUDA_GPU)).isTrue();
        assertThat(jetson.precisions().get(0)).isEqualTo(Precision.FP16);
        DeviceProfile coral = catalog.get("coral-dev-board");
        assertThat(coral.has(Accelerator.EDGE_TPU)).isTrue();
        assertThat(coral.runtime("tflite").orElseThrow().version()).isEqualTo("2.5");
        assertThat(coral.memoryMb()).isEqualTo(1024);
    }

    @Test
    void unknown_ids_are_refused_listing_the_known_ones() {
        assertThatThrownBy(() -> catalog.get("toaster"))
                .isInstanceOf(UnknownProfileException.class)
                .hasMessageStartingWith("unknown device profile 'toaster'; known profiles: raspberry-pi-4-4gb, ");
    }

    @Test
    void operators_load_their_own_profiles_and_they_override_built_ins(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("mine.yaml");
        Files.writeString(file, """
                profiles:
                  - id: raspberry-pi-4-4gb
                    name: Pi 4 with a Coral USB stick
                    arch: arm64
                    cores: 4
                    memoryMb: 4096
                    accelerators: [edge-tpu]
                    runtimes: [{name: tflite, version: "2.6"}]
                    precisions: [int8, fp32]
                    maxModelBytes: 100000000
                """);
        DeviceCatalog merged = catalog.with(DeviceCatalog.load(file));
        assertThat(merged.get("raspberry-pi-4-4gb").has(Accelerator.EDGE_TPU)).isTrue();
        assertThat(merged.ids()).hasSameSizeAs(catalog.ids());
    }

    @Test
    void a_bad_profile_file_names_the_file_and_the_field(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, """
                id: gw
                name: Gateway
                arch: sparc
                cores: 4
                memoryMb: 1024
                runtimes: [{name: tflite, version: "2.6"}]
                precisions: [int8]
                maxModelBytes: 1000
                """);
        assertThatThrownBy(() -> DeviceCatalog.load(file))
                .isInstanceOf(ProtocolException.class)
                .hasMessage(file + ":$.arch: 'sparc' is not one of x86_64, arm64, armv7, riscv64");
        Files.writeString(file, """
                id: gw
                name: Gateway
                arch: arm64
                cores: 0
                memoryMb: 1024
                runtimes: [{name: tflite, version: "2.6"}]
                precisions: [int8]
                maxModelBytes: 1000
                """);
        assertThatThrownBy(() -> DeviceCatalog.load(file))
                .isInstanceOf(ProtocolException.class)
                .hasMessage(file + ":$.cores: must be >= 1, got 0");
        Files.writeString(file, """
                id: gw
                name: Gateway
                arch: arm64
                cores: 2
                memoryMb: 1024
                runtimes: [{name: tflite, version: "two"}]
                precisions: [int8]
                maxModelBytes: 1000
                """);
        assertThatThrownBy(() -> DeviceCatalog.load(file))
                .isInstanceOf(ProtocolException.class)
                .hasMessage(file + ":$.runtimes[0].version: 'two' is not a dotted numeric version");
    }
}
