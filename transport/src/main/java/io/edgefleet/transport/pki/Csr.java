package io.edgefleet.transport.pki;

import java.security.KeyPair;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * PKCS#10 certification requests (RFC 2986), signed with the requester's own key as proof that it
 * holds it. The private key never leaves the caller; only the request (public key, asked-for name,
 * signature) is sent.
 */
public final class Csr {
    private Csr() {
    }

    /** A request for {@code identity}'s certificate over {@code keys}' public key, signed SHA256withECDSA. */
    public static PKCS10CertificationRequest create(KeyPair keys, Identity identity) {
        try {
            return new JcaPKCS10CertificationRequestBuilder(subject(identity), keys.getPublic())
                    .build(new JcaContentSignerBuilder(Certificates.signatureAlgorithm(keys.getPrivate())).build(keys.getPrivate()));
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot sign a CSR with this key: " + e.getMessage(), e);
        }
    }

    /** The subject EdgeFleet certificates carry: {@code CN=<identity>, OU=devices|services, O=EdgeFleet}. */
    static X500Name subject(Identity identity) {
        return new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.O, Identity.ORGANISATION)
                .addRDN(BCStyle.OU, identity.isDevice() ? "devices" : "services")
                .addRDN(BCStyle.CN, identity.commonName())
                .build();
    }
}
