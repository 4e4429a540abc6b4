package io.edgefleet.transport.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CA issues what a CSR proves and the caller decides; the contexts it feeds complete a real mutual TLS handshake. */
class CertificateAuthorityTest {
    @TempDir
    Path dir;

    @Test
    void a_device_certificate_names_the_identity_the_caller_decides_and_verifies_against_the_ca() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("EdgeFleet test CA", Duration.ofDays(1));
        KeyPair keys = KeyPairs.ecP256();
        // The request asks to be someone else: the CA names whom the caller says.
        PKCS10CertificationRequest csr = Pem.csr(Pem.write(Csr.create(keys, Identity.device("plant-1", "other"))));
        X509Certificate cert = ca.issue(csr, Identity.device("plant-1", "cam-7"), Duration.ofHours(1));
        cert.verify(ca.certificate().getPublicKey());
        assertThat(Certificates.identity(cert)).isEqualTo(Identity.device("plant-1", "cam-7"));
        assertThat(cert.getPublicKey()).isEqualTo(keys.getPublic());
        assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(ca.certificate().getBasicConstraints()).isZero();
    }

    @Test
    void a_request_signed_by_another_key_is_refused() {
        CertificateAuthority ca = CertificateAuthority.create("ca", Duration.ofDays(1));
        KeyPair mine = KeyPairs.ecP256();
        KeyPair stolen = KeyPairs.ecP256();
        PKCS10CertificationRequest good = Csr.create(mine, Identity.device("f", "d"));
        // The public key of one pair with the signature of another: no proof of possession.
        PKCS10CertificationRequest forged = new org.bouncycastle.pkcs.PKCS10CertificationRequest(
                new org.bouncycastle.asn1.pkcs.CertificationRequest(good.toASN1Structure().getCertificationRequestInfo(),
                        good.getSignatureAlgorithm(), Csr.create(stolen, Identity.device("f", "d")).toASN1Structure().getSignature()));
        assertThatThrownBy(() -> ca.issue(forged, Identity.device("f", "d"), Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not verify");
    }

    @Test
    void the_ca_key_is_saved_owner_only_and_loads_back() throws Exception {
        CertificateAuthority ca = CertificateAuthority.loadOrCreate(dir.resolve("ca"), "ca", Duration.ofDays(1));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca/ca-key.pem")))).isEqualTo("rw-------");
        CertificateAuthority again = CertificateAuthority.loadOrCreate(dir.resolve("ca"), "ca", Duration.ofDays(1));
        assertThat(again.certificate()).isEqualTo(ca.certificate());
        X509Certificate leaf = again.issue(Csr.create(KeyPairs.ecP256(), Identity.service("x")), Identity.service("x"), Duration.ofHours(1));
        leaf.verify(ca.certificate().getPublicKey());
    }

    @Test
    void a_crl_lists_the_revoked_serials_and_is_signed_by_the_ca() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("ca", Duration.ofDays(1));
        X509Certificate leaf = ca.issue(Csr.create(KeyPairs.ecP256(), Identity.device("f", "d")), Identity.device("f", "d"), Duration.ofHours(1));
        X509CRL crl = ca.crl(Map.of(leaf.getSerialNumber(), Instant.now()), Duration.ofHours(1));
        crl.verify(ca.certificate().getPublicKey());
        assertThat(crl.isRevoked(leaf)).isTrue();
        assertThat(crl.getRevokedCertificate(BigInteger.ONE)).isNull();
        assertThat(Pem.write(crl)).startsWith("-----BEGIN X509 CRL-----");
    }

    @Test
    void mutual_tls_handshake_names_the_client_and_refuses_a_client_of_another_ca() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("ca", Duration.ofDays(1));
        KeyPair serverKeys = KeyPairs.ecP256();
        X509Certificate server = ca.issueServer(serverKeys.getPublic(), Identity.service("cloud-control"), List.of("127.0.0.1", "localhost"),
                Duration.ofHours(1));
        KeyPair deviceKeys = KeyPairs.ecP256();
        X509Certificate device = ca.issue(Csr.create(deviceKeys, Identity.device("plant-1", "cam-7")), Identity.device("plant-1", "cam-7"),
                Duration.ofHours(1));
        var serverCtx = TlsContexts.of(serverKeys.getPrivate(), List.of(server), List.of(ca.certificate()));
        try (SSLServerSocket ss = (SSLServerSocket) serverCtx.getServerSocketFactory().createServerSocket(0, 1,
                java.net.InetAddress.getLoopbackAddress())) {
            ss.setNeedClientAuth(true);
            var accepted = new java.util.concurrent.CompletableFuture<String>();
            Thread t = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 2; i++) {
                    try (SSLSocket s = (SSLSocket) ss.accept()) {
                        s.startHandshake();
                        accepted.complete(TlsContexts.peer(s.getSession()).map(Identity::commonName).orElse("none"));
                        s.getOutputStream().write(1);
                    } catch (Exception e) {
                        // the stranger's handshake fails here too
                    }
                }
            });
            var good = TlsContexts.of(deviceKeys.getPrivate(), List.of(device), List.of(ca.certificate()));
            try (SSLSocket c = (SSLSocket) good.getSocketFactory().createSocket("127.0.0.1", ss.getLocalPort())) {
                c.startHandshake();
                assertThat(c.getInputStream().read()).isEqualTo(1);
            }
            assertThat(accepted.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("plant-1/cam-7");
            CertificateAuthority other = CertificateAuthority.create("other", Duration.ofDays(1));
            KeyPair k = KeyPairs.ecP256();
            X509Certificate stranger = other.issue(Csr.create(k, Identity.device("plant-1", "cam-7")), Identity.device("plant-1", "cam-7"),
                    Duration.ofHours(1));
            var bad = TlsContexts.of(k.getPrivate(), List.of(stranger), List.of(ca.certificate()));
            assertThatThrownBy(() -> {
                try (SSLSocket c = (SSLSocket) bad.getSocketFactory().createSocket("127.0.0.1", ss.getLocalPort())) {
                    c.startHandshake();
                    // TLS 1.3: the server's refusal of the client certificate arrives on the first read
                    if (c.getInputStream().read() < 0) {
                        throw new javax.net.ssl.SSLException("closed");
                    }
                }
            }).isInstanceOf(java.io.IOException.class);
            t.join(30_000);
        }
    }

    @Test
    void identities_round_trip_through_the_common_name_and_bad_ones_are_refused() {
        assertThat(Identity.parse("plant-1/cam-7")).isEqualTo(Identity.device("plant-1", "cam-7"));
        assertThat(Identity.parse("cloud-control")).isEqualTo(Identity.service("cloud-control"));
        assertThatThrownBy(() -> Identity.parse("a/b/c")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Identity.parse("+/#")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Identity.parse("")).isInstanceOf(IllegalArgumentException.class);
    }
}
