package io.edgefleet.transport.signing;

import io.edgefleet.transport.pki.Certificates;
import io.edgefleet.transport.pki.Identity;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The agent's check of a command: signed by a certificate that the fleet CA issued to the control
 * plane's command service ({@value #COMMAND_SERVICE}), valid now, over this agent's own command
 * topic and the exact payload, with a sequence (the caller compares it with the last accepted one).
 * The agent holds only the CA certificate; the signer certificate travels with the command.
 * Thread-safe.
 */
public final class CommandVerifier {
    /** The service identity whose certificate may sign commands. */
    public static final String COMMAND_SERVICE = "cloud-control";

    private final X509Certificate ca;
    private final String ownTopic;

    /**
     * @param ca the fleet CA certificate (the agent's {@code identity/ca.pem})
     * @param ownTopic this agent's command topic, {@code ef/v1/{fleet}/{device}/cmd}
     */
    public CommandVerifier(X509Certificate ca, String ownTopic) {
        this.ca = java.util.Objects.requireNonNull(ca, "ca");
        this.ownTopic = java.util.Objects.requireNonNull(ownTopic, "ownTopic");
    }

    /** Checks one command as received on {@code topic}; an accepted verdict carries its sequence. */
    public Verdict verify(String topic, byte[] payload, List<Map.Entry<String, String>> userProperties, Instant now) {
        if (!ownTopic.equals(topic)) {
            return Verdict.refused(Refusal.WRONG_TARGET, "command on " + topic + " is not for this device (" + ownTopic + ")");
        }
        Optional<SenderSignature> sig;
        try {
            sig = SenderSignature.fromUserProperties(userProperties);
        } catch (IllegalArgumentException e) {
            return Verdict.refused(Refusal.MALFORMED, "command signature unreadable: " + e.getMessage());
        }
        if (sig.isEmpty()) {
            return Verdict.refused(Refusal.UNSIGNED, "command carries no signature; only the control plane's signed commands are run");
        }
        if (sig.get().certificate().isEmpty() || sig.get().sequence().isEmpty()) {
            return Verdict.refused(Refusal.MALFORMED, "command signature without the signer certificate or the sequence");
        }
        X509Certificate cert = sig.get().certificate().get();
        try {
            cert.verify(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            return Verdict.refused(Refusal.UNTRUSTED_SIGNER, "command signer certificate was not issued by this fleet's CA");
        }
        Identity signer;
        try {
            signer = Certificates.identity(cert);
        } catch (RuntimeException e) {
            return Verdict.refused(Refusal.UNTRUSTED_SIGNER, "command signer certificate names no EdgeFleet identity");
        }
        if (signer.isDevice() || !signer.name().equals(COMMAND_SERVICE)) {
            return Verdict.refused(Refusal.UNTRUSTED_SIGNER, "commands are signed by " + COMMAND_SERVICE + ", not by " + signer);
        }
        if (!cert.getSerialNumber().equals(sig.get().serial())) {
            return Verdict.refused(Refusal.MALFORMED, "command signature names another serial than its certificate");
        }
        try {
            cert.checkValidity(Date.from(now));
        } catch (GeneralSecurityException e) {
            return Verdict.refused(Refusal.EXPIRED, "command signer certificate is not valid at " + now);
        }
        return SenderVerifier.check(cert, topic, sig.get().sequence(), payload, sig.get().signature())
                ? Verdict.accepted(sig.get().sequence())
                : Verdict.refused(Refusal.BAD_SIGNATURE, "command signature does not verify over this topic and payload");
    }
}
