package io.edgefleet.transport.http;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * How a client of the control plane's HTTP endpoints (sync, cloud inference, the REST API) proves
 * who it is and whom it trusts: a TLS context (the CA certificates to trust and, for mTLS, the
 * device's key and certificate), and/or an RFC 6750 bearer token sent as
 * {@code Authorization: Bearer <token>}.
 *
 * <p>The context comes from a {@link Supplier} because a device certificate is renewed while the
 * agent runs: {@link #client} asks the supplier on each call and builds a new JDK
 * {@link HttpClient} only when it hands out a different {@link SSLContext} (so a renewed
 * certificate is used from the next request on, and connections are otherwise reused). Without a
 * context the JDK's default trust store applies (and plain {@code http://} URLs work).
 * Thread-safe.
 */
public final class HttpCredentials {
    private static final HttpCredentials NONE = new HttpCredentials(Optional.empty(), Optional.empty(), false);

    private final Optional<Supplier<SSLContext>> tls;
    private final Optional<Supplier<String>> bearer;
    private final boolean clientCertificate;
    private final Object lock = new Object();
    private SSLContext builtFor;
    private Consumer<HttpClient.Builder> builtWith;
    private HttpClient built;
    private SSLContext factoryFor;
    private javax.net.ssl.SSLSocketFactory factory;

    private HttpCredentials(Optional<Supplier<SSLContext>> tls, Optional<Supplier<String>> bearer, boolean clientCertificate) {
        this.tls = Objects.requireNonNull(tls, "tls");
        this.bearer = Objects.requireNonNull(bearer, "bearer");
        this.clientCertificate = clientCertificate;
    }

    /** No client certificate, no token, the JDK's default trust. */
    public static HttpCredentials none() {
        return NONE;
    }

    /** TLS with the context {@code tls} gives (trust, and the client certificate for mTLS if it holds one). */
    public static HttpCredentials tls(Supplier<SSLContext> tls) {
        return new HttpCredentials(Optional.of(tls), Optional.empty(), true);
    }

    /** TLS trusting what {@code trust}'s context trusts, with no client certificate of its own. */
    public static HttpCredentials trusting(Supplier<SSLContext> trust) {
        return new HttpCredentials(Optional.of(trust), Optional.empty(), false);
    }

    /** The same TLS settings, plus a bearer token read from {@code token} on each request (it may be rotated). */
    public HttpCredentials withBearer(Supplier<String> token) {
        return new HttpCredentials(tls, Optional.of(token), clientCertificate);
    }

    /** The same bearer token, with TLS from {@code context} (which may hold a client certificate). */
    public HttpCredentials withTls(Supplier<SSLContext> context) {
        return new HttpCredentials(Optional.of(context), bearer, true);
    }

    /** The same bearer token, with TLS that only trusts (no client certificate). */
    public HttpCredentials withTrust(Supplier<SSLContext> trust) {
        return new HttpCredentials(Optional.of(trust), bearer, false);
    }

    public boolean hasTls() {
        return tls.isPresent();
    }

    /** Whether the TLS context was given as holding a client certificate (mTLS), not only trust. */
    public boolean hasClientCertificate() {
        return tls.isPresent() && clientCertificate;
    }

    public boolean hasBearer() {
        return bearer.isPresent();
    }

    /**
     * The HTTP client to use now: built by {@code settings} (timeouts, version) plus this TLS
     * context, and cached until the supplier returns a different context. Callers pass the same
     * {@code settings} instance each time (a field), or the cache is rebuilt.
     */
    public HttpClient client(Consumer<HttpClient.Builder> settings) {
        SSLContext ctx = tls.map(Supplier::get).orElse(null);
        synchronized (lock) {
            if (built == null || builtFor != ctx || builtWith != settings) {
                HttpClient.Builder b = HttpClient.newBuilder();
                settings.accept(b);
                if (ctx != null) {
                    b.sslContext(ctx);
                }
                built = b.build();
                builtFor = ctx;
                builtWith = settings;
            }
            return built;
        }
    }

    /** Adds {@code Authorization: Bearer ...} when a token is configured; returns {@code request}. */
    public HttpRequest.Builder authorize(HttpRequest.Builder request) {
        bearer.map(Supplier::get).filter(t -> !t.isBlank()).ifPresent(t -> request.header("Authorization", "Bearer " + t.strip()));
        return request;
    }

    /**
     * A blocking JDK {@link java.net.HttpURLConnection} to {@code uri} (HTTP/1.1, RFC 9112) with the
     * same trust, client certificate and bearer token as {@link #client}: for {@code https} the
     * context's socket factory (the server's name checked per RFC 2818 as the JDK does), the
     * {@code Authorization} header when a token is configured, no redirects followed (as the
     * {@link HttpClient} built here), no cache. Not yet connected: the caller adds its headers,
     * then reads. For bulk bodies: the reader's thread reads the socket straight into its own
     * buffer, where {@link HttpClient} hands each 16 KiB buffer over from its selector thread.
     * Connections are kept alive and reused by the JDK (up to {@code http.maxConnections}, 5 per
     * destination); call {@link java.net.HttpURLConnection#disconnect} after a body not read to its end.
     *
     * @param connectTimeout the longest wait for the TCP (and TLS) connection
     * @param readTimeout the longest wait for the next bytes of the response (its headers or any
     *     read of its body); past it a read throws {@link java.net.SocketTimeoutException}
     * @throws IOException when the URL cannot be opened (not {@code http} or {@code https})
     */
    public java.net.HttpURLConnection open(java.net.URI uri, java.time.Duration connectTimeout, java.time.Duration readTimeout)
            throws IOException {
        java.net.URLConnection c = uri.toURL().openConnection();
        if (!(c instanceof java.net.HttpURLConnection http)) {
            throw new IOException("not an HTTP URL: " + uri);
        }
        if (http instanceof javax.net.ssl.HttpsURLConnection https) {
            SSLContext ctx = tls.map(Supplier::get).orElse(null);
            if (ctx != null) {
                https.setSSLSocketFactory(socketFactory(ctx));
            }
        }
        http.setConnectTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, connectTimeout.toMillis())));
        http.setReadTimeout((int) Math.min(Integer.MAX_VALUE, Math.max(1, readTimeout.toMillis())));
        http.setInstanceFollowRedirects(false);
        http.setUseCaches(false);
        bearer.map(Supplier::get).filter(t -> !t.isBlank()).ifPresent(t -> http.setRequestProperty("Authorization", "Bearer " + t.strip()));
        return http;
    }

    /** One factory per context, so that the JDK's keep-alive cache (keyed by it) reuses connections. */
    private javax.net.ssl.SSLSocketFactory socketFactory(SSLContext ctx) {
        synchronized (lock) {
            if (factoryFor != ctx) {
                factory = ctx.getSocketFactory();
                factoryFor = ctx;
            }
            return factory;
        }
    }

    @Override
    public String toString() {
        return "HttpCredentials[tls=" + tls.isPresent() + ", bearer=" + bearer.isPresent() + "]"; // never the token
    }
}
