package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.http.limits.HttpLimits;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.coap.CoapResources;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's HTTP listener under connections that hold resources: idle ones, a half-sent
 * header, more connections than the cap, oversize chunked bodies, clients that leave mid-body,
 * and a listener that stops. Real sockets against a real agent on a free port.
 */
class AgentHttpLimitsTest {
    static final int CAP = 64;

    @TempDir
    Path dir;
    EdgeAgent agent;
    final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logged.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void start() throws IOException {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierOnnx(dir), models.resolve("cls.onnx"));
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(0)
                .withMaxPayloadBytes(64 * 1024)
                .withHttpLimits(new HttpLimits(Duration.ofMillis(1500), Duration.ofMillis(1500), Duration.ofMillis(1500), CAP, 32)));
        Logger.getLogger("").addHandler(capture);
    }

    @AfterEach
    void stop() {
        Logger.getLogger("").removeHandler(capture);
        if (agent != null) {
            agent.close();
        }
    }

    private Socket open() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", agent.httpPort()), 5000);
        s.setSoTimeout(100);
        return s;
    }

    /** Whether the server closed {@code s} (EOF or reset) before the deadline; false if it is still open then. */
    private static boolean closedBy(Socket s, long deadlineNanos) throws IOException {
        InputStream in = s.getInputStream();
        while (System.nanoTime() < deadlineNanos) {
            try {
                if (in.read() < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                // still open
            } catch (IOException e) {
                return true; // reset
            }
        }
        return false;
    }

    private String get(String path) throws IOException {
        try (Socket s = open()) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    private static long openSocketsOfThisProcess() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(f -> {
                try {
                    return Files.readSymbolicLink(f).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void idle_connections_are_closed_and_the_cap_bounds_accepted_ones_while_the_server_keeps_serving() throws Exception {
        long before = openSocketsOfThisProcess();
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 100; i++) {
                idle.add(open());
            }
            // Client and server ends of accepted connections are both sockets of this JVM: 100 client
            // ends, at most CAP server ends (the rest wait in the kernel's backlog, no descriptor of ours).
            long during = openSocketsOfThisProcess() - before;
            assertThat(during).isLessThanOrEqualTo(100 + CAP + 4);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int closed = 0;
            for (Socket s : idle) {
                if (closedBy(s, deadline)) {
                    closed++;
                }
            }
            assertThat(closed).as("idle connections closed by the server").isEqualTo(100);
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
        assertThat(get("/v2/health/live")).startsWith("HTTP/1.1 200");
    }

    @Test
    void a_half_sent_header_is_closed_after_the_header_timeout() throws Exception {
        try (Socket s = open()) {
            OutputStream out = s.getOutputStream();
            out.write("POST /v2/models/cls/infer HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            boolean closed = false;
            while (!closed && System.nanoTime() < deadline) {
                try {
                    out.write("X-Slow: 1\r\n".getBytes(StandardCharsets.US_ASCII)); // trickles: keeps the idle timer quiet
                    out.flush();
                } catch (IOException e) {
                    closed = true;
                    break;
                }
                closed = closedBy(s, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300));
            }
            assertThat(closed).as("slow-header connection closed").isTrue();
        }
        assertThat(agent.readDeadlines().orElseThrow().closedConnections()).isGreaterThanOrEqualTo(1);
        assertThat(get("/v2/health/live")).startsWith("HTTP/1.1 200");
    }

    @Test
    void an_oversize_chunked_body_is_413() throws Exception {
        try (Socket s = open()) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v2/models/cls/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[16 * 1024];
            java.util.Arrays.fill(chunk, (byte) ' ');
            try {
                for (int i = 0; i < 8; i++) { // 128 KiB against a 64 KiB limit
                    out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(chunk);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException e) {
                // the server may answer and close before the whole body is sent
            }
            String reply = new String(s.getInputStream().readNBytes(400), StandardCharsets.ISO_8859_1);
            assertThat(reply).startsWith("HTTP/1.1 413");
            assertThat(reply).doesNotContain("Exception").doesNotContain("at io.");
        }
    }

    @Test
    void a_client_that_leaves_mid_body_logs_one_line_without_a_stack_trace() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (Socket s = open()) {
                s.getOutputStream().write(("POST /v2/models/cls/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 5000\r\n\r\n{\"inputs\": [").getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (logged.stream().noneMatch(r -> r.getMessage() != null && r.getMessage().contains("mid-body")) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        List<LogRecord> lines = logged.stream().filter(r -> r.getMessage() != null && r.getMessage().contains("mid-body")).toList();
        assertThat(lines).as("rate-limited: at most the burst of 5 lines for 20 disconnects").hasSizeBetween(1, 5);
        assertThat(lines).allSatisfy(r -> assertThat(r.getThrown()).isNull());
        assertThat(logged).noneMatch(r -> r.getThrown() != null && r.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue());
        assertThat(get("/v2/health/live")).startsWith("HTTP/1.1 200");
    }

    @Test
    void health_is_down_once_the_http_listener_has_stopped() throws Exception {
        CoapClient coap = new CoapClient("coap://127.0.0.1:" + agent.coapPort().getAsInt() + "/" + CoapResources.HEALTH);
        try {
            CoapResponse up = coap.get();
            assertThat(up.getResponseText()).contains("\"status\":\"UP\"");
            List<String> deaths = new CopyOnWriteArrayList<>();
            agent.onListenerDeath(deaths::add);
            agent.stopHttpListenerForTest();
            CoapResponse down = coap.get();
            assertThat(down.getCode().value).isEqualTo(org.eclipse.californium.core.coap.CoAP.ResponseCode.SERVICE_UNAVAILABLE.value);
            assertThat(down.getResponseText()).contains("\"status\":\"DOWN\"").contains("HTTP listener has stopped");
            assertThat(agent.healthProblems()).containsKey("http");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (deaths.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(deaths).as("the supervisor action ran once").hasSize(1);
        } finally {
            coap.shutdown();
        }
    }
}
