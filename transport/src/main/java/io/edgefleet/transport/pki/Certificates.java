package io.edgefleet.transport.pki;

import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/** Reading names out of certificates and requests. Stateless; any thread. */
public final class Certificates {
    private Certificates() {
    }

    /** The subject common name of {@code cert}, if it has one. */
    public static Optional<String> commonName(X509Certificate cert) {
        try {
            return commonName(new JcaX509CertificateHolder(cert).getSubject());
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("unreadable certificate: " + e.getMessage(), e);
        }
    }

    /** The subject common name a CSR asks for, if any. */
    public static Optional<String> commonName(PKCS10CertificationRequest csr) {
        return commonName(csr.getSubject());
    }

    /**
     * The EdgeFleet identity {@code cert} names (its CN).
     *
     * @throws IllegalArgumentException when the certificate names no EdgeFleet identity
     */
    public static Identity identity(X509Certificate cert) {
        return Identity.parse(commonName(cert).orElseThrow(() -> new IllegalArgumentException("certificate without a common name")));
    }

    static Optional<String> commonName(X500Name name) {
        RDN[] cns = name.getRDNs(BCStyle.CN);
        if (cns.length == 0) {
            return Optional.empty();
        }
        var value = cns[0].getFirst().getValue();
        return Optional.of(value instanceof org.bouncycastle.asn1.ASN1String s ? s.getString() : IETFUtils.valueToString(value));
    }

    static String signatureAlgorithm(PrivateKey key) {
        return switch (key.getAlgorithm()) {
            case "EC", "ECDSA" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> throw new IllegalArgumentException("unsupported key algorithm " + key.getAlgorithm());
        };
    }
}
