package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.tls.CallerFilter;
import io.edgefleet.cloud.tls.Principal;
import io.edgefleet.cloud.tls.ServerCertificate;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.TlsContexts;
import io.helidon.common.tls.TlsClientAuth;
import io.helidon.webserver.WebServer;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on the control plane's HTTP listener with real handshakes: the embedded default (a server
 * certificate from the CA in {@code pki/}), client trust, mTLS identities, revocation on an open
 * connection, and the credential that sync and cloud inference require.
 */
class HttpTlsTest {
    @TempDir
    static Path dir;
    static ControlPlane cp;
    static final Set<BigInteger> REVOKED = ConcurrentHashMap.newKeySet();

    @BeforeAll
    static void start() {
        cp = ControlPlane.start(CloudTestSupport.tlsConfig(dir.resolve("cloud")).withRoles(EnumSet.allOf(Role.class)),
                java.time.Clock.systemUTC(), REVOKED::contains);
    }

    @AfterAll
    static void stop() {
        if (cp != null) {
            cp.close();
        }
    }

    static SSLContext trustingCloud() {
        return CloudClient.trusting(dir.resolve("cloud/pki/ca.pem"));
    }

    /** A device key made here and its certificate from {@code ca}; the context trusts the control plane's CA. */
    record Device(SSLContext context, X509Certificate certificate) {
        static Device issue(CertificateAuthority ca, String fleet, String device) {
            KeyPair kp = KeyPairs.ecP256();
            X509Certificate cert = ca.issue(Csr.create(kp, Identity.device(fleet, device)), Identity.device(fleet, device), Duration.ofHours(1));
            return new Device(TlsContexts.of(kp.getPrivate(), List.of(cert), List.of(cp.certificateAuthority().certificate())), cert);
        }
    }

    static HttpResponse<String> get(HttpClient http, String path, Optional<String> token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(cp.baseUri().resolve(path)).timeout(Duration.ofSeconds(10));
        token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpClient client(SSLContext ctx) {
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Test
    void the_embedded_default_is_https_with_a_server_certificate_from_the_ca_and_a_0600_key() throws Exception {
        assertThat(cp.baseUri().getScheme()).isEqualTo("https");
        CloudClient ops = new CloudClient(cp.baseUri(), Optional.of(OPERATOR), Optional.of(trustingCloud()));
        assertThat(ops.get("/api/v1").status()).isEqualTo(200);
        Path pki = dir.resolve("cloud/pki");
        assertThat(Files.getPosixFilePermissions(pki.resolve("server-key.pem"))).containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE);
        assertThat(Files.getPosixFilePermissions(pki.resolve("ca-key.pem"))).containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ,
                PosixFilePermission.OWNER_WRITE);
        // the JDK client checks the host against the certificate's SANs: localhost works as well as 127.0.0.1
        HttpResponse<String> byName = client(trustingCloud()).send(HttpRequest.newBuilder(URI.create("https://localhost:" + cp.port() + "/observe/health"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(byName.statusCode()).isEqualTo(200);
    }

    @Test
    void a_client_trusting_another_ca_fails_the_handshake_and_plain_http_gets_no_answer() {
        SSLContext other = TlsContexts.trusting(List.of(CertificateAuthority.create("someone else", Duration.ofDays(1)).certificate()));
        assertThatThrownBy(() -> get(client(other), "/api/v1", Optional.of(OPERATOR))).isInstanceOf(SSLHandshakeException.class);
        // a client with only the JDK's public roots does not trust it either
        assertThatThrownBy(() -> get(HttpClient.newHttpClient(), "/api/v1", Optional.of(OPERATOR))).isInstanceOf(SSLHandshakeException.class);
        URI plain = URI.create("http://127.0.0.1:" + cp.port() + "/api/v1");
        assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(plain).timeout(Duration.ofSeconds(5))
                .header("Authorization", "Bearer " + OPERATOR).build(), HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(java.io.IOException.class);
    }

    @Test
    void sync_and_cloud_inference_without_a_certificate_or_token_are_401_problem_json() throws Exception {
        HttpClient anonymous = client(trustingCloud());
        for (String path : List.of("/sync/v1/manifests/cls/1", "/sync/v1/chunks/" + "0".repeat(64), "/v2/models/cls", "/v2")) {
            HttpResponse<String> r = get(anonymous, path, Optional.empty());
            assertThat(r.statusCode()).as(path).isEqualTo(401);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
            assertThat(r.body()).contains("device certificate").doesNotContain("Exception");
        }
        HttpRequest infer = HttpRequest.newBuilder(cp.baseUri().resolve("/v2/models/cls/infer"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\":[]}")).header("Content-Type", "application/json").build();
        assertThat(anonymous.send(infer, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
        assertThat(get(anonymous, "/sync/v1/manifests/cls/1", Optional.of("not-a-token-0123456789")).statusCode()).isEqualTo(401);
        // a viewer token may read manifests but not invoke inference: 403 naming the scope
        assertThat(get(anonymous, "/sync/v1/manifests/cls/1", Optional.of(VIEWER)).statusCode()).isEqualTo(404);
        HttpResponse<String> viewer = get(anonymous, "/v2/models/cls", Optional.of(VIEWER));
        assertThat(viewer.statusCode()).isEqualTo(403);
        assertThat(viewer.body()).contains(Principal.INFERENCE_INVOKE);
        // the operator token passes: the route answers (unknown model)
        assertThat(get(anonymous, "/v2/models/cls", Optional.of(OPERATOR)).statusCode()).isEqualTo(404);
        // health of the inference role and observe stay open for probes
        assertThat(get(anonymous, "/v2/health/live", Optional.empty()).statusCode()).isEqualTo(200);
        assertThat(get(anonymous, "/observe/health", Optional.empty()).statusCode()).isEqualTo(200);
    }

    @Test
    void a_device_certificate_is_enough_for_sync_and_inference_without_a_token() throws Exception {
        HttpClient device = client(Device.issue(cp.certificateAuthority(), "plant-7", "cam-1").context());
        assertThat(get(device, "/sync/v1/manifests/cls/1", Optional.empty()).statusCode()).isEqualTo(404);
        assertThat(get(device, "/v2/models/cls", Optional.empty()).statusCode()).isEqualTo(404);
        // but not the operator API
        assertThat(get(device, "/api/v1/devices", Optional.empty()).statusCode()).isEqualTo(401);
        // a certificate naming the same device from another CA: the server lists only the device CA as acceptable issuer, so
        // JSSE does not even offer it (or the handshake fails if it did): the request is anonymous and refused
        Device stranger = Device.issue(CertificateAuthority.create("rogue", Duration.ofDays(1)), "plant-7", "cam-1");
        try {
            HttpResponse<String> r = get(client(stranger.context()), "/v2/models/cls", Optional.empty());
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(r.body()).doesNotContain("plant-7/cam-1");
        } catch (javax.net.ssl.SSLException refusedInHandshake) {
            assertThat(refusedInHandshake).hasMessageContaining("certificate");
        }
    }

    @Test
    void a_revoked_certificate_is_refused_at_every_endpoint_also_on_a_connection_opened_before() throws Exception {
        Device d = Device.issue(cp.certificateAuthority(), "plant-7", "cam-2");
        HttpClient device = client(d.context()); // keeps its connection open between requests
        assertThat(get(device, "/sync/v1/manifests/cls/1", Optional.empty()).statusCode()).isEqualTo(404);
        REVOKED.add(d.certificate().getSerialNumber());
        try {
            for (String path : List.of("/sync/v1/manifests/cls/1", "/v2/models/cls", "/api/v1", "/observe/health")) {
                HttpResponse<String> r = get(device, path, Optional.of(OPERATOR)); // a valid token does not rescue a revoked certificate
                assertThat(r.statusCode()).as(path).isEqualTo(401);
                assertThat(r.body()).contains("revoked").contains("plant-7/cam-2");
            }
            // another device is unaffected
            HttpClient other = client(Device.issue(cp.certificateAuthority(), "plant-7", "cam-3").context());
            assertThat(get(other, "/sync/v1/manifests/cls/1", Optional.empty()).statusCode()).isEqualTo(404);
        } finally {
            REVOKED.remove(d.certificate().getSerialNumber());
        }
    }

    @Test
    void the_verified_device_identity_reaches_the_handler() throws Exception {
        // the control plane's own TLS setup and filter, with one route that shows what the handler sees
        CertificateAuthority ca = cp.certificateAuthority();
        ServerCertificate cert = ServerCertificate.loadOrIssue(Files.createDirectories(dir.resolve("echo")), ca, List.of());
        WebServer echo = WebServer.builder().host("127.0.0.1").port(0).shutdownHook(false)
                .tls(t -> t.privateKey(cert.key()).privateKeyCertChain(cert.chain()).trust(List.of(ca.certificate()))
                        .clientAuth(TlsClientAuth.OPTIONAL).endpointIdentificationAlgorithm(io.helidon.common.tls.Tls.ENDPOINT_IDENTIFICATION_NONE))
                .routing(r -> r.addFilter(new CallerFilter(Optional.empty(), REVOKED::contains))
                        .get("/v2/whoami", (req, res) -> res.send(req.context().get(Principal.class).map(p -> p.name() + " "
                                + p.device().map(Identity::fleet).flatMap(f -> f).orElse("-") + " " + p.serial().orElseThrow()).orElse("nobody"))))
                .build().start();
        try {
            Device d = Device.issue(ca, "plant-9", "cam-7");
            HttpResponse<String> r = client(d.context()).send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + echo.port() + "/v2/whoami"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("plant-9/cam-7 plant-9 " + d.certificate().getSerialNumber());
        } finally {
            echo.stop();
        }
    }

    @Test
    void an_operator_certificate_from_pem_files_is_served_instead_of_the_embedded_one() throws Exception {
        CertificateAuthority company = CertificateAuthority.create("company CA", Duration.ofDays(30));
        KeyPair kp = KeyPairs.ecP256();
        Path files = Files.createDirectories(dir.resolve("operator"));
        io.edgefleet.transport.pki.Pem.writePublic(files.resolve("cert.pem"), io.edgefleet.transport.pki.Pem.write(
                company.issueServer(kp.getPublic(), Identity.service("cloud-control"), List.of("127.0.0.1"), Duration.ofDays(1))));
        io.edgefleet.transport.pki.Pem.writePrivate(files.resolve("key.pem"), io.edgefleet.transport.pki.Pem.write(kp.getPrivate()));
        try (ControlPlane own = ControlPlane.start(CloudTestSupport.tlsConfig(dir.resolve("cloud2"))
                .withHttpTls(io.edgefleet.cloud.tls.HttpTls.files(files.resolve("cert.pem"), files.resolve("key.pem"))))) {
            CloudClient ops = new CloudClient(own.baseUri(), Optional.of(OPERATOR), Optional.of(TlsContexts.trusting(List.of(company.certificate()))));
            assertThat(ops.get("/api/v1").status()).isEqualTo(200);
            CloudClient embeddedTrust = new CloudClient(own.baseUri(), Optional.of(OPERATOR),
                    Optional.of(CloudClient.trusting(dir.resolve("cloud2/pki/ca.pem"))));
            assertThatThrownBy(() -> embeddedTrust.get("/api/v1")).hasCauseInstanceOf(SSLHandshakeException.class);
        }
    }
}
