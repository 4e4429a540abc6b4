package io.edgefleet.transport.signing;

/**
 * Why a message's sender was not proven. The {@link #code()} strings are stable: they appear in
 * logs, counters and command acknowledgements ({@code AckError.code}).
 */
public enum Refusal {
    /** No {@value SenderSignature#SIGNATURE} property. */
    UNSIGNED("unsigned"),
    /** Signature properties present but unreadable. */
    MALFORMED("signature-malformed"),
    /** The identity the topic names has no certificate: never enrolled. */
    NOT_ENROLLED("not-enrolled"),
    /** The serial is not one of the certificates of the identity the topic names (signed by someone else). */
    FOREIGN_CERTIFICATE("certificate-of-another-identity"),
    /** The signer certificate was revoked. */
    REVOKED("certificate-revoked"),
    /** The signer certificate is not valid now (expired or not yet valid). */
    EXPIRED("certificate-expired"),
    /** The signature does not verify over the topic and payload with the certificate's key. */
    BAD_SIGNATURE("signature-invalid"),
    /** A command's certificate was not issued by the fleet CA, or does not name the control plane's service. */
    UNTRUSTED_SIGNER("signer-untrusted"),
    /** A command older than (or as old as) the last one this agent accepted, or without a sequence. */
    REPLAYED("command-replayed"),
    /** A command published on another device's topic. */
    WRONG_TARGET("command-wrong-target");

    private final String code;

    Refusal(String code) {
        this.code = code;
    }

    /** Stable wire code, lowercase words joined by '-'. */
    public String code() {
        return code;
    }
}
