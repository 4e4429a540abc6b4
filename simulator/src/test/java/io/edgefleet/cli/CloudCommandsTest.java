package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cli.ProfilesCommandTest.Run;
import io.edgefleet.cloud.CloudConfig;
import io.edgefleet.cloud.ControlPlane;
import io.edgefleet.cloud.api.Token;
import io.edgefleet.engines.synth.SyntheticModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control-plane commands against a real control plane: push, devices, telemetry, rollouts, and their errors. */
class CloudCommandsTest {
    static final String TOKEN = "cli-operator-token-0123456789";
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static String server;
    static String ca;

    @BeforeAll
    static void start() {
        cp = ControlPlane.start(CloudConfig.defaults(dir.resolve("cloud")).withHttp("127.0.0.1", 0)
                .withTokens(List.of(new Token("cli", Token.Role.OPERATOR, TOKEN))).withRolloutTick(Duration.ofMillis(100)));
        server = cp.baseUri().toString(); // https: the embedded default
        ca = dir.resolve("cloud/pki/ca.pem").toString();
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    private static Run cli(String... args) {
        String[] all = new String[args.length + 6];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--server";
        all[args.length + 1] = server;
        all[args.length + 2] = "--token";
        all[args.length + 3] = TOKEN;
        all[args.length + 4] = "--ca";
        all[args.length + 5] = ca;
        return ProfilesCommandTest.run(all);
    }

    @Test
    void cloud_help_says_the_default_is_https_as_it_is() {
        Run help = ProfilesCommandTest.run("cloud", "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out().replaceAll("\\s+", " ")).contains("HTTPS on 127.0.0.1:8080").doesNotContain("HTTP on 127.0.0.1");
    }

    @Test
    void push_registers_a_version_and_a_refusal_exits_1_with_the_reason() throws Exception {
        Path model = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("m")));
        Run ok = cli("model", "push", model.toString(), "--name", "cls", "--version", "1", "--profile", "raspberry-pi-4-4gb",
                "--label", "a", "--label", "b", "--label", "c");
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("registered cls/1: 1 variant(s)").contains("tflite-fp32");
        Path junk = Files.writeString(dir.resolve("junk.onnx"), "junk");
        Run refused = cli("model", "push", junk.toString(), "--name", "junk", "--version", "1");
        assertThat(refused.code()).isEqualTo(Main.FAILED);
        assertThat(refused.err()).contains("error 422").contains("junk.onnx");
        Run again = cli("model", "push", model.toString(), "--name", "cls", "--version", "1");
        assertThat(again.code()).isEqualTo(Main.FAILED);
        assertThat(again.err()).contains("error 409").contains("immutable");
    }

    @Test
    void a_changed_input_signature_is_refused_with_the_difference_unless_allow_signature_change_is_given() throws Exception {
        Path fp32 = SyntheticModels.identityOnnx(Files.createDirectories(dir.resolve("id32")), io.edgefleet.protocols.oip.DataType.FP32);
        Path int8 = SyntheticModels.identityOnnx(Files.createDirectories(dir.resolve("id8")), io.edgefleet.protocols.oip.DataType.INT8);
        assertThat(cli("model", "push", fp32.toString(), "--name", "ident", "--version", "1").code()).isZero();
        Run refused = cli("model", "push", int8.toString(), "--name", "ident", "--version", "2");
        assertThat(refused.code()).isEqualTo(Main.FAILED);
        assertThat(refused.err()).contains("error 409", "  input 'x': datatype FP32 -> INT8", "  output 'y': datatype FP32 -> INT8");
        Run allowed = cli("model", "push", int8.toString(), "--name", "ident", "--version", "2", "--allow-signature-change");
        assertThat(allowed.code()).as(allowed.err()).isZero();
        assertThat(allowed.out()).contains("registered ident/2");
    }

    @Test
    void devices_and_telemetry_print_tables_and_bad_input_is_a_clear_error() throws Exception {
        cli("model", "push", "--help");
        Run devices = cli("devices", "list", "--selector", "fleet=nowhere");
        assertThat(devices.code()).isZero();
        assertThat(devices.out()).contains("FLEET").contains("0 device(s)");
        Run bad = cli("devices", "list", "--selector", "colour=red");
        assertThat(bad.code()).isEqualTo(Main.FAILED);
        assertThat(bad.err()).contains("error 400").contains("colour");
        Run t = cli("telemetry", "--model", "cls", "--version", "1");
        assertThat(t.code()).isZero();
        assertThat(t.out()).contains("REQUESTS").contains("CLIENT ERRORS").contains("total");
        Run noToken = ProfilesCommandTest.run("devices", "list", "--server", server, "--ca", ca);
        assertThat(noToken.code()).isEqualTo(Main.FAILED);
        assertThat(noToken.err()).contains("error 401");
        // without the CA the https server is not trusted: the CLI fails with the reason, not a stack trace
        Run untrusted = ProfilesCommandTest.run("devices", "list", "--server", server, "--token", TOKEN, "--ca",
                Files.writeString(dir.resolve("other-ca.pem"), io.edgefleet.transport.pki.Pem.write(io.edgefleet.transport.pki.CertificateAuthority
                        .create("other", Duration.ofDays(1)).certificate())).toString());
        assertThat(untrusted.code()).isNotZero();
        assertThat(untrusted.err()).contains("cannot reach the control plane", "TLS handshake failed", "trust the CA").doesNotContain("\tat ");
    }

    @Test
    void a_rollout_from_the_example_yaml_is_created_and_its_status_shows_the_waves() throws Exception {
        Path model = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("k")));
        assertThat(cli("model", "push", model.toString(), "--name", "kws", "--version", "2").code()).isZero();
        Path example = Path.of("..", "docs", "examples", "rollout.yaml");
        Run nobody = cli("rollout", "create", example.toString());
        assertThat(nobody.code()).isEqualTo(Main.FAILED);
        assertThat(nobody.err()).contains("error 400").contains("selector 'fleet=plant-7,tag=line-3' matches no device");
        cp.fleet().register("plant-7", "press-1", List.of("line-3"), java.util.Optional.empty(), "test");
        Run created = cli("rollout", "create", example.toString());
        assertThat(created.code()).as(created.err()).isZero();
        assertThat(created.out()).contains("created rollout ro-").contains("kws/2, 4 wave(s)");
        String id = created.out().replaceAll("(?s).*created rollout (ro-[0-9a-f]+).*", "$1");
        Run status = cli("rollout", "status", id);
        long deadline = System.nanoTime() + java.time.Duration.ofSeconds(20).toNanos();
        while (!status.out().contains("install:") && System.nanoTime() < deadline) {
            Thread.sleep(100); // the first engine tick adds the device to wave 1
            status = cli("rollout", "status", id);
        }
        assertThat(status.out()).contains("rollout " + id).contains("kws@2")
                .contains("waiting for:").contains("install: 1 device(s) of wave 1 not yet activated")
                .contains("gates in force: minDevices=3 maxInstallFailures=2").contains("minSamples=30");
        // waves numbered from 1, as the API gives them: the header, the first wave's bar, the list's WAVE column
        assertThat(status.out()).contains("  running  wave 1/4").contains("\n  wave 1 [").doesNotContain("wave 0");
        Run list = cli("rollout", "list");
        assertThat(list.out()).contains(id).containsPattern(id + "\\s+\\S+\\s+running\\s+1\\s");
        Run second = cli("rollout", "create", example.toString());
        assertThat(second.code()).isEqualTo(Main.FAILED);
        assertThat(second.err()).contains("error 409");
        Run abort = cli("rollout", "op", "abort", id, "--reason", "test over");
        assertThat(abort.code()).as(abort.err()).isZero();
        assertThat(abort.out()).contains("aborted");
        assertThat(cli("rollout", "status", id).out()).containsPattern(" wave 1 aborted by ").doesNotContain("wave 0");
        Run missing = cli("rollout", "create", dir.resolve("none.yaml").toString());
        assertThat(missing.code()).isEqualTo(Main.FAILED);
        assertThat(missing.err()).as("says what is wrong with the path, not the path alone").contains("no such file: ")
                .contains("none.yaml");
        Path broken = java.nio.file.Files.writeString(dir.resolve("broken.yaml"), "model: kws\nwaves: [ {percent: 50\n");
        Run malformed = cli("rollout", "create", broken.toString());
        assertThat(malformed.code()).isEqualTo(Main.FAILED);
        assertThat(malformed.err()).contains("the rollout spec " + broken + " is not valid YAML or JSON (line ").doesNotContain("Exception");
    }

    @Test
    void tags_are_added_listed_and_removed_and_selectors_see_them() {
        assertThat(cli("devices", "tags", "add", "plant-9/cam-1", "line-3").code()).as("unknown device").isEqualTo(Main.FAILED);
        cp.fleet().register("plant-9", "cam-1", List.of("north"), java.util.Optional.empty(), "test");
        Run add = cli("devices", "tags", "add", "plant-9/cam-1", "line-3", "night");
        assertThat(add.code()).as(add.err()).isZero();
        assertThat(add.out()).isEqualTo("plant-9/cam-1: north line-3 night\n");
        assertThat(cli("devices", "list", "--selector", "tag=line-3").out()).contains("cam-1");
        Run remove = cli("devices", "tags", "remove", "plant-9/cam-1", "north", "absent");
        assertThat(remove.out()).isEqualTo("plant-9/cam-1: line-3 night\n");
        Run list = cli("devices", "tags", "list", "plant-9/cam-1", "--json");
        assertThat(list.code()).isZero();
        assertThat(list.out()).contains("\"tags\":[\"line-3\",\"night\"]");
        Run bad = cli("devices", "tags", "list", "no-slash");
        assertThat(bad.code()).isEqualTo(Main.USAGE);
        assertThat(bad.err()).contains("FLEET/DEVICE");
    }

    @Test
    void deprecate_records_who_and_why_and_events_list_it() throws Exception {
        Path model = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("dep")));
        assertThat(cli("model", "push", model.toString(), "--name", "old", "--version", "1").code()).isZero();
        Run dep = cli("model", "deprecate", "old", "1", "--reason", "accuracy drift");
        assertThat(dep.code()).as(dep.err()).isZero();
        assertThat(dep.out()).startsWith("old/1 deprecated by cli at ").endsWith(": accuracy drift\n");
        Run unknown = cli("model", "deprecate", "old", "9", "--reason", "x");
        assertThat(unknown.code()).isEqualTo(Main.FAILED);
        assertThat(unknown.err()).contains("error 404").doesNotContain("null");
        Run events = cli("events", "--subject", "old/1");
        assertThat(events.code()).as(events.err()).isZero();
        assertThat(events.out()).contains("model.registered", "old/1").containsPattern("event\\(s\\)");
        Run json = cli("events", "--limit", "1", "--json");
        assertThat(ProfilesCommandTest.class).isNotNull();
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out()).size()).isEqualTo(1);
    }

    @Test
    void model_list_shows_the_registry_and_a_models_versions_with_status_and_variants() throws Exception {
        Path model = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("lst")));
        assertThat(cli("model", "push", model.toString(), "--name", "listed", "--version", "1").code()).isZero();
        assertThat(cli("model", "push", model.toString(), "--name", "listed", "--version", "2").code()).isZero();
        assertThat(cli("model", "deprecate", "listed", "1", "--reason", "superseded").code()).isZero();
        Run all = cli("model", "list");
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.out()).containsPattern("MODEL\\s+TASK\\s+VERSIONS\\s+LATEST").containsPattern("listed\\s+\\S+\\s+2\\s+2\\s")
                .doesNotContain("null");
        Run versions = cli("model", "list", "listed");
        assertThat(versions.code()).as(versions.err()).isZero();
        assertThat(versions.out()).containsPattern("(?m)^2\\s+active\\s+tflite-fp32 ").containsPattern("(?m)^1\\s+deprecated\\s+tflite-fp32 ")
                .contains("tflite-fp32 " + ProgressBar.human(Files.size(model))).doesNotContain("null").doesNotContain("Optional");
        assertThat(versions.out().indexOf("\n2 ")).isLessThan(versions.out().indexOf("\n1 ")); // newest first
        Run unknown = cli("model", "list", "nope");
        assertThat(unknown.code()).isEqualTo(Main.FAILED);
        assertThat(unknown.err()).contains("404").contains("no model named nope");
        Run json = cli("model", "list", "--json");
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out()).findValuesAsText("name")).contains("listed");
    }

    @Test
    void an_unreachable_control_plane_is_one_line_without_null_or_class_names() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Run r = ProfilesCommandTest.run("events", "--server", "http://127.0.0.1:" + closed, "--token", TOKEN);
        assertThat(r.code()).isEqualTo(Main.FAILED);
        assertThat(r.err()).startsWith("edgefleet: cannot reach the control plane at http://127.0.0.1:" + closed + ": connection refused")
                .doesNotContain("null").doesNotContain("Exception");
        assertThat(r.err().lines().count()).isEqualTo(1);
    }
}
