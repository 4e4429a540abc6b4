package io.edgefleet.transport.pki;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * An X.509 certificate authority (RFC 5280) for EdgeFleet identities: a self-signed root made here
 * (or an operator's CA certificate and key given as PEM), which issues device certificates from
 * PKCS#10 requests, server/service certificates, and CRLs. Every certificate it issues names an
 * {@link Identity} in its subject CN whatever the request asked for: the caller (the enrolment
 * service) decides the identity, the request only proves possession of the key. Serial numbers
 * are 159 random bits. Thread-safe: the state is immutable.
 */
public final class CertificateAuthority {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Issued certificates start this long in the past, for devices whose clocks run a little behind. */
    static final Duration BACKDATE = Duration.ofMinutes(5);

    private final X509Certificate certificate;
    private final PrivateKey key;

    private CertificateAuthority(X509Certificate certificate, PrivateKey key) {
        this.certificate = Objects.requireNonNull(certificate, "certificate");
        this.key = Objects.requireNonNull(key, "key");
    }

    /** A new self-signed root CA named {@code CN=<name>, O=EdgeFleet}, with a fresh P-256 key, valid for {@code validity}. */
    public static CertificateAuthority create(String name, Duration validity) {
        KeyPair kp = KeyPairs.ecP256();
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, Identity.ORGANISATION).addRDN(BCStyle.CN, name).build();
        Instant now = Instant.now();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(BACKDATE)),
                    Date.from(now.plus(validity)), subject, kp.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            return new CertificateAuthority(Pem.certificate(b.build(signer(kp.getPrivate()))), kp.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot create a CA: " + e.getMessage(), e);
        }
    }

    /** An existing CA from its certificate and private key (an operator's, or one saved by {@link #save}). */
    public static CertificateAuthority of(X509Certificate certificate, PrivateKey key) {
        return new CertificateAuthority(certificate, key);
    }

    /** Loads {@code ca.pem} and {@code ca-key.pem} from {@code dir}. */
    public static CertificateAuthority load(Path dir) {
        List<X509Certificate> certs = Pem.certificates(Pem.read(dir.resolve("ca.pem")));
        if (certs.isEmpty()) {
            throw new IllegalArgumentException(dir.resolve("ca.pem") + " holds no certificate");
        }
        return new CertificateAuthority(certs.get(0), Pem.privateKey(Pem.read(dir.resolve("ca-key.pem"))));
    }

    /** Loads the CA in {@code dir}, or creates one named {@code name} there (key file mode 0600) if there is none. */
    public static CertificateAuthority loadOrCreate(Path dir, String name, Duration validity) {
        if (Files.exists(dir.resolve("ca.pem"))) {
            return load(dir);
        }
        CertificateAuthority ca = create(name, validity);
        ca.save(dir);
        return ca;
    }

    /** Writes {@code ca.pem} (public) and {@code ca-key.pem} (mode 0600) to {@code dir}. */
    public void save(Path dir) {
        Pem.writePrivate(dir.resolve("ca-key.pem"), Pem.write(key));
        Pem.writePublic(dir.resolve("ca.pem"), Pem.write(certificate));
    }

    /** The CA certificate: the trust anchor agents, brokers and servers are given. */
    public X509Certificate certificate() {
        return certificate;
    }

    /**
     * Issues {@code identity}'s client certificate for the key in {@code csr}.
     *
     * @param csr a PKCS#10 request; its signature must verify with its own public key (proof of possession)
     * @param identity who the certificate names (decided by the caller, not by the request's subject)
     * @param validity how long from now it is valid
     * @throws IllegalArgumentException when the request's signature does not verify
     */
    public X509Certificate issue(PKCS10CertificationRequest csr, Identity identity, Duration validity) {
        PublicKey pub;
        try {
            JcaPKCS10CertificationRequest r = new JcaPKCS10CertificationRequest(csr);
            pub = r.getPublicKey();
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(pub))) {
                throw new IllegalArgumentException("the CSR's signature does not verify with its own public key");
            }
        } catch (GeneralSecurityException | OperatorCreationException | PKCSException e) {
            throw new IllegalArgumentException("unusable CSR: " + e.getMessage(), e);
        }
        return issue(pub, identity, validity, List.of(), false);
    }

    /**
     * Issues a certificate for a server or service of the control plane (or a broker): usable for
     * TLS server and client authentication, with the DNS names and IP addresses as subject
     * alternative names (RFC 6125 host checks use them, not the CN).
     */
    public X509Certificate issueServer(PublicKey key, Identity identity, List<String> hosts, Duration validity) {
        return issue(key, identity, validity, hosts, true);
    }

    private X509Certificate issue(PublicKey pub, Identity identity, Duration validity, List<String> hosts, boolean server) {
        Instant now = Instant.now();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(), Date.from(now.minus(BACKDATE)),
                    Date.from(now.plus(validity)), Csr.subject(identity), pub)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement))
                    .addExtension(Extension.extendedKeyUsage, false, server
                            ? new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth})
                            : new ExtendedKeyUsage(KeyPurposeId.id_kp_clientAuth))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pub))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
            if (!hosts.isEmpty()) {
                List<GeneralName> names = new ArrayList<>();
                for (String h : hosts) {
                    names.add(isIp(h) ? new GeneralName(GeneralName.iPAddress, h) : new GeneralName(GeneralName.dNSName, h));
                }
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            }
            return Pem.certificate(b.build(signer(key)));
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot issue a certificate: " + e.getMessage(), e);
        }
    }

    /**
     * A CRL (RFC 5280 section 5) listing {@code revoked} (serial number to revocation time), valid
     * until {@code now + nextUpdate}.
     */
    public X509CRL crl(Map<BigInteger, Instant> revoked, Duration nextUpdate) {
        Instant now = Instant.now();
        try {
            X509v2CRLBuilder b = new X509v2CRLBuilder(new X509CertificateHolder(certificate.getEncoded()).getSubject(), Date.from(now));
            b.setNextUpdate(Date.from(now.plus(nextUpdate)));
            revoked.forEach((serial, at) -> b.addCRLEntry(serial, Date.from(at), CRLReason.privilegeWithdrawn));
            b.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(certificate));
            return new JcaX509CRLConverter().getCRL(b.build(signer(key)));
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot sign a CRL: " + e.getMessage(), e);
        }
    }

    private static ContentSigner signer(PrivateKey key) {
        try {
            return new JcaContentSignerBuilder(Certificates.signatureAlgorithm(key)).build(key);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(159, RANDOM);
    }

    private static boolean isIp(String host) {
        if (!host.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) {
            return false;
        }
        try {
            InetAddress.getByName(host);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
