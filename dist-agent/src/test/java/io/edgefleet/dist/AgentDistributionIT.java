package io.edgefleet.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.Distribution;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent tarball as a user gets it: unpacked with tar, run through bin/edgefleet-agent with
 * the JDK running the test, serving real ONNX and TFLite models over real HTTP, stopped with
 * SIGTERM.
 */
class AgentDistributionIT {
    private static final Duration START = Duration.ofSeconds(90);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    static Path dir;
    static Distribution dist;

    @BeforeAll
    static void unpack() throws Exception {
        dist = Distribution.unpack(Distribution.tarball(), dir.resolve("install"));
    }

    @Test
    void the_tarball_holds_launchers_configuration_and_only_what_the_agent_runs() throws IOException {
        Path home = dist.home();
        assertThat(home.getFileName().toString()).matches("edgefleet-agent-\\d+\\.\\d+\\.\\d+.*");
        for (String launcher : List.of("edgefleet", "edgefleet-agent")) {
            assertThat(Files.getPosixFilePermissions(home.resolve("bin").resolve(launcher)))
                    .contains(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);
        }
        assertThat(home.resolve("conf/agent.yaml")).content().contains("agent:").contains("#  watchdog:");
        assertThat(home.resolve("conf/jvm.options")).exists();
        assertThat(home.resolve("LICENSE")).exists();
        List<String> jars;
        try (Stream<Path> lib = Files.list(home.resolve("lib"))) {
            jars = lib.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(jars).anyMatch(j -> j.startsWith("cli-")).anyMatch(j -> j.startsWith("edge-agent-"))
                .anyMatch(j -> j.startsWith("onnxruntime-")).anyMatch(j -> j.startsWith("tflite-"));
        assertThat(jars).as("no control plane, Kafka, embedded broker, RocksDB, simulator or test kit")
                .noneMatch(j -> j.matches("(?i).*(kafka|hivemq|rocksdb|simulator|cloud-control-plane|testkit|logback|testcontainers|junit).*"));
        // signed jars would be verified at every start and never archived by CDS (dist-agent/pom.xml)
        List<String> unsigned = jars.stream().filter(j -> j.matches("(californium-core|californium-legal|element-connector|scandium|"
                + "org\\.eclipse\\.paho\\.mqttv5\\.client)-.*\\.jar")).toList();
        assertThat(unsigned).hasSize(5);
        for (String jar : unsigned) {
            try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(home.resolve("lib").resolve(jar).toFile())) {
                assertThat(z.stream().map(java.util.zip.ZipEntry::getName)).as(jar)
                        .noneMatch(n -> n.matches("META-INF/[^/]+\\.(SF|RSA|DSA|EC)")).contains("META-INF/MANIFEST.MF");
            }
        }
    }

    @Test
    void the_agent_serves_onnx_and_tflite_models_and_stops_on_sigterm() throws Exception {
        Path work = Files.createDirectories(dir.resolve("serve"));
        Path models = Files.createDirectories(work.resolve("models"));
        Files.copy(SyntheticModels.sqrtOnnx(Files.createDirectories(work.resolve("gen1"))), models.resolve("sqrt.onnx"));
        Files.copy(SyntheticModels.classifierTflite(Files.createDirectories(work.resolve("gen2"))), models.resolve("cls.tflite"));
        try (Distribution.Run agent = dist.start(work, Map.of(), "edgefleet-agent", "--models-dir", "models", "--http-port", "0",
                "--coap-port", "-1", "--data-dir", "data")) {
            String base = agent.await("ready: (http://127\\.0\\.0\\.1:\\d+/v2)", START);
            // the launcher execs: the process it started is the JVM itself (what systemd and containers supervise)
            assertThat(agent.process().info().command()).hasValueSatisfying(c -> assertThat(c).endsWith("/bin/java"));
            HttpResponse<String> r = post(base + "/models/sqrt/infer",
                    "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[4,9,16,25]}]}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).contains("[2.0,3.0,4.0,5.0]");
            HttpResponse<String> t = post(base + "/models/cls/infer",
                    "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,0,0,0]}]}");
            assertThat(t.statusCode()).as(t.body()).isEqualTo(200);
            assertThat(t.body()).contains("\"model_name\":\"cls\"");
            assertThat(agent.output()).as("conf/jvm.options gives the JVM nothing to warn about").doesNotContain("warning][gc");
            assertThat(agent.output()).as("one line per record, from conf/logging.properties")
                    .containsPattern("(?m)^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z INFO  [A-Z]\\w*: ");
            // the JVM ends on SIGTERM with 128 + 15 once its shutdown hooks (the drain) ran; systemd units say SuccessExitStatus=143
            assertThat(agent.terminate(Duration.ofSeconds(60))).as(agent.output()).isIn(0, 143);
        }
        assertThat(work.resolve("data/agent.db")).exists();
    }

    /**
     * JDK 25+: the first start trains the AOT cache (written when the JVM exits), the next one checks it once and uses
     * it; a cache the JVM cannot map (here a file cut short, as a power loss while it was written leaves it) costs only
     * speed: the launcher says so in one line and the agent starts on an AppCDS archive instead.
     */
    @Test
    @org.junit.jupiter.api.Tag("slow") // three starts, one of them training: 115 s on the loaded 2-core build machine
    void the_aot_cache_is_trained_then_used_and_an_unusable_one_falls_back_to_appcds() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Runtime.version().feature() >= 25, "the AOT cache is a JDK 25+ line of jvm.options");
        Path work = Files.createDirectories(dir.resolve("aot"));
        Path models = Files.createDirectories(work.resolve("models"));
        Files.copy(SyntheticModels.classifierTflite(Files.createDirectories(work.resolve("gen"))), models.resolve("cls.tflite"));
        Path cache = work.resolve("cache");
        Path aot = cache.resolve("agent.aot");
        Path state = cache.resolve("agent.aot.state");
        Map<String, String> env = Map.of("EDGEFLEET_CACHE_DIR", cache.toString());
        String[] args = {"--models-dir", "models", "--http-port", "0", "--coap-port", "-1", "--data-dir", "data"};
        try (Distribution.Run agent = dist.start(work, env, "edgefleet-agent", args)) {
            agent.await("ready: (http://127\\.0\\.0\\.1:\\d+/v2)", START);
            assertThat(Files.readString(state)).as("the first start trains").endsWith(" trained\n");
            assertThat(agent.terminate(Duration.ofSeconds(120))).as(agent.output()).isIn(0, 143);
        }
        assertThat(aot).as("written when the training JVM exited").isNotEmptyFile();
        try (Distribution.Run agent = dist.start(work, env, "edgefleet-agent", args)) {
            String base = agent.await("ready: (http://127\\.0\\.0\\.1:\\d+/v2)", START);
            assertThat(Files.readString(state)).as(agent.output()).endsWith(" ok\n");
            assertThat(agent.process().info().arguments()).hasValueSatisfying(a -> assertThat(a).contains("-XX:AOTCache=" + aot));
            assertThat(post(base + "/models/cls/infer", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,0,0,0]}]}")
                    .statusCode()).isEqualTo(200);
            assertThat(agent.output()).doesNotContain("AOT cache").doesNotContain("[error]");
            assertThat(agent.terminate(Duration.ofSeconds(60))).as(agent.output()).isIn(0, 143);
        }
        // cut short after it was checked: the JVM itself would refuse to start on it ("Unable to use AOT cache")
        byte[] bytes = Files.readAllBytes(aot);
        Files.write(aot, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        String key = Files.readString(state).strip().split(" ")[0];
        Files.writeString(state, key + " trained\n");
        Files.setLastModifiedTime(state, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        try (Distribution.Run agent = dist.start(work, env, "edgefleet-agent", args)) {
            String base = agent.await("ready: (http://127\\.0\\.0\\.1:\\d+/v2)", START);
            assertThat(agent.output()).contains("edgefleet: this JVM cannot use the AOT cache " + aot
                    + " with these options: using an AppCDS archive instead (a slower start)");
            assertThat(Files.readString(state)).endsWith(" unusable\n");
            assertThat(agent.process().info().arguments()).hasValueSatisfying(a -> assertThat(a)
                    .contains("-XX:SharedArchiveFile=" + cache.resolve("agent.jsa")).noneMatch(o -> o.startsWith("-XX:AOTCache")));
            assertThat(post(base + "/models/cls/infer", "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,0,0,0]}]}")
                    .statusCode()).isEqualTo(200);
            assertThat(agent.terminate(Duration.ofSeconds(60))).as(agent.output()).isIn(0, 143);
        }
        assertThat(cache.resolve("agent.jsa")).as("the AppCDS archive, written at exit").isNotEmptyFile();
    }

    @Test
    void control_plane_commands_name_the_distribution_that_has_them() throws Exception {
        Path work = Files.createDirectories(dir.resolve("cli"));
        try (Distribution.Run help = dist.start(work, Map.of(), "edgefleet", "--help")) {
            assertThat(help.exitCode(START)).isZero();
            assertThat(help.output()).contains("agent").contains("model").doesNotContain("rollout").doesNotContain("demo");
        }
        for (String[] args : List.of(new String[] {"rollout", "list"}, new String[] {"model", "push", "m", "1", "f.onnx"},
                new String[] {"cloud"})) {
            try (Distribution.Run cmd = dist.start(work, Map.of(), "edgefleet", args)) {
                assertThat(cmd.exitCode(START)).isEqualTo(2);
                assertThat(cmd.output()).contains("needs the control plane (edgefleet-cloud distribution), which this installation does not include");
            }
        }
        for (String[] args : List.of(new String[] {"demo"}, new String[] {"agent", "bench"})) {
            try (Distribution.Run cmd = dist.start(work, Map.of(), "edgefleet", args)) {
                assertThat(cmd.exitCode(START)).isEqualTo(2);
                assertThat(cmd.output()).contains("needs the simulator (./edgefleet in the source repository)");
            }
        }
    }

    @Test
    void a_missing_or_too_old_java_gets_one_clear_line() throws Exception {
        Path work = Files.createDirectories(dir.resolve("jdk"));
        Path old = Files.createDirectories(work.resolve("jdk-17/bin"));
        Files.writeString(work.resolve("jdk-17/release"), "JAVA_VERSION=\"17.0.13\"\n");
        Path java = Files.writeString(old.resolve("java"), "#!/bin/sh\necho 'this JVM must not run' >&2\nexit 99\n");
        java.toFile().setExecutable(true);
        try (Distribution.Run run = dist.start(work, Map.of("JAVA_HOME", work.resolve("jdk-17").toString()), "edgefleet-agent")) {
            assertThat(run.exitCode(START)).isEqualTo(1);
            assertThat(run.output().strip()).isEqualTo("edgefleet: needs Java 21 or newer; JAVA_HOME=" + work.resolve("jdk-17")
                    + " is Java 17: install a newer one and point JAVA_HOME at it");
        }
        Map<String, String> none = new HashMap<>();
        none.put("JAVA_HOME", work.resolve("nowhere").toString());
        try (Distribution.Run run = dist.start(work, none, "edgefleet", "--help")) {
            assertThat(run.exitCode(START)).isEqualTo(1);
            assertThat(run.output()).startsWith("edgefleet: JAVA_HOME=" + work.resolve("nowhere") + " has no bin/java");
        }
    }

    private static HttpResponse<String> post(String url, String json) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
