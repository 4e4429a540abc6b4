package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The {@code edgefleet profiles} commands as a user runs them: output, and exit codes 0/1/2. */
class ProfilesCommandTest {
    static final String VARIANTS = Path.of("..", "docs", "examples", "kws-variants.yaml").toString();

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void list_prints_every_catalog_profile() {
        Run r = run("profiles", "list");
        assertThat(r.code()).isZero();
        assertThat(r.out().lines().findFirst()).hasValueSatisfying(h -> assertThat(h).startsWith("ID").contains("PRECISIONS"));
        assertThat(r.out()).contains("raspberry-pi-4-4gb", "jetson-orin-nano-8gb", "coral-dev-board", "x86-gpu-server-l4");
        assertThat(r.out().lines().count()).isEqualTo(1 + 8);
    }

    @Test
    void show_prints_a_profile_as_yaml_or_json() {
        Run yaml = run("profiles", "show", "coral-dev-board");
        assertThat(yaml.code()).isZero();
        assertThat(yaml.out()).startsWith("id: coral-dev-board\n").contains("accelerators:\n- edge-tpu");
        Run json = run("profiles", "show", "coral-dev-board", "--json");
        assertThat(json.out()).contains("\"id\" : \"coral-dev-board\"", "\"memoryMb\" : 1024");
    }

    @Test
    void probe_reports_this_host_and_the_runtimes_that_load() {
        Run r = run("profiles", "probe");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("runtime    onnxruntime", "runtime    tflite", "# as a device profile:", "cores: "
                + Runtime.getRuntime().availableProcessors());
    }

    @Test
    void probe_for_an_aarch64_device_says_tflite_is_not_loadable_and_why(@TempDir Path dir) throws IOException {
        Run r = run("profiles", "probe", "--os-arch", "aarch64");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("arch       arm64", "runtime    onnxruntime  1.23.2 loads (native library for linux/aarch64 bundled",
                "runtime    tflite       not loadable: no TensorFlow Lite JNI library is bundled for linux/aarch64");
        Path text = Files.writeString(dir.resolve("libtensorflowlite_jni.so"), "text\n");
        Run configured = run("profiles", "probe", "--os-arch", "aarch64", "--tflite-native-library", text.toString());
        assertThat(configured.out()).contains("runtime    tflite       not loadable: TensorFlow Lite JNI library " + text.toAbsolutePath()
                + " (configured) is not a shared library (no ELF header)");
    }

    @Test
    void select_explains_its_choice_for_every_catalog_profile() {
        for (String id : new String[] {"raspberry-pi-4-4gb", "raspberry-pi-5-8gb", "jetson-orin-nano-8gb", "coral-dev-board",
            "intel-nuc-13-pro-i5", "arm64-gateway-1gb", "orange-pi-5-rk3588", "x86-gpu-server-l4"}) {
            Run r = run("profiles", "select", "--profile", id, "--variants", VARIANTS);
            assertThat(r.code()).as(id).isZero();
            assertThat(r.out()).as(id).startsWith(id + ": chose ").contains(" chosen: ", " refused: ");
        }
    }

    @Test
    void select_exits_1_and_says_why_when_nothing_fits(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("big.yaml");
        Files.writeString(f, "variants:\n  - {id: big, runtime: onnxruntime, precision: fp32, sizeBytes: 99999999999}\n");
        Run r = run("profiles", "select", "--profile", "coral-dev-board", "--variants", f.toString());
        assertThat(r.code()).isEqualTo(Main.FAILED);
        assertThat(r.out()).startsWith("coral-dev-board: no variant fits").contains("runtime onnxruntime is not on the device");
    }

    @Test
    void bad_input_fails_with_exit_1_and_a_precise_message(@TempDir Path dir) throws IOException {
        Run unknown = run("profiles", "show", "toaster");
        assertThat(unknown.code()).isEqualTo(Main.FAILED);
        assertThat(unknown.err()).startsWith("edgefleet: unknown device profile 'toaster'; known profiles: ");
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "variants:\n  - {id: a, runtime: tflite, precision: int3, sizeBytes: 1}\n");
        Run bad = run("profiles", "select", "--profile", "raspberry-pi-4-4gb", "--variants", f.toString());
        assertThat(bad.code()).isEqualTo(Main.FAILED);
        assertThat(bad.err()).isEqualTo("edgefleet: " + f + ":$.variants[0].precision: 'int3' is not one of int8, uint8, "
                + "fp16, bf16, fp32" + System.lineSeparator());
        Run missing = run("profiles", "select", "--profile", "raspberry-pi-4-4gb", "--variants", dir.resolve("none.yaml").toString());
        assertThat(missing.code()).isEqualTo(Main.FAILED);
        assertThat(missing.err()).contains("cannot read variants file");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--nope", "profiles --nope", "profiles select --profile x", "profiles show"})
    void usage_errors_exit_2_with_the_usage(String line) {
        Run r = run(line.split(" "));
        assertThat(r.code()).isEqualTo(Main.USAGE);
        assertThat(r.err()).contains("Usage: edgefleet");
    }

    @Test
    void an_unknown_sub_command_exits_2_with_a_suggestion() {
        Run r = run("profile");
        assertThat(r.code()).isEqualTo(Main.USAGE);
        assertThat(r.err()).contains("Unmatched argument at index 0: 'profile'", "Did you mean: edgefleet profiles or ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--help", "profiles --help", "profiles list --help", "profiles show --help",
        "profiles probe --help", "profiles select --help"})
    void help_is_everywhere(String line) {
        Run r = run(line.split(" "));
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("Usage: edgefleet");
    }
}
