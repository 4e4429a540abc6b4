package io.edgefleet.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load generator of {@code agent bench} as the bench runs it: a second JVM against a real HTTP server. */
class HttpLoadGeneratorTest {
    @TempDir
    Path dir;

    private record Run(int exit, String output) {
    }

    private Run run(int status, AtomicInteger seen, String... extra) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/v2/models/m/infer", ex -> {
            byte[] in = ex.getRequestBody().readAllBytes();
            if (new String(in, StandardCharsets.UTF_8).equals("{\"x\":1}") && "yes".equals(ex.getRequestHeaders().getFirst("X-Extra"))) {
                seen.incrementAndGet();
            }
            byte[] out = "{\"outputs\":[]}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        server.start();
        try {
            Path body = Files.writeString(dir.resolve("body.json"), "{\"x\":1}");
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    System.getProperty("java.class.path"), HttpLoadGenerator.class.getName(), "127.0.0.1",
                    Integer.toString(server.getAddress().getPort()), "/v2/models/m/infer", body.toString(), "application/json", "2", "5", "20",
                    "X-Extra: yes"));
            cmd.addAll(List.of(extra));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            return new Run(p.exitValue(), output);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void a_second_jvm_drives_the_server_and_reports_percentiles_and_rate() throws Exception {
        AtomicInteger seen = new AtomicInteger();
        Run r = run(200, seen);
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).containsPattern("p50_us=[0-9.]+ p99_us=[0-9.]+ calls_per_s=[0-9]+ ok=40 failed=0");
        assertThat(seen.get()).as("2 connections x (5 warm-up + 20 timed), each with the body and the extra header").isEqualTo(50);
    }

    @Test
    void answers_other_than_200_count_as_failed_and_the_exit_status_says_so() throws Exception {
        Run r = run(500, new AtomicInteger());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.output()).contains("ok=0 failed=40");
    }
}
