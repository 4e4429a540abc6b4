package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.identity.AgentIdentity;
import io.edgefleet.agent.identity.EnrolmentSettings;
import io.edgefleet.cloud.pki.PkiSettings;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.Pem;
import io.edgefleet.transport.pki.TlsContexts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renewal with short-lived certificates (10 s): the agent renews at 2/3 of the lifetime, keeps its
 * current certificate while the control plane is away (503) and retries, and after the first
 * certificate has expired still completes a real mutual TLS handshake as the same identity.
 */
class CertificateRenewalTest {
    @TempDir
    Path dir;

    @Test
    void an_agent_renews_before_expiry_through_an_outage_and_stays_its_identity_on_mutual_tls() throws Exception {
        Duration validity = Duration.ofSeconds(10);
        try (ControlPlane cp = ControlPlane.start(CloudTestSupport.config(dir.resolve("cloud")).withPki(PkiSettings.defaults().withDeviceValidity(validity)));
                RecordingProxy proxy = new RecordingProxy(java.net.URI.create("http://127.0.0.1:" + cp.port()))) {
            String token = client(cp, OPERATOR).post("/api/v1/enrolment-tokens", Map.of("fleet", "lab", "device", "r2")).json().path("token").asText();
            EnrolmentSettings s = EnrolmentSettings.of(proxy.uri(), Optional.of(token)).withRetry(Duration.ofMillis(100), Duration.ofMillis(400));
            try (AgentIdentity id = AgentIdentity.open(dir.resolve("identity"), "lab", "r2", s, Clock.systemUTC())) {
                X509Certificate first = id.certificate();
                SSLContext firstContext = id.sslContext();
                Instant firstExpiry = first.getNotAfter().toInstant();
                assertThat(id.renewAt()).isBefore(firstExpiry);
                List<Instant> renewedAt = new CopyOnWriteArrayList<>();
                id.onRenewed(c -> renewedAt.add(Instant.now()));

                proxy.down.set(true); // the control plane is away when renewal falls due
                id.start();
                awaitUntil(Duration.ofSeconds(20), "two failed renewal attempts", () -> proxy.to("/api/v1/certificates/renew").size() >= 2);
                assertThat(id.certificate()).isEqualTo(first);
                assertThat(id.sslContext()).isSameAs(firstContext);
                assertThat(Pem.certificates(Files.readString(dir.resolve("identity/cert.pem")))).containsExactly(first);

                proxy.down.set(false);
                // the listeners hear of it right after the swap, on the renewing thread
                awaitUntil(Duration.ofSeconds(20), "a renewed certificate, announced", () -> !id.certificate().equals(first) && !renewedAt.isEmpty());
                X509Certificate second = id.certificate();
                assertThat(renewedAt).isNotEmpty();
                assertThat(renewedAt.getFirst()).isBefore(firstExpiry);
                assertThat(second.getNotAfter()).isAfter(first.getNotAfter());
                assertThat(second.getPublicKey()).isEqualTo(first.getPublicKey());
                assertThat(Pem.certificates(Files.readString(dir.resolve("identity/cert.pem")))).containsExactly(second);
                assertThat(proxy.to("/api/v1/certificates/renew")).anySatisfy(e -> assertThat(e.status()).isEqualTo(201));

                // once the first certificate has expired, the agent's current context still authenticates it
                while (Instant.now().isBefore(firstExpiry.plusMillis(200))) {
                    Thread.sleep(100);
                }
                assertThat(handshake(cp, id.sslContexts().get())).isEqualTo(Identity.device("lab", "r2"));
                assertThat(cp.pki().current(Identity.device("lab", "r2"))).extracting(X509Certificate::getSerialNumber)
                        .contains(id.certificate().getSerialNumber()).doesNotContain(first.getSerialNumber());
            }
        }
    }

    /** A real TLS 1.3 server needing a client certificate from the control plane's CA; returns who the client proved to be. */
    static Identity handshake(ControlPlane cp, SSLContext client) throws Exception {
        KeyPair serverKeys = KeyPairs.ecP256();
        X509Certificate serverCert = cp.pki().authority().issueServer(serverKeys.getPublic(), Identity.service("test-server"), List.of("127.0.0.1"),
                Duration.ofMinutes(5));
        SSLContext server = TlsContexts.of(serverKeys.getPrivate(), List.of(serverCert), List.of(cp.pki().authority().certificate()));
        var pool = Executors.newVirtualThreadPerTaskExecutor();
        try (SSLServerSocket ss = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 1,
                java.net.InetAddress.getLoopbackAddress())) {
            ss.setNeedClientAuth(true);
            Future<Optional<Identity>> peer = pool.submit(() -> {
                try (SSLSocket s = (SSLSocket) ss.accept()) {
                    s.startHandshake();
                    return TlsContexts.peer(s.getSession());
                }
            });
            try (SSLSocket c = (SSLSocket) client.getSocketFactory().createSocket(ss.getInetAddress(), ss.getLocalPort())) {
                c.startHandshake();
                c.getOutputStream().flush();
            }
            return peer.get(10, java.util.concurrent.TimeUnit.SECONDS).orElseThrow();
        } finally {
            pool.shutdownNow();
        }
    }

    static void awaitUntil(Duration timeout, String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

}
