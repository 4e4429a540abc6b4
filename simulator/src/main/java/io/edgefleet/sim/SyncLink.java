package io.edgefleet.sim;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A device group's HTTP path to the model-sync endpoints of the control plane: a forwarding proxy
 * that counts the chunk bytes it delivers (the report's "bytes synced") and can cut the path,
 * cap its bandwidth per response, or corrupt chunks: while corrupting, every third chunk response
 * has one byte flipped, which the device's chunk verification must catch and re-fetch.
 */
final class SyncLink implements AutoCloseable {
    private static final List<String> PASSED_HEADERS = List.of("Content-Type", "Content-Range", "Accept-Ranges", "ETag", "Cache-Control");
    private final URI upstream;
    private final HttpServer server;
    private final HttpClient http;
    private volatile boolean cut;
    private volatile long bytesPerSecond;
    private volatile boolean corrupting;
    private final AtomicLong chunkResponses = new AtomicLong();
    final AtomicLong chunkBytes = new AtomicLong();
    final AtomicLong manifestRequests = new AtomicLong();
    final AtomicLong corrupted = new AtomicLong();

    /**
     * @param upstream the control plane ({@code https} with {@code tls}); the device's
     *     {@code Authorization} header is passed on, a client certificate cannot be (the proxy ends TLS)
     */
    SyncLink(URI upstream, java.util.Optional<javax.net.ssl.SSLContext> tls) throws IOException {
        this.upstream = upstream;
        HttpClient.Builder hb = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5));
        tls.ifPresent(hb::sslContext);
        this.http = hb.build();
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 100);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    void cut(boolean on) {
        cut = on;
    }

    void cap(long bps) {
        bytesPerSecond = bps;
    }

    void corrupt(boolean on) {
        corrupting = on;
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (cut) {
                return; // closed without a response: what a dead route looks like to the client
            }
            String path = ex.getRequestURI().getRawPath() + (ex.getRequestURI().getRawQuery() == null ? "" : "?" + ex.getRequestURI().getRawQuery());
            HttpRequest.Builder b = HttpRequest.newBuilder(upstream.resolve(path)).timeout(Duration.ofSeconds(30))
                    .method(ex.getRequestMethod(), HttpRequest.BodyPublishers.ofByteArray(ex.getRequestBody().readAllBytes()));
            String authorization = ex.getRequestHeaders().getFirst("Authorization");
            if (authorization != null) {
                b.header("Authorization", authorization);
            }
            for (String h : List.of("Range", "If-Range")) {
                String v = ex.getRequestHeaders().getFirst(h);
                if (v != null) {
                    b.header(h, v);
                }
            }
            HttpResponse<byte[]> r;
            try {
                r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                ex.sendResponseHeaders(502, -1);
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            byte[] body = r.body();
            boolean chunk = path.startsWith("/sync/v1/chunks/") || path.startsWith("/sync/v1/variants/"); // chunk bytes, alone or in runs
            if (path.startsWith("/sync/v1/manifests/")) {
                manifestRequests.incrementAndGet();
            }
            if (chunk && (r.statusCode() == 200 || r.statusCode() == 206) && body.length > 0) {
                if (corrupting && chunkResponses.incrementAndGet() % 3 == 1) {
                    body = body.clone();
                    body[body.length / 2] ^= 0x5A;
                    corrupted.incrementAndGet();
                }
            }
            for (String h : PASSED_HEADERS) {
                r.headers().firstValue(h).ifPresent(v -> ex.getResponseHeaders().set(h, v));
            }
            ex.sendResponseHeaders(r.statusCode(), body.length == 0 ? -1 : body.length);
            if (body.length > 0) {
                write(ex.getResponseBody(), body);
                if (chunk) {
                    chunkBytes.addAndGet(body.length);
                }
            }
        }
    }

    private void write(OutputStream o, byte[] body) throws IOException {
        long cap = bytesPerSecond;
        if (cap <= 0) {
            o.write(body);
            return;
        }
        int slice = (int) Math.max(1024, cap / 20);
        long start = System.nanoTime();
        for (int off = 0; off < body.length; off += slice) {
            if (cut) {
                throw new IOException("link cut");
            }
            int len = Math.min(slice, body.length - off);
            o.write(body, off, len);
            o.flush();
            long wait = start + (off + (long) len) * 1_000_000_000L / cap - System.nanoTime();
            if (wait > 0) {
                try {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        http.close();
    }
}
