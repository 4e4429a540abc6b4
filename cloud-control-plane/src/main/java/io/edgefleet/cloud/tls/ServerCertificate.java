package io.edgefleet.cloud.tls;

import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The HTTP listener's key and certificate chain (leaf first), from the operator's PEM files or
 * issued by the control plane's CA and kept in {@code pki/server.pem} + {@code pki/server-key.pem}
 * (mode 0600). The embedded certificate names the identity {@code cloud-control}, is valid for
 * {@link #VALIDITY} and is reissued when it is missing, expires within {@link #RENEW_BEFORE}, was
 * issued by another CA, or does not name every host.
 *
 * @param key the private key
 * @param chain leaf first
 */
public record ServerCertificate(PrivateKey key, List<X509Certificate> chain) {
    public static final Duration VALIDITY = Duration.ofDays(365);
    public static final Duration RENEW_BEFORE = Duration.ofDays(30);
    static final String CERT_FILE = "server.pem";
    static final String KEY_FILE = "server-key.pem";
    private static final System.Logger LOG = System.getLogger(ServerCertificate.class.getName());

    public ServerCertificate {
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a server certificate chain needs at least the leaf");
        }
    }

    /** The operator's certificate chain and PKCS#8 key. */
    public static ServerCertificate fromFiles(Path certificate, Path key) {
        List<X509Certificate> chain = Pem.certificates(Pem.read(certificate));
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("cloud.http.tls.certificate " + certificate + " holds no certificate");
        }
        return new ServerCertificate(Pem.privateKey(Pem.read(key)), chain);
    }

    /**
     * The certificate in {@code dir} if it still fits, otherwise a new one from {@code ca} (a new
     * P-256 key made here), saved to {@code dir}.
     *
     * @param hosts DNS names / IP addresses it must name; 127.0.0.1 and localhost are always added
     */
    public static ServerCertificate loadOrIssue(Path dir, CertificateAuthority ca, List<String> hosts) {
        Set<String> want = new LinkedHashSet<>(List.of("127.0.0.1", "localhost"));
        hosts.stream().filter(h -> !h.isBlank() && !h.equals("0.0.0.0") && !h.equals("::")).forEach(want::add);
        Path cert = dir.resolve(CERT_FILE);
        Path key = dir.resolve(KEY_FILE);
        if (Files.exists(cert) && Files.exists(key)) {
            ServerCertificate existing = fromFiles(cert, key);
            if (fits(existing.chain().get(0), ca, want)) {
                return existing;
            }
            LOG.log(System.Logger.Level.INFO, "reissuing the HTTP server certificate in {0} (expiring, another CA or other hosts)", dir);
        }
        KeyPair kp = KeyPairs.ecP256();
        X509Certificate leaf = ca.issueServer(kp.getPublic(), Identity.service("cloud-control"), List.copyOf(want), VALIDITY);
        Pem.writePrivate(key, Pem.write(kp.getPrivate()));
        Pem.writePublic(cert, Pem.write(leaf));
        return new ServerCertificate(kp.getPrivate(), List.of(leaf));
    }

    private static boolean fits(X509Certificate leaf, CertificateAuthority ca, Set<String> want) {
        try {
            leaf.verify(ca.certificate().getPublicKey());
        } catch (java.security.GeneralSecurityException e) {
            return false;
        }
        if (leaf.getNotAfter().toInstant().isBefore(Instant.now().plus(RENEW_BEFORE))) {
            return false;
        }
        return sans(leaf).containsAll(want.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList());
    }

    private static Set<String> sans(X509Certificate leaf) {
        Set<String> out = new LinkedHashSet<>();
        try {
            var names = leaf.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> n : names) {
                    out.add(String.valueOf(n.get(1)).toLowerCase(Locale.ROOT));
                }
            }
        } catch (CertificateParsingException e) {
            return Set.of();
        }
        return out;
    }

    /** The hosts an embedded certificate should name for a listener bound to {@code httpHost}. */
    public static List<String> hostsFor(String httpHost, List<String> extra) {
        List<String> out = new ArrayList<>();
        out.add(httpHost);
        out.addAll(extra);
        return out;
    }
}
