package io.edgefleet.transport.pki;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;

/**
 * Proof that a caller holds the private key of a certificate, without TLS: a signature over bytes
 * the verifier chooses to bind (for renewal: the new CSR's DER encoding), with the algorithm
 * {@link Certificates}' signature algorithm for the key (SHA256withECDSA for P-256). Stateless; any thread.
 */
public final class Possession {
    private Possession() {
    }

    /** Signs {@code data} with {@code key}. */
    public static byte[] sign(PrivateKey key, byte[] data) {
        try {
            Signature s = Signature.getInstance(Certificates.signatureAlgorithm(key));
            s.initSign(key);
            s.update(data);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with this key: " + e.getMessage(), e);
        }
    }

    /** Whether {@code signature} over {@code data} verifies with {@code cert}'s public key; false for any malformed input. */
    public static boolean verifies(X509Certificate cert, byte[] data, byte[] signature) {
        PublicKey pub = cert.getPublicKey();
        String alg = switch (pub.getAlgorithm()) {
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (alg == null) {
            return false;
        }
        try {
            Signature s = Signature.getInstance(alg);
            s.initVerify(pub);
            s.update(data);
            return s.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }
}
