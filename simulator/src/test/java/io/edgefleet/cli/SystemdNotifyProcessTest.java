package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.NotifySocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent process under a service manager's notification socket, as systemd runs it with
 * {@code Type=notify}: a real AF_UNIX datagram socket is the manager, the real agent process
 * gets its path in {@code NOTIFY_SOCKET}, says {@code READY=1} only once its HTTP port answers,
 * and {@code STOPPING=1} when SIGTERM arrives.
 */
class SystemdNotifyProcessTest {
    private static final Pattern HTTP = Pattern.compile("STATUS=http://127\\.0\\.0\\.1:(\\d+)/v2");
    @TempDir
    Path dir;

    @Test
    void the_agent_reports_ready_once_serving_and_stopping_on_sigterm() throws Exception {
        assumeTrue(NotifySocket.supported(), "AF_UNIX datagram sockets through libc: Linux only");
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("synth"))), models.resolve("cls.onnx"));
        Path log = dir.resolve("agent.log");
        try (NotifySocket manager = NotifySocket.bind(dir)) {
            ProcessBuilder pb = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                    "agent", "--data-dir", dir.resolve("data").toString(), "--models-dir", models.toString(),
                    "--http-port", "0", "--coap-port", "-1"))
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("NOTIFY_SOCKET", manager.address());
            Process agent = pb.start();
            try {
                String ready = manager.awaitLine("READY=1", Duration.ofSeconds(90))
                        .orElseThrow(() -> new AssertionError("no READY=1 within 90 s; got " + manager.received() + "; log:\n" + read(log)));
                assertThat(ready).contains("serving", "cls");
                Matcher port = HTTP.matcher(ready);
                assertThat(port.find()).as(ready).isTrue();
                // ready means serving: the health endpoint answers the moment READY=1 has arrived, no polling
                HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port.group(1) + "/observe/health")).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(health.statusCode()).as(health.body()).isEqualTo(200);

                agent.destroy(); // SIGTERM, as systemctl stop sends
                assertThat(manager.awaitLine("STOPPING=1", Duration.ofSeconds(30)))
                        .as("STOPPING=1 after SIGTERM; got %s; log:%n%s", manager.received(), read(log)).isPresent();
                assertThat(agent.waitFor(30, TimeUnit.SECONDS)).as(read(log)).isTrue();
            } finally {
                agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (java.io.IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }
}
