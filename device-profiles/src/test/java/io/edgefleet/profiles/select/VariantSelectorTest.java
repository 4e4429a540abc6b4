package io.edgefleet.profiles.select;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.profiles.RuntimeSupport;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.Precision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VariantSelectorTest {
    /** The sample file the README points at; tests run in the module folder. */
    static final Path SAMPLE = Path.of("..", "docs", "examples", "kws-variants.yaml");
    private static final DeviceCatalog CATALOG = DeviceCatalog.builtIn();

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "raspberry-pi-4-4gb,   tflite-int8",
        "raspberry-pi-5-8gb,   tflite-int8",
        "jetson-orin-nano-8gb, onnx-fp16-cuda",
        "coral-dev-board,      edgetpu-int8",
        "intel-nuc-13-pro-i5,  tflite-int8",
        "arm64-gateway-1gb,    tflite-int8",
        "orange-pi-5-rk3588,   rknn-int8",
        "x86-gpu-server-l4,    onnx-fp16-cuda",
    })
    void chooses_the_expected_variant_for_every_catalog_profile(String profile, String expected) {
        Selection s = VariantSelector.select(CATALOG.get(profile), VariantsFile.load(SAMPLE));
        assertThat(s.chosen()).map(Variant::id).contains(expected);
        assertThat(s.verdicts()).hasSize(6);
        assertThat(s.verdicts().get(0).variant().id()).isEqualTo(expected);
        assertThat(s.explain()).startsWith(profile + ": chose " + expected).contains("  * " + expected);
    }

    @Test
    void explains_each_refusal_with_the_rule_it_broke() {
        Selection coral = VariantSelector.select(CATALOG.get("coral-dev-board"), VariantsFile.load(SAMPLE));
        assertThat(reasons(coral, "tflite-int8")).containsExactly("needs tflite >= 2.6, the device has 2.5");
        assertThat(reasons(coral, "onnx-fp32")).containsExactly("runtime onnxruntime is not on the device (it has tflite 2.5)");
        assertThat(reasons(coral, "edgetpu-int8")).containsExactly("uses the device's edge-tpu",
                "int8 is the device's fastest precision", "24.0 KiB");
        Selection pi4 = VariantSelector.select(CATALOG.get("raspberry-pi-4-4gb"), VariantsFile.load(SAMPLE));
        assertThat(reasons(pi4, "edgetpu-int8")).containsExactly("built for coral-dev-board, not raspberry-pi-4-4gb",
                "needs accelerator edge-tpu, the device has none");
        assertThat(reasons(pi4, "onnx-fp16-cuda")).containsExactly(
                "precision fp16 is not supported (the device runs int8, fp32)",
                "needs accelerator cuda-gpu, the device has none");
        assertThat(reasons(pi4, "tflite-fp32")).contains("fp32 is the device's precision #2 by speed");
    }

    @Test
    void says_why_nothing_fits() {
        Variant huge = new Variant("llm-fp16", "onnxruntime", Optional.empty(), Precision.FP16, Optional.empty(),
                8L << 30, List.of());
        // the Coral board: TFLite only (the arm64 gateway also lists ONNX Runtime since the agent ships it for arm64)
        Selection s = VariantSelector.select(CATALOG.get("coral-dev-board"), List.of(huge));
        assertThat(s.chosen()).isEmpty();
        assertThat(s.explain()).isEqualTo("""
                coral-dev-board: no variant fits
                  - llm-fp16 (onnxruntime, fp16, 8.0 GiB) refused: runtime onnxruntime is not on the device \
                (it has tflite 2.5); precision fp16 is not supported (the device runs int8, fp32); \
                8.0 GiB is over the device's limit of 256 MiB
                """);
    }

    @Test
    void ties_break_by_size_then_id_so_the_choice_is_deterministic() {
        DeviceProfile pi5 = CATALOG.get("raspberry-pi-5-8gb");
        Variant b = new Variant("b", "tflite", Optional.empty(), Precision.INT8, Optional.empty(), 100, List.of());
        Variant a = new Variant("a", "tflite", Optional.empty(), Precision.INT8, Optional.empty(), 100, List.of());
        Variant small = new Variant("z-small", "tflite", Optional.empty(), Precision.INT8, Optional.empty(), 99, List.of());
        Variant fp16 = new Variant("fp16", "tflite", Optional.empty(), Precision.FP16, Optional.empty(), 1, List.of());
        assertThat(VariantSelector.select(pi5, List.of(b, a, fp16)).chosen()).contains(a);
        assertThat(VariantSelector.select(pi5, List.of(b, a, small, fp16)).chosen()).contains(small);
        assertThat(VariantSelector.select(pi5, List.of(fp16)).chosen()).contains(fp16);
    }

    @Test
    void runtime_versions_compare_numerically() {
        assertThat(new RuntimeSupport("tflite", "2.10").atLeast("2.6")).isTrue();
        assertThat(new RuntimeSupport("tflite", "2.6").atLeast("2.6.0")).isTrue();
        assertThat(new RuntimeSupport("tflite", "2.5.9").atLeast("2.6")).isFalse();
    }

    @Test
    void a_bad_variants_file_names_the_file_and_the_field(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("v.yaml");
        Files.writeString(f, "variants:\n  - {id: a, runtime: tflite, precision: int3, sizeBytes: 10}\n");
        assertThatThrownBy(() -> VariantsFile.load(f)).isInstanceOf(ProtocolException.class)
                .hasMessage(f + ":$.variants[0].precision: 'int3' is not one of int8, uint8, fp16, bf16, fp32");
        Files.writeString(f, "model: x\n");
        assertThatThrownBy(() -> VariantsFile.load(f)).isInstanceOf(ProtocolException.class)
                .hasMessage(f + ":$.variants: is required: a list of variants");
        Files.writeString(f, "variants:\n  - {id: a, runtime: tflite, precision: int8, sizeBytes: 0}\n");
        assertThatThrownBy(() -> VariantsFile.load(f)).isInstanceOf(ProtocolException.class)
                .hasMessage(f + ":$.variants[0].sizeBytes: must be >= 1, got 0");
    }

    private static List<String> reasons(Selection s, String id) {
        return s.verdicts().stream().filter(v -> v.variant().id().equals(id)).findFirst().orElseThrow().reasons();
    }

    @Test
    void a_pi_whose_tflite_cannot_load_gets_the_onnx_variant_and_the_refusal_quotes_the_reason() {
        io.edgefleet.profiles.probe.HostReport pi = io.edgefleet.profiles.probe.HostProbe.create().withInputs(
                new io.edgefleet.profiles.probe.ProbeInputs(io.edgefleet.profiles.probe.Platform.linux("aarch64"), java.util.Map.of())).probe();
        java.util.Map<String, String> notLoadable = new java.util.HashMap<>();
        pi.runtimes().stream().filter(r -> !r.loaded()).forEach(r -> notLoadable.put(r.runtime(), r.detail()));
        assertThat(notLoadable).containsOnlyKeys("tflite");

        Selection s = VariantSelector.select(CATALOG.get("raspberry-pi-4-4gb"), VariantsFile.load(SAMPLE), notLoadable);
        assertThat(s.chosen()).map(Variant::id).contains("onnx-fp32");
        assertThat(reasons(s, "tflite-int8")).singleElement().asString()
                .startsWith("tflite not loadable on the device (no TensorFlow Lite JNI library is bundled for linux/aarch64");

        List<Variant> tfliteOnly = VariantsFile.load(SAMPLE).stream().filter(v -> v.runtime().equals("tflite")).toList();
        Selection none = VariantSelector.select(CATALOG.get("raspberry-pi-4-4gb"), tfliteOnly, notLoadable);
        assertThat(none.chosen()).isEmpty();
        assertThat(none.refusal("kws", "pi-7")).startsWith("no variant of model kws runs on pi-7 (profile raspberry-pi-4-4gb): tflite-int8: "
                + "tflite not loadable on the device (no TensorFlow Lite JNI library is bundled for linux/aarch64");
        // the same device class out of the box (nothing reported yet) is refused the same variants
        assertThat(VariantSelector.select(DeviceCatalog.outOfTheBox(CATALOG.get("raspberry-pi-4-4gb")), tfliteOnly).chosen()).isEmpty();
    }
}
