package io.edgefleet.sync.signing;

import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.messages.MessageCodec;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * Ed25519 signatures over a manifest's canonical JSON ({@link MessageCodec#canonicalBytes}), and
 * their verification against a trust store of public keys by key id (several keys, so keys can
 * rotate). Refusals are distinct: unsigned, unknown key, wrong signature, expired.
 */
public final class ManifestSigning {
    private static final MessageCodec JSON = MessageCodec.json();

    private ManifestSigning() {
    }

    /** The manifest with a signature by {@code key}; its {@code keyId} must name that key in verifiers' trust stores. */
    public static Manifest sign(Manifest m, PrivateKey key) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(JSON.canonicalBytes(m));
            return m.withSignature(Base64.getEncoder().encodeToString(s.sign()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign manifest " + m.model() + "/" + m.version() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Checks a manifest against trusted keys (key id → public key) at {@code now}.
     *
     * @throws ManifestRejectedException with its kind when the manifest must not be trusted
     */
    public static Manifest verify(Manifest m, Map<String, PublicKey> trusted, Instant now) {
        String what = "manifest " + m.model() + "/" + m.version();
        Optional<String> sig = m.signature();
        if (sig.isEmpty()) {
            throw new ManifestRejectedException(ManifestRejectedException.Kind.UNSIGNED, what + " is not signed");
        }
        PublicKey key = trusted.get(m.keyId());
        if (key == null) {
            throw new ManifestRejectedException(ManifestRejectedException.Kind.UNKNOWN_KEY, what + " is signed with key '" + m.keyId()
                    + "', which this host does not trust (trusted: " + String.join(", ", new java.util.TreeSet<>(trusted.keySet())) + ")");
        }
        boolean ok;
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(JSON.canonicalBytes(m));
            ok = s.verify(Base64.getDecoder().decode(sig.get()));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            ok = false;
        }
        if (!ok) {
            throw new ManifestRejectedException(ManifestRejectedException.Kind.BAD_SIGNATURE, what
                    + ": the signature does not verify with key '" + m.keyId() + "' (tampered or signed with another key)");
        }
        if (m.expiresAt().isPresent() && now.isAfter(m.expiresAt().get())) {
            throw new ManifestRejectedException(ManifestRejectedException.Kind.EXPIRED, what + " expired at " + m.expiresAt().get());
        }
        return m;
    }
}
