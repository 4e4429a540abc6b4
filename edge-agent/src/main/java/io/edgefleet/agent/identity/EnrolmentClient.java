package io.edgefleet.agent.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.Json;
import io.edgefleet.transport.pki.EnrolmentToken;
import io.edgefleet.transport.pki.Pem;
import io.edgefleet.transport.pki.TlsContexts;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The agent's side of the control plane's enrolment endpoints, over the JDK HTTP client. Sends
 * only public material (a CSR, a certificate, a signature); the private key never passes through
 * here. Over {@code https} every call trusts only the CA it is given, except {@link #fetchCa},
 * whose answer the caller checks against the token's pin before trusting it. Blocking; any thread.
 */
final class EnrolmentClient {
    private static final ObjectMapper JSON = Json.jsonMapper(DecodeLimits.DEFAULT);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final URI base;

    EnrolmentClient(URI base) {
        this.base = base;
    }

    /** What the control plane answered to an enrolment or a renewal. */
    record Answer(X509Certificate certificate, X509Certificate ca) {
    }

    /**
     * The control plane's CA certificate ({@code GET /api/v1/pki/ca.pem}). Over https the server is
     * not authenticated for this one call: the caller trusts the answer only if it has the pinned
     * hash (the token's), so a man in the middle gains nothing.
     */
    X509Certificate fetchCa() {
        HttpResponse<byte[]> r = send(client(Optional.empty(), true), HttpRequest.newBuilder(base.resolve("/api/v1/pki/ca.pem")).GET());
        if (r.statusCode() != 200) {
            throw refused("fetching the control plane's CA", r);
        }
        List<X509Certificate> certs;
        try {
            certs = Pem.certificates(new String(r.body(), StandardCharsets.US_ASCII));
        } catch (IllegalArgumentException e) {
            throw new IdentityException("the control plane's ca.pem is not PEM", false, e);
        }
        if (certs.isEmpty()) {
            throw new IdentityException("the control plane's ca.pem holds no certificate", false);
        }
        return certs.get(0);
    }

    /** {@code POST /api/v1/enrol} with the token as Bearer and {@code {"device", "csr"}}. */
    Answer enrol(EnrolmentToken token, X509Certificate ca, String device, String csrPem) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("device", device);
        body.put("csr", csrPem);
        return answer("enrolment", send(client(Optional.of(ca), false), post("/api/v1/enrol", body)
                .header("Authorization", "Bearer " + token.text())));
    }

    /** {@code POST /api/v1/certificates/renew} with the current certificate, a new CSR and the signature over its DER. */
    Answer renew(X509Certificate ca, X509Certificate current, String csrPem, byte[] signature) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("certificate", Pem.write(current));
        body.put("csr", csrPem);
        body.put("signature", java.util.Base64.getEncoder().encodeToString(signature));
        return answer("renewal", send(client(Optional.of(ca), false), post("/api/v1/certificates/renew", body)));
    }

    private HttpRequest.Builder post(String path, Map<String, Object> body) {
        try {
            return HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Answer answer(String what, HttpResponse<byte[]> r) {
        if (r.statusCode() != 201 && r.statusCode() != 200) {
            throw refused(what, r);
        }
        try {
            JsonNode n = JSON.readTree(r.body());
            List<X509Certificate> cert = Pem.certificates(n.path("certificate").asText(""));
            List<X509Certificate> ca = Pem.certificates(n.path("ca").asText(""));
            if (cert.isEmpty() || ca.isEmpty()) {
                throw new IdentityException("the control plane's " + what + " answer holds no certificate", true);
            }
            return new Answer(cert.get(0), ca.get(0));
        } catch (IOException | IllegalArgumentException e) {
            throw new IdentityException("the control plane's " + what + " answer is not readable: " + e.getMessage(), true, e);
        }
    }

    private static IdentityException refused(String what, HttpResponse<byte[]> r) {
        String detail = new String(r.body(), StandardCharsets.UTF_8);
        try {
            JsonNode n = JSON.readTree(r.body());
            if (n != null && n.has("detail")) {
                detail = n.path("title").asText() + ": " + n.path("detail").asText();
            }
        } catch (IOException | RuntimeException e) {
            // not problem JSON: the raw text (bounded) is the best we have
        }
        if (detail.length() > 300) {
            detail = detail.substring(0, 300) + "...";
        }
        boolean retriable = r.statusCode() >= 500 || r.statusCode() == 429 || r.statusCode() == 408;
        return new IdentityException(what + " refused by the control plane (HTTP " + r.statusCode() + "): " + detail, retriable);
    }

    static HttpResponse<byte[]> send(HttpClient client, HttpRequest.Builder req) {
        HttpRequest built = req.timeout(TIMEOUT).build();
        try {
            return client.send(built, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            // a refused connection's ConnectException has no message: the log said "unreachable: null"
            String why = e.getMessage() == null || e.getMessage().isBlank() ? e.getClass().getSimpleName() : e.getMessage();
            throw new IdentityException("control plane unreachable at " + built.uri().getScheme() + "://" + built.uri().getAuthority() + ": " + why,
                    true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IdentityException("interrupted", true, e);
        } finally {
            client.close();
        }
    }

    private HttpClient client(Optional<X509Certificate> ca, boolean unauthenticated) {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10));
        if ("https".equals(base.getScheme())) {
            b.sslContext(unauthenticated ? acceptAny() : TlsContexts.trusting(List.of(ca.orElseThrow())));
        }
        return b.build();
    }

    /** For {@link #fetchCa} only: the CA it fetches is checked against the pin, not trusted because of the channel. */
    private static SSLContext acceptAny() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new javax.net.ssl.TrustManager[] {new X509ExtendedTrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }

                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
                }

                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
                }
            }}, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
