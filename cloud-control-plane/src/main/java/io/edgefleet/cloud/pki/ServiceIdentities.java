package io.edgefleet.cloud.pki;

import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The control plane's own certificates from its CA, made on first start and remade when a third
 * of their life is left: {@code cloud-control} (its MQTT identity for commands, state and acks, and
 * the key that signs commands), {@code cloud-ingest} (telemetry). Each is
 * {@code pki/services/NAME.pem} with {@code NAME-key.pem} (mode 0600), next to {@code ca.pem}, the CA
 * they trust. Service names never name a
 * device ({@link Identity}: no slash), so no enrolment can obtain one.
 */
public final class ServiceIdentities {
    /** The services whose identities {@link #ensure} keeps. */
    public static final List<String> SERVICES = List.of("cloud-control", "cloud-ingest");
    static final Duration VALIDITY = Duration.ofDays(365);

    private ServiceIdentities() {
    }

    /** The folder of the service certificates under a control plane's {@code pki} folder. */
    public static Path folder(Path pkiDir) {
        return pkiDir.resolve("services");
    }

    public static Path certificate(Path pkiDir, String service) {
        return folder(pkiDir).resolve(service + ".pem");
    }

    public static Path key(Path pkiDir, String service) {
        return folder(pkiDir).resolve(service + "-key.pem");
    }

    /** Issues (or re-issues, when missing, from another CA, or within a third of their life of expiry) every service's certificate. */
    public static void ensure(CertificateAuthority ca, Path pkiDir) {
        // the CA the services trust (the broker's certificate comes from it), also with an operator's CA
        Pem.writePublic(folder(pkiDir).resolve("ca.pem"), Pem.write(ca.certificate()));
        for (String s : SERVICES) {
            Path cert = certificate(pkiDir, s);
            if (Files.exists(cert) && Files.exists(key(pkiDir, s)) && fresh(ca, Pem.certificates(Pem.read(cert)))) {
                continue;
            }
            KeyPair keys = KeyPairs.ecP256();
            X509Certificate c = ca.issueServer(keys.getPublic(), Identity.service(s), List.of("localhost", "127.0.0.1"), VALIDITY);
            Pem.writePrivate(key(pkiDir, s), Pem.write(keys.getPrivate()));
            Pem.writePublic(cert, Pem.write(c, ca.certificate()));
        }
    }

    private static boolean fresh(CertificateAuthority ca, List<X509Certificate> chain) {
        if (chain.isEmpty()) {
            return false;
        }
        X509Certificate c = chain.get(0);
        try {
            c.verify(ca.certificate().getPublicKey());
        } catch (java.security.GeneralSecurityException e) {
            return false;
        }
        long life = c.getNotAfter().getTime() - c.getNotBefore().getTime();
        return Instant.now().plusMillis(life / 3).isBefore(c.getNotAfter().toInstant());
    }
}
