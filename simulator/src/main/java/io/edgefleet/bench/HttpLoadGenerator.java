package io.edgefleet.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

/**
 * A closed-loop HTTP/1.1 load generator meant to run in its own JVM, so that the process it
 * measures does not also pay for the client (what {@code agent bench} got wrong: its in-JVM client
 * shared the agent's CPU, heap and JIT and reported 10× the latency an external client saw).
 * Each of {@code CONCURRENCY} platform threads holds one keep-alive connection (TCP_NODELAY) and
 * sends the same POST, reading each answer by its {@code Content-Length}: {@code WARMUP} calls
 * untimed, then all threads meet and make {@code ITERATIONS} timed calls each. Raw sockets rather
 * than {@code java.net.http.HttpClient}: a few microseconds of client CPU per call.
 *
 * <p>{@code java -cp CLASSPATH io.edgefleet.bench.HttpLoadGenerator HOST PORT PATH BODY_FILE CONTENT_TYPE
 * CONCURRENCY WARMUP ITERATIONS [HEADER: VALUE]...}; prints one line
 * {@code p50_us=… p99_us=… calls_per_s=… ok=… failed=…}. Only 200 answers are ok; the exit status is 1
 * when any call failed.
 */
public final class HttpLoadGenerator {
    private HttpLoadGenerator() {
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        byte[] body = Files.readAllBytes(Path.of(args[3]));
        int threads = Integer.parseInt(args[5]);
        int warmup = Integer.parseInt(args[6]);
        int iterations = Integer.parseInt(args[7]);
        StringBuilder head = new StringBuilder("POST " + args[2] + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nContent-Type: " + args[4]
                + "\r\nContent-Length: " + body.length + "\r\n");
        for (int i = 8; i < args.length; i++) {
            head.append(args[i]).append("\r\n");
        }
        byte[] h = head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] request = Arrays.copyOf(h, h.length + body.length);
        System.arraycopy(body, 0, request, h.length, body.length);
        long[][] nanos = new long[threads][iterations];
        int[] failed = new int[threads];
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        CyclicBarrier end = new CyclicBarrier(threads + 1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers.add(Thread.ofPlatform().name("load-" + t).start(() -> {
                try (Socket s = new Socket()) {
                    s.setTcpNoDelay(true);
                    s.connect(new InetSocketAddress(host, port), 5000);
                    s.setSoTimeout(30_000);
                    OutputStream out = s.getOutputStream();
                    InputStream in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
                    for (int i = 0; i < warmup; i++) {
                        call(out, in, request);
                    }
                    start.await(60, TimeUnit.SECONDS);
                    for (int i = 0; i < iterations; i++) {
                        long t0 = System.nanoTime();
                        if (call(out, in, request) != 200) {
                            failed[id]++;
                        }
                        nanos[id][i] = System.nanoTime() - t0;
                    }
                    end.await(600, TimeUnit.SECONDS);
                } catch (Exception e) {
                    failed[id] = iterations;
                    System.err.println("load-" + id + ": " + e);
                    start.reset();
                    end.reset();
                }
            }));
        }
        start.await(600, TimeUnit.SECONDS);
        long t0 = System.nanoTime();
        end.await(600, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - t0) / 1e9;
        for (Thread w : workers) {
            w.join();
        }
        long[] all = Arrays.stream(nanos).flatMapToLong(Arrays::stream).sorted().toArray();
        int bad = Arrays.stream(failed).sum();
        System.out.printf(Locale.ROOT, "p50_us=%.1f p99_us=%.1f calls_per_s=%.0f ok=%d failed=%d%n", all[(int) (all.length * 0.50)] / 1e3,
                all[Math.min(all.length - 1, (int) (all.length * 0.99))] / 1e3, all.length / seconds, all.length - bad, bad);
        System.exit(bad == 0 ? 0 : 1);
    }

    private static int call(OutputStream out, InputStream in, byte[] request) throws IOException {
        out.write(request);
        out.flush();
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
