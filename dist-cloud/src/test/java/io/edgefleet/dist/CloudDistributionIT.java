package io.edgefleet.dist;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.testkit.Distribution;
import io.edgefleet.transport.pki.Pem;
import io.edgefleet.transport.pki.TlsContexts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control-plane tarball as a user gets it: unpacked with tar, run through bin/edgefleet-cloud
 * on its embedded defaults (HTTPS with its own CA, SQLite in the working directory), asked over
 * real HTTPS, stopped with SIGTERM.
 */
class CloudDistributionIT {
    private static final Duration START = Duration.ofSeconds(120);

    @TempDir
    static Path dir;
    static Distribution dist;

    @BeforeAll
    static void unpack() throws Exception {
        dist = Distribution.unpack(Distribution.tarball(), dir.resolve("install"));
    }

    @Test
    void the_tarball_holds_launchers_configuration_and_only_what_the_control_plane_runs() throws Exception {
        Path home = dist.home();
        assertThat(home.getFileName().toString()).matches("edgefleet-cloud-\\d+\\.\\d+\\.\\d+.*");
        assertThat(home.resolve("bin/edgefleet")).isExecutable();
        assertThat(home.resolve("bin/edgefleet-cloud")).isExecutable();
        assertThat(home.resolve("conf/cloud.yaml")).content().contains("cloud:").contains("#  kafka:");
        assertThat(home.resolve("conf/jvm.options")).exists();
        List<String> jars;
        try (Stream<Path> lib = Files.list(home.resolve("lib"))) {
            jars = lib.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(jars).anyMatch(j -> j.startsWith("cli-")).anyMatch(j -> j.startsWith("cloud-control-plane-"))
                .anyMatch(j -> j.startsWith("kafka-clients-"));
        assertThat(jars).as("no agent, embedded broker, Kafka broker, simulator or test kit")
                .noneMatch(j -> j.matches("(?i).*(edge-agent|hivemq|rocksdb|simulator|testkit|kafka_2|kafka-server|logback|testcontainers|junit).*"));
    }

    /** A --config of the caller's wins over conf/cloud.yaml (the launcher passed its own too: picocli refused the option twice). */
    @Test
    void a_config_argument_wins_over_the_installed_one() throws Exception {
        Path work = Files.createDirectories(dir.resolve("own-config"));
        try (Distribution.Run cloud = dist.start(work, Map.of(), "edgefleet-cloud", "--config", "missing.yaml")) {
            assertThat(cloud.exitCode(java.time.Duration.ofSeconds(120))).isNotZero();
            assertThat(cloud.output()).contains("missing.yaml").doesNotContain("should be specified only once");
        }
    }

    @Test
    void the_control_plane_starts_on_embedded_defaults_answers_over_https_and_stops_on_sigterm() throws Exception {
        Path work = Files.createDirectories(dir.resolve("serve"));
        try (Distribution.Run cloud = dist.start(work, Map.of(), "edgefleet-cloud", "--http-port", "0")) {
            String port = cloud.await("control plane on https://127\\.0\\.0\\.1:(\\d+)/api/v1", START);
            assertThat(cloud.process().info().command()).hasValueSatisfying(c -> assertThat(c).endsWith("/bin/java"));
            Path ca = work.resolve("cloud-data/pki/ca.pem");
            HttpClient https = HttpClient.newBuilder().sslContext(TlsContexts.trusting(Pem.certificates(Pem.read(ca)))).build();
            HttpResponse<String> health = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/observe/health"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).as(health.body()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"UP\"");
            String token = Files.readString(work.resolve("cloud-data/tokens/viewer.token")).strip();
            HttpResponse<String> devices = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/api/v1/devices"))
                    .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(devices.statusCode()).as(devices.body()).isEqualTo(200);
            // The web console from the packaged jars (its own files and the uPlot webjar), as a browser would ask.
            for (String[] file : new String[][] {{"/ui/", "text/html", "EdgeFleet console"}, {"/ui/js/app.js", "text/javascript", "signIn"},
                    {"/ui/lib/uplot/uPlot.esm.js", "text/javascript", "uPlot"}}) {
                HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + file[0]))
                        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(file[0]).isEqualTo(200);
                assertThat(r.headers().firstValue("Content-Type")).as(file[0]).hasValueSatisfying(t -> assertThat(t).startsWith(file[1]));
                assertThat(r.body()).as(file[0]).contains(file[2]);
            }
            try (Distribution.Run agent = dist.start(work, Map.of(), "edgefleet", "agent")) {
                assertThat(agent.exitCode(START)).isEqualTo(2);
                assertThat(agent.output()).contains("'agent' needs the edge agent (edgefleet-agent distribution)");
            }
            // the JVM ends on SIGTERM with 128 + 15 once its shutdown hooks (the drain) ran; systemd units say SuccessExitStatus=143
            assertThat(cloud.terminate(Duration.ofSeconds(60))).as(cloud.output()).isIn(0, 143);
        }
    }
}
