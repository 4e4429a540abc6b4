package io.edgefleet.cloud.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.LongConsumer;

/**
 * A small client of the control plane's REST API (JDK HTTP client), used by the CLI and the tests.
 * Every call returns the status and body; problem JSON is not turned into exceptions, so callers
 * can show {@code detail} as the server wrote it.
 */
public final class CloudClient {
    private static final ObjectMapper JSON = Json.jsonMapper(DecodeLimits.DEFAULT);

    private final URI base;
    private final Optional<String> token;
    private final HttpClient http;

    /** {@code base} like {@code http://127.0.0.1:8080}; an {@code https} URL is checked against the JDK's default trust store. */
    public CloudClient(URI base, Optional<String> token) {
        this(base, token, Optional.empty());
    }

    /**
     * @param base like {@code https://127.0.0.1:8080}
     * @param token the API bearer token, if any
     * @param tls trust (and, for mTLS, the client certificate) for an {@code https} base; empty: the JDK's defaults
     */
    public CloudClient(URI base, Optional<String> token, Optional<javax.net.ssl.SSLContext> tls) {
        this.base = base;
        this.token = token;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        tls.ifPresent(b::sslContext);
        this.http = b.build();
    }

    /**
     * A TLS context trusting the CA certificates in the PEM file {@code caPem} (e.g.
     * {@code cloud-data/pki/ca.pem}), for {@link #CloudClient(URI, Optional, Optional)}.
     *
     * @throws IllegalArgumentException when the file cannot be read or holds no certificate
     */
    public static javax.net.ssl.SSLContext trusting(Path caPem) {
        var certs = io.edgefleet.transport.pki.Pem.certificates(io.edgefleet.transport.pki.Pem.read(caPem));
        if (certs.isEmpty()) {
            throw new IllegalArgumentException(caPem + " holds no certificate");
        }
        return io.edgefleet.transport.pki.TlsContexts.trusting(certs);
    }

    /** A response: status, content type and body. */
    public record Response(int status, String contentType, byte[] body) {
        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new IllegalStateException("response is not JSON (" + status + "): " + text(), e);
            }
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public boolean ok() {
            return status >= 200 && status < 300;
        }

        /** The problem's {@code detail} (or the body) for messages. */
        public String problem() {
            try {
                JsonNode n = JSON.readTree(body);
                if (n.hasNonNull("detail")) {
                    return n.path("title").asText("HTTP " + status) + ": " + n.get("detail").asText();
                }
                if (n.hasNonNull("error")) { // Open Inference Protocol errors
                    return n.get("error").asText();
                }
            } catch (IOException | RuntimeException e) {
                // not JSON
            }
            return body.length == 0 ? "HTTP " + status + " without a body" : text();
        }
    }

    public Response get(String path) {
        return send(request(path).GET().build());
    }

    public Response post(String path, Object jsonBody) {
        return send(request(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(bytes(jsonBody))).build());
    }

    public Response put(String path, Object jsonBody) {
        return send(request(path).header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofByteArray(bytes(jsonBody))).build());
    }

    public Response delete(String path) {
        return send(request(path).DELETE().build());
    }

    /** A raw request with the given method, content type and body (tests of malformed input). */
    public Response raw(String method, String path, String contentType, byte[] body) {
        return send(request(path).header("Content-Type", contentType).method(method, HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    /**
     * Registers a model version: a multipart upload of the files plus {@code version}, optional
     * {@code targetProfile} fields and a {@code metadata} JSON part. {@code progress} receives the bytes
     * sent so far (for a progress bar).
     */
    public Response pushModel(String model, String version, List<Path> files, List<String> targetProfiles, Map<String, Object> metadata,
            LongConsumer progress) {
        return pushModel(model, version, files, targetProfiles, metadata, false, progress);
    }

    /**
     * Registers a version; with {@code allowSignatureChange} its inputs or outputs may differ from the
     * previous version's (otherwise the registry answers 409 listing the differences).
     */
    public Response pushModel(String model, String version, List<Path> files, List<String> targetProfiles, Map<String, Object> metadata,
            boolean allowSignatureChange, LongConsumer progress) {
        String boundary = "edgefleet-" + UUID.randomUUID();
        List<InputStream> parts = new ArrayList<>();
        long[] total = {0};
        java.util.function.Consumer<String> text = s -> {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            total[0] += b.length;
            parts.add(new java.io.ByteArrayInputStream(b));
        };
        text.accept(field(boundary, "version", version));
        if (allowSignatureChange) {
            text.accept(field(boundary, "allowSignatureChange", "true"));
        }
        for (String p : targetProfiles) {
            text.accept(field(boundary, "targetProfile", p));
        }
        if (!metadata.isEmpty()) {
            text.accept(field(boundary, "metadata", new String(bytes(metadata), StandardCharsets.UTF_8)));
        }
        for (Path f : files) {
            text.accept("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + f.getFileName()
                    + "\"\r\nContent-Type: application/octet-stream\r\n\r\n");
            try {
                total[0] += Files.size(f);
                parts.add(Files.newInputStream(f));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f, e);
            }
            text.accept("\r\n");
        }
        text.accept("--" + boundary + "--\r\n");
        long size = total[0];
        InputStream body = new CountingStream(new SequenceInputStream(Collections.enumeration(parts)), progress);
        // Expect: 100-continue (RFC 9110 §10.1.1): the server refuses an oversize, unauthenticated or
        // unauthorised upload before a byte of the body is sent. Without it the server answered 413
        // and closed while the client still wrote, and the reset could discard the answer on the
        // client's side ("header parser received no bytes" instead of the 413). HTTP/1.1 because
        // 100-continue is an HTTP/1.1 exchange and an h2c upgrade cannot carry a streamed body.
        HttpRequest req = request("/api/v1/models/" + enc(model) + "/versions")
                .version(HttpClient.Version.HTTP_1_1)
                .expectContinue(true)
                .timeout(Duration.ofMinutes(15))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> body), size))
                .build();
        return send(req);
    }

    private static String field(String boundary, String name, String value) {
        return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
    }

    public static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofMinutes(2));
        token.ifPresent(t -> {
            // RFC 6750 b64token characters only; the JDK's own refusal would quote the whole header, secret included
            if (!t.matches("[A-Za-z0-9._~+/=-]+")) {
                throw new IllegalArgumentException("the API token is not a bearer token: it holds spaces, line breaks or other characters "
                        + "(a token file must hold the secret alone; `tokens create` prints it alone on stdout)");
            }
            b.header("Authorization", "Bearer " + t);
        });
        return b;
    }

    private Response send(HttpRequest r) {
        try {
            HttpResponse<byte[]> res = http.send(r, HttpResponse.BodyHandlers.ofByteArray());
            return new Response(res.statusCode(), res.headers().firstValue("Content-Type").orElse(""), res.body());
        } catch (javax.net.ssl.SSLHandshakeException e) {
            throw new UncheckedIOException("cannot reach the control plane at " + base + ": the TLS handshake failed (" + reason(e)
                    + "); trust the CA that issued its certificate (cloud-data/pki/ca.pem on embedded defaults)", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach the control plane at " + base + ": " + reason(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * Why a call failed, in words: the JDK's HTTP client throws a {@link java.net.ConnectException}
     * without a message for a refused connection, which printed as "null".
     */
    static String reason(IOException e) {
        if (e instanceof java.net.http.HttpConnectTimeoutException) {
            return "the connection timed out";
        }
        if (e instanceof java.net.http.HttpTimeoutException) {
            return "no answer in time";
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException) {
                return "connection refused (is it running, and on this address and port?)";
            }
            if (t instanceof java.nio.channels.UnresolvedAddressException || t instanceof java.net.UnknownHostException) {
                return "unknown host";
            }
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getMessage();
            }
        }
        return "the connection failed";
    }

    private static byte[] bytes(Object o) {
        try {
            return JSON.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static final class CountingStream extends java.io.FilterInputStream {
        private final LongConsumer progress;
        private long count;

        CountingStream(InputStream in, LongConsumer progress) {
            super(in);
            this.progress = progress;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                progress.accept(++count);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
                progress.accept(count);
            }
            return n;
        }
    }
}
