package io.edgefleet.transport.pki;

import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;

/**
 * JSSE {@link SSLContext}s from PEM-loaded keys and certificates, with no key store file on disk:
 * a key and its chain as the local identity (optional for a client), and the CA certificates to
 * trust (PKIX path validation, the JDK's default). Protocol: "TLS" (TLS 1.3 and 1.2 as the JDK
 * negotiates). Stateless; any thread.
 */
public final class TlsContexts {
    private static final char[] NO_PASSWORD = new char[0];

    private TlsContexts() {
    }

    /**
     * A context presenting {@code chain} (leaf first) with {@code key}, trusting {@code trusted}.
     *
     * @param key the leaf's private key
     * @param chain the leaf certificate, then any intermediates
     * @param trusted the CA certificates whose issued peers are accepted
     */
    public static SSLContext of(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trusted) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            // The store lives only in memory for the key manager to read: PKCS#12's default 10,000 PBKDF2
            // iterations (twice: store, then read back) protect nothing here and cost tens of ms per
            // context, seconds under load for a bench's 1,000 device contexts; one iteration.
            byte[] salt = new byte[16];
            new java.security.SecureRandom().nextBytes(salt);
            ks.setEntry("identity", new KeyStore.PrivateKeyEntry(key, chain.toArray(Certificate[]::new)),
                    new KeyStore.PasswordProtection(NO_PASSWORD, "PBEWithHmacSHA256AndAES_256", new javax.crypto.spec.PBEParameterSpec(salt, 1)));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, NO_PASSWORD);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), trustManagers(trusted), null);
            return ctx;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build a TLS context: " + e.getMessage(), e);
        }
    }

    /** A client context with no certificate of its own, trusting {@code trusted}. */
    public static SSLContext trusting(List<X509Certificate> trusted) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, trustManagers(trusted), null);
            return ctx;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot build a TLS context: " + e.getMessage(), e);
        }
    }

    /** The identity the peer's verified certificate names, if it sent one that names an EdgeFleet identity. */
    public static Optional<Identity> peer(SSLSession session) {
        try {
            Certificate[] certs = session.getPeerCertificates();
            if (certs.length == 0 || !(certs[0] instanceof X509Certificate leaf)) {
                return Optional.empty();
            }
            return Optional.of(Certificates.identity(leaf));
        } catch (SSLPeerUnverifiedException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static javax.net.ssl.TrustManager[] trustManagers(List<X509Certificate> trusted) throws GeneralSecurityException, java.io.IOException {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        int i = 0;
        for (X509Certificate c : trusted) {
            ts.setCertificateEntry("ca-" + i++, c);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        return tmf.getTrustManagers();
    }
}
