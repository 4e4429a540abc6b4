package io.edgefleet.transport.pki;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

/** Key pairs for EdgeFleet identities: ECDSA on NIST P-256 (secp256r1), which every TLS 1.2/1.3 and DTLS 1.2 peer here speaks. */
public final class KeyPairs {
    private KeyPairs() {
    }

    /** A fresh P-256 key pair from the JDK's provider and its default strong random source. */
    public static KeyPair ecP256() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no EC P-256 in this JDK", e);
        }
    }
}
