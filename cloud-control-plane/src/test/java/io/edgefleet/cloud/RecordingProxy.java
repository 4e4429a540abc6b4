package io.edgefleet.cloud;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A real HTTP forwarder between an agent and the control plane that records every request (method,
 * path, headers, body) and can play "control plane away" (503) — so tests assert on what the agent
 * actually sent over the wire.
 */
final class RecordingProxy implements AutoCloseable {
    record Exchange(String method, String path, Map<String, List<String>> headers, byte[] body, int status) {
    }

    private static final Set<String> HOP = Set.of("connection", "content-length", "host", "transfer-encoding", "upgrade", "expect", "keep-alive");
    private final HttpServer server;
    private final HttpClient client = HttpClient.newHttpClient();
    final List<Exchange> exchanges = new CopyOnWriteArrayList<>();
    final AtomicBoolean down = new AtomicBoolean();

    private final boolean tls;

    RecordingProxy(URI target) throws IOException {
        this(target, null);
    }

    /** With {@code tls}, the proxy is an HTTPS server with that context (a TLS-terminating front of the control plane). */
    RecordingProxy(URI target, javax.net.ssl.SSLContext tls) throws IOException {
        this.tls = tls != null;
        if (tls != null) {
            com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(tls));
            server = https;
        } else {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        }
        server.createContext("/", ex -> {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            String path = ex.getRequestURI().toString();
            if (down.get()) {
                exchanges.add(new Exchange(ex.getRequestMethod(), path, Map.copyOf(ex.getRequestHeaders()), body, 503));
                ex.sendResponseHeaders(503, -1);
                ex.close();
                return;
            }
            HttpRequest.Builder b = HttpRequest.newBuilder(target.resolve(path)).method(ex.getRequestMethod(),
                    body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
            ex.getRequestHeaders().forEach((k, vs) -> {
                if (!HOP.contains(k.toLowerCase(java.util.Locale.ROOT))) {
                    vs.forEach(v -> b.header(k, v));
                }
            });
            try {
                HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                exchanges.add(new Exchange(ex.getRequestMethod(), path, Map.copyOf(ex.getRequestHeaders()), body, r.statusCode()));
                r.headers().map().forEach((k, vs) -> {
                    if (!HOP.contains(k.toLowerCase(java.util.Locale.ROOT)) && !k.startsWith(":")) {
                        vs.forEach(v -> ex.getResponseHeaders().add(k, v));
                    }
                });
                ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
                ex.getResponseBody().write(r.body());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ex.sendResponseHeaders(502, -1);
            } finally {
                ex.close();
            }
        });
        server.start();
    }

    URI uri() {
        return URI.create((tls ? "https" : "http") + "://127.0.0.1:" + server.getAddress().getPort());
    }

    List<Exchange> to(String path) {
        return exchanges.stream().filter(e -> e.path().equals(path)).toList();
    }

    @Override
    public void close() {
        server.stop(0);
        client.close();
    }
}
