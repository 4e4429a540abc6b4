package io.edgefleet.profiles.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.profiles.Arch;
import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.profiles.RuntimeSupport;
import io.edgefleet.profiles.probe.HostProbe;
import io.edgefleet.profiles.probe.Platform;
import io.edgefleet.profiles.probe.ProbeInputs;
import io.edgefleet.profiles.probe.RuntimeStatus;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The catalog's runtimes per architecture against the native libraries really on the class path. */
class ArchitectureRuntimesTest {
    private final DeviceCatalog catalog = DeviceCatalog.builtIn();

    @ParameterizedTest(name = "{0} (os.arch {1})")
    @CsvSource({"x86_64, amd64", "arm64, aarch64", "armv7, arm", "riscv64, riscv64"})
    void the_runtimes_shipped_per_architecture_are_those_whose_natives_the_jars_carry(String arch, String osArch) {
        Set<String> loadable = HostProbe.create().withInputs(new ProbeInputs(Platform.linux(osArch), Map.of())).runtimes().stream()
                .filter(RuntimeStatus::loaded).map(RuntimeStatus::runtime).collect(Collectors.toSet());
        assertThat(DeviceCatalog.shippedRuntimes(Arch.fromWire(arch))).containsExactlyInAnyOrderElementsOf(loadable);
    }

    @Test
    void out_of_the_box_an_arm64_board_runs_onnx_runtime_and_an_x86_64_box_both() {
        DeviceProfile pi = DeviceCatalog.outOfTheBox(catalog.get("raspberry-pi-4-4gb"));
        assertThat(pi.runtimes()).extracting(RuntimeSupport::name).containsExactly("onnxruntime");
        assertThat(catalog.get("raspberry-pi-4-4gb").runtimes()).extracting(RuntimeSupport::name).contains("tflite");
        DeviceProfile nuc = DeviceCatalog.outOfTheBox(catalog.get("intel-nuc-13-pro-i5"));
        assertThat(nuc).isSameAs(catalog.get("intel-nuc-13-pro-i5"));
        // the Coral board runs TFLite only (Edge TPU): with nothing configured it runs nothing we ship
        assertThat(DeviceCatalog.outOfTheBox(catalog.get("coral-dev-board")).runtimes()).isEmpty();
    }

    @Test
    void every_arm64_profile_keeps_a_runtime_it_can_run_out_of_the_box_or_says_why_not() {
        for (DeviceProfile p : catalog.all()) {
            DeviceProfile shipped = DeviceCatalog.outOfTheBox(p);
            if (p.id().equals("coral-dev-board")) {
                continue; // TFLite-only hardware: needs the Coral TFLite library configured (docs/device-profiles.md)
            }
            assertThat(shipped.runtimes()).as(p.id()).isNotEmpty();
        }
    }
}
