package io.edgefleet.transport.signing;

import io.edgefleet.transport.pki.Identity;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The control plane's check that a device message comes from the identity its topic names: the
 * signature ({@link SenderSignature}) must verify over the topic and the exact payload bytes with
 * the public key of a certificate that {@link DeviceCertificates} lists for that identity, is not
 * revoked and is valid now. A device that signs with its own key on another device's topic is
 * refused as {@link Refusal#FOREIGN_CERTIFICATE}: its serial is not among the named identity's.
 * Thread-safe; called on MQTT callback threads.
 */
public final class SenderVerifier {
    private final DeviceCertificates certificates;

    public SenderVerifier(DeviceCertificates certificates) {
        this.certificates = java.util.Objects.requireNonNull(certificates, "certificates");
    }

    /** Whether {@code identity} holds at least one certificate (revoked or not): it went through enrolment. */
    public boolean enrolled(Identity identity) {
        return !certificates.certificates(identity).isEmpty();
    }

    /**
     * Checks one message.
     *
     * @param claimed the identity the topic names ({@code fleet/device})
     * @param topic the topic it was published on, exactly
     * @param payload the payload bytes, exactly as received
     * @param userProperties the PUBLISH's MQTT 5 user properties, in order
     * @param now the time against which the certificate's validity is checked
     */
    public Verdict verify(Identity claimed, String topic, byte[] payload, List<Map.Entry<String, String>> userProperties, Instant now) {
        Optional<SenderSignature> sig;
        try {
            sig = SenderSignature.fromUserProperties(userProperties);
        } catch (IllegalArgumentException e) {
            return Verdict.refused(Refusal.MALFORMED, "signature of a message on " + topic + " unreadable: " + e.getMessage());
        }
        if (sig.isEmpty()) {
            return Verdict.refused(Refusal.UNSIGNED, "message on " + topic + " carries no signature");
        }
        List<DeviceCertificates.Entry> certs = certificates.certificates(claimed);
        if (certs.isEmpty()) {
            return Verdict.refused(Refusal.NOT_ENROLLED, claimed + " is not enrolled");
        }
        Optional<DeviceCertificates.Entry> cert = certs.stream()
                .filter(c -> c.certificate().getSerialNumber().equals(sig.get().serial())).findFirst();
        if (cert.isEmpty()) {
            return Verdict.refused(Refusal.FOREIGN_CERTIFICATE, "certificate " + sig.get().serial().toString(16) + " is not one of " + claimed + "'s");
        }
        if (cert.get().revoked()) {
            return Verdict.refused(Refusal.REVOKED, "certificate " + sig.get().serial().toString(16) + " of " + claimed + " is revoked");
        }
        try {
            cert.get().certificate().checkValidity(Date.from(now));
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            return Verdict.refused(Refusal.EXPIRED, "certificate " + sig.get().serial().toString(16) + " of " + claimed + " is not valid at " + now);
        }
        return check(cert.get().certificate(), topic, OptionalLong.empty(), payload, sig.get().signature())
                ? Verdict.accepted(OptionalLong.empty())
                : Verdict.refused(Refusal.BAD_SIGNATURE, "signature of a message on " + topic + " does not verify with " + claimed + "'s certificate");
    }

    static boolean check(java.security.cert.X509Certificate cert, String topic, OptionalLong sequence, byte[] payload, byte[] signature) {
        try {
            Signature s = Signature.getInstance(SenderSignature.ALGORITHM);
            s.initVerify(cert.getPublicKey());
            s.update(SenderSignature.signedBytes(topic, sequence, payload));
            return s.verify(signature);
        } catch (GeneralSecurityException e) {
            return false; // a signature that is not DER, or a key of another algorithm: it does not verify
        }
    }
}
