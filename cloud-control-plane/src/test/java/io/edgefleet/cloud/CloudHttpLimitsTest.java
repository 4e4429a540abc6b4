package io.edgefleet.cloud;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.http.limits.HttpLimits;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control plane's HTTP listener with real sockets: oversize and malformed uploads are 4xx, idle connections are closed, the cap holds. */
class CloudHttpLimitsTest {
    static final int CAP = 16;

    @TempDir
    static Path dir;
    static ControlPlane cp;

    @BeforeAll
    static void start() {
        cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withMaxUploadBytes(64 * 1024)
                .withHttpLimits(new HttpLimits(Duration.ofMillis(1000), Duration.ofSeconds(5), Duration.ofSeconds(5), CAP, 8)));
    }

    @AfterAll
    static void stop() {
        cp.close();
    }

    private static Socket open() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", cp.port()), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Sends a multipart upload of {@code fileBytes} bytes named {@code fileName}, chunked; returns the start of the reply. */
    private static String upload(String fileName, int fileBytes) throws IOException {
        try (Socket s = open()) {
            OutputStream out = s.getOutputStream();
            String boundary = "b0undary";
            out.write(("POST /api/v1/models/limits-m/versions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + CloudTestSupport.OPERATOR
                    + "\r\nContent-Type: multipart/form-data; boundary=" + boundary + "\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            List<byte[]> pieces = new ArrayList<>();
            pieces.add(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n1\r\n--" + boundary
                    + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + fileName + "\"\r\n"
                    + "Content-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            for (int left = fileBytes; left > 0; left -= 8192) {
                pieces.add(new byte[Math.min(8192, left)]);
            }
            pieces.add(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
            try {
                for (byte[] p : pieces) {
                    out.write((Integer.toHexString(p.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(p);
                    out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (IOException e) {
                // the server may answer and close before the whole body is sent
            }
            return new String(s.getInputStream().readNBytes(600), StandardCharsets.UTF_8);
        }
    }

    @Test
    void a_chunked_upload_over_the_size_limit_is_413_without_runtime_internals() throws Exception {
        String reply = upload("m.onnx", 256 * 1024);
        assertThat(reply).startsWith("HTTP/1.1 413");
        assertThat(reply).contains("application/problem+json").doesNotContain("Exception").doesNotContain("at io.");
    }

    @Test
    void a_400_character_file_name_is_400() throws Exception {
        String reply = upload("m".repeat(395) + ".onnx", 16);
        assertThat(reply).startsWith("HTTP/1.1 400");
        assertThat(reply).contains("file name is longer than 200 characters").doesNotContain("Exception");
    }

    @Test
    void idle_connections_are_closed_and_the_server_keeps_serving_beyond_its_cap() throws Exception {
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 2 * CAP; i++) {
                Socket s = open();
                s.setSoTimeout(100);
                idle.add(s);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int closed = 0;
            for (Socket s : idle) {
                InputStream in = s.getInputStream();
                boolean gone = false;
                while (!gone && System.nanoTime() < deadline) {
                    try {
                        gone = in.read() < 0;
                    } catch (SocketTimeoutException e) {
                        // still open
                    } catch (IOException e) {
                        gone = true;
                    }
                }
                closed += gone ? 1 : 0;
            }
            assertThat(closed).isEqualTo(2 * CAP);
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
        try (Socket s = open()) {
            s.getOutputStream().write("GET /observe/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 200");
        }
    }
}
