package io.edgefleet.transport.pki;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An enrolment token as an operator hands it to a device: {@code ef1.<id>.<secret>.<ca-sha256>}.
 *
 * <ul>
 * <li>{@code id}: 16 lowercase hex digits, public; the control plane looks the token up by it
 *     (and lists and revokes it by it).
 * <li>{@code secret}: 256 random bits, base64url without padding (43 characters); the control plane
 *     stores only its SHA-256 and compares in constant time.
 * <li>{@code ca-sha256}: the SHA-256 of the control plane's CA certificate (DER), 64 lowercase hex
 *     digits, the value {@code openssl x509 -noout -fingerprint -sha256} prints without colons. A
 *     fresh agent trusts a CA certificate only when it has this hash (as kubeadm's
 *     {@code --discovery-token-ca-cert-hash}), so one string is all an operator copies to a device.
 * </ul>
 * {@link #toString()} never shows the secret. Immutable; any thread.
 */
public record EnrolmentToken(String id, String secret, String caSha256) {
    public static final String PREFIX = "ef1";
    private static final Pattern ID = Pattern.compile("[0-9a-f]{16}");
    private static final Pattern SECRET = Pattern.compile("[A-Za-z0-9_-]{43}");
    private static final Pattern HASH = Pattern.compile("[0-9a-f]{64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    public EnrolmentToken {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(caSha256, "caSha256");
        if (!ID.matcher(id).matches() || !SECRET.matcher(secret).matches() || !HASH.matcher(caSha256).matches()) {
            throw new IllegalArgumentException("not an enrolment token (expected ef1.<16 hex>.<43 base64url>.<64 hex>)");
        }
    }

    /** A new token with a fresh id and secret for the CA {@code ca}. */
    public static EnrolmentToken generate(X509Certificate ca) {
        byte[] id = new byte[8];
        byte[] secret = new byte[32];
        RANDOM.nextBytes(id);
        RANDOM.nextBytes(secret);
        return new EnrolmentToken(HexFormat.of().formatHex(id), Base64.getUrlEncoder().withoutPadding().encodeToString(secret),
                fingerprint(ca));
    }

    /**
     * Parses {@link #text()}.
     *
     * @throws IllegalArgumentException when {@code text} is not of that shape (the message never repeats the text)
     */
    public static EnrolmentToken parse(String text) {
        Objects.requireNonNull(text, "text");
        String[] parts = text.strip().split("\\.", -1);
        if (parts.length != 4 || !parts[0].equals(PREFIX)) {
            throw new IllegalArgumentException("not an enrolment token (expected ef1.<16 hex>.<43 base64url>.<64 hex>)");
        }
        return new EnrolmentToken(parts[1], parts[2], parts[3]);
    }

    /** The whole token, secret included: shown once to the operator, given once to the device. */
    public String text() {
        return PREFIX + "." + id + "." + secret + "." + caSha256;
    }

    /** SHA-256 of the secret: what the control plane stores and compares. */
    public byte[] secretHash() {
        return sha256(secret.getBytes(StandardCharsets.US_ASCII));
    }

    /** Whether {@code ca} is the CA this token pins (constant-time comparison). */
    public boolean pins(X509Certificate ca) {
        return MessageDigest.isEqual(caSha256.getBytes(StandardCharsets.US_ASCII), fingerprint(ca).getBytes(StandardCharsets.US_ASCII));
    }

    /** The SHA-256 of {@code cert}'s DER encoding, 64 lowercase hex digits. */
    public static String fingerprint(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(sha256(cert.getEncoded()));
        } catch (CertificateEncodingException e) {
            throw new IllegalArgumentException("unencodable certificate: " + e.getMessage(), e);
        }
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return "EnrolmentToken[" + id + ", ca " + caSha256.substring(0, 12) + "...]"; // never the secret
    }
}
