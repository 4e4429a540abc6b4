import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * An out-of-process HTTP/1.1 load generator for bench/agent-footprint.sh: CONNECTIONS keep-alive
 * connections, each a platform thread sending the same POST and reading its answer (Content-Length
 * framing) in a closed loop; WARMUP_S seconds untimed, then DURATION_S seconds counted. Prints one
 * line: {@code requests_per_s=N ok=N failed=N}. Only 200 answers count as ok; any other status or
 * an I/O error counts as failed (the connection is reopened).
 *
 * <p>Run with the JDK's source launcher, in its own JVM: {@code java bench/HttpLoad.java HOST PORT
 * PATH BODY_FILE CONNECTIONS WARMUP_S DURATION_S [HEADER...]}, each HEADER a {@code "Name: value"} line
 * added to the request (bench/json-throughput.sh sends the binary tensor extension's
 * {@code Inference-Header-Content-Length} that way; a {@code Content-Type} given there replaces
 * {@code application/json}); a bare number N as HEADER is short for
 * {@code "Inference-Header-Content-Length: N"} (an Open Inference Protocol binary-extension body: its first N bytes
 * the JSON header, the tensor bytes after it). The environment variable {@code HTTPLOAD_AUTHORIZATION}, when set, is
 * sent as the {@code Authorization} header (e.g. {@code Bearer TOKEN}). Raw sockets rather than
 * java.net.http.HttpClient so that the client spends little CPU per request on a machine it shares with the server.
 */
public final class HttpLoad {
    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        String path = args[2];
        byte[] body = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(args[3]));
        int connections = Integer.parseInt(args[4]);
        long warmupMs = (long) (Double.parseDouble(args[5]) * 1000);
        long durationMs = (long) (Double.parseDouble(args[6]) * 1000);
        StringBuilder extra = new StringBuilder();
        boolean contentType = false;
        for (int i = 7; i < args.length; i++) {
            String h = args[i].matches("\\d+") ? "Inference-Header-Content-Length: " + args[i] : args[i];
            extra.append(h).append("\r\n");
            contentType |= h.toLowerCase(Locale.ROOT).startsWith("content-type:");
        }
        if (System.getenv("HTTPLOAD_AUTHORIZATION") != null) {
            extra.append("Authorization: ").append(System.getenv("HTTPLOAD_AUTHORIZATION")).append("\r\n");
        }
        byte[] head = ("POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n"
                + (contentType ? "" : "Content-Type: application/json\r\n") + extra
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
        byte[] request = new byte[head.length + body.length];
        System.arraycopy(head, 0, request, 0, head.length);
        System.arraycopy(body, 0, request, head.length, body.length);
        AtomicBoolean counting = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        LongAdder ok = new LongAdder();
        LongAdder failed = new LongAdder();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            Thread t = new Thread(() -> loop(host, port, request, counting, stop, ok, failed), "load-" + i);
            t.start();
            threads.add(t);
        }
        Thread.sleep(warmupMs);
        counting.set(true);
        long t0 = System.nanoTime();
        Thread.sleep(durationMs);
        counting.set(false);
        double seconds = (System.nanoTime() - t0) / 1e9;
        stop.set(true);
        for (Thread t : threads) {
            t.join(5000);
        }
        System.out.printf(Locale.ROOT, "requests_per_s=%.0f ok=%d failed=%d%n", ok.sum() / seconds, ok.sum(), failed.sum());
        System.exit(0);
    }

    private static void loop(String host, int port, byte[] request, AtomicBoolean counting, AtomicBoolean stop,
                             LongAdder ok, LongAdder failed) {
        while (!stop.get()) {
            try (Socket s = new Socket()) {
                s.setTcpNoDelay(true);
                s.connect(new InetSocketAddress(host, port), 5000);
                s.setSoTimeout(30000);
                OutputStream out = s.getOutputStream();
                InputStream in = new BufferedInputStream(s.getInputStream(), 8192);
                while (!stop.get()) {
                    out.write(request);
                    out.flush();
                    int status = readResponse(in);
                    if (counting.get()) {
                        (status == 200 ? ok : failed).increment();
                    }
                }
            } catch (IOException e) {
                if (counting.get()) {
                    failed.increment();
                }
            }
        }
    }

    /** Reads one response (status line, headers, Content-Length body) and returns its status. */
    private static int readResponse(InputStream in) throws IOException {
        String status = line(in);
        int code = Integer.parseInt(status.substring(9, 12));
        long length = 0;
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            int colon = h.indexOf(':');
            if (colon > 0 && h.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
                length = Long.parseLong(h.substring(colon + 1).trim());
            }
        }
        while (length > 0) {
            long n = in.skip(length);
            if (n <= 0) {
                if (in.read() < 0) {
                    throw new IOException("connection closed in the body");
                }
                n = 1;
            }
            length -= n;
        }
        return code;
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder(64);
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed");
            }
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
