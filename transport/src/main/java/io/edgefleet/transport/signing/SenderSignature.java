package io.edgefleet.transport.signing;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Proof of sender carried with one MQTT 5 PUBLISH as user properties, so the payload bytes stay
 * exactly what they were (consumers that do not check see no difference):
 * <ul>
 * <li>{@value #SIGNATURE}: the ECDSA P-256 signature (SHA256withECDSA, DER, base64) over
 * {@link #signedBytes} of the topic, the sequence and the exact payload bytes;</li>
 * <li>{@value #SERIAL}: the signer certificate's serial number in lowercase hexadecimal;</li>
 * <li>{@value #SEQUENCE}: commands only, the control plane's command sequence (decimal), so an agent
 * refuses a command older than the last it accepted;</li>
 * <li>{@value #CERTIFICATE}: commands only, the signer's certificate (DER, base64): an agent holds
 * the CA certificate but not the control plane's, and checks the chain itself.</li>
 * </ul>
 *
 * @param serial the signer certificate's serial number
 * @param signature DER-encoded ECDSA signature
 * @param sequence the command sequence, present on commands only
 * @param certificate the signer certificate, present on commands only
 */
public record SenderSignature(BigInteger serial, byte[] signature, OptionalLong sequence, Optional<X509Certificate> certificate) {
    public static final String SIGNATURE = "ef-sig";
    public static final String SERIAL = "ef-cert";
    public static final String SEQUENCE = "ef-seq";
    public static final String CERTIFICATE = "ef-chain";
    /** The JCA name of the signature algorithm. */
    public static final String ALGORITHM = "SHA256withECDSA";
    private static final byte[] DOMAIN = "edgefleet-sender-v1".getBytes(StandardCharsets.US_ASCII);

    public SenderSignature {
        java.util.Objects.requireNonNull(serial, "serial");
        signature = signature.clone();
        sequence = sequence == null ? OptionalLong.empty() : sequence;
        certificate = certificate == null ? Optional.empty() : certificate;
    }

    @Override
    public byte[] signature() {
        return signature.clone();
    }

    /**
     * What is signed: a domain tag, the topic, the sequence (empty when none) and the payload, each
     * after a NUL; a signature over one topic never verifies on another.
     */
    static byte[] signedBytes(String topic, OptionalLong sequence, byte[] payload) {
        byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        byte[] s = sequence.isPresent() ? Long.toString(sequence.getAsLong()).getBytes(StandardCharsets.US_ASCII) : new byte[0];
        byte[] out = new byte[DOMAIN.length + 1 + t.length + 1 + s.length + 1 + payload.length];
        int i = 0;
        System.arraycopy(DOMAIN, 0, out, i, DOMAIN.length);
        i += DOMAIN.length + 1;
        System.arraycopy(t, 0, out, i, t.length);
        i += t.length + 1;
        System.arraycopy(s, 0, out, i, s.length);
        i += s.length + 1;
        System.arraycopy(payload, 0, out, i, payload.length);
        return out;
    }

    /** The user properties to add to the PUBLISH, in a fixed order. */
    public List<Map.Entry<String, String>> userProperties() {
        List<Map.Entry<String, String>> p = new ArrayList<>();
        p.add(Map.entry(SIGNATURE, Base64.getEncoder().encodeToString(signature)));
        p.add(Map.entry(SERIAL, serial.toString(16)));
        sequence.ifPresent(s -> p.add(Map.entry(SEQUENCE, Long.toString(s))));
        certificate.ifPresent(c -> {
            try {
                p.add(Map.entry(CERTIFICATE, Base64.getEncoder().encodeToString(c.getEncoded())));
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IllegalStateException("certificate not encodable", e);
            }
        });
        return p;
    }

    /**
     * Reads the signature from a message's user properties.
     *
     * @return empty when the message carries no {@value #SIGNATURE} property (unsigned)
     * @throws IllegalArgumentException when the properties are present but malformed (bad base64,
     *     a missing serial, a sequence that is not a number, an unreadable certificate)
     */
    public static Optional<SenderSignature> fromUserProperties(List<Map.Entry<String, String>> properties) {
        Optional<String> sig = first(properties, SIGNATURE);
        if (sig.isEmpty()) {
            return Optional.empty();
        }
        String serial = first(properties, SERIAL).orElseThrow(() -> new IllegalArgumentException("a signature without " + SERIAL));
        if (serial.isEmpty() || serial.length() > 64) {
            throw new IllegalArgumentException(SERIAL + " must be 1..64 hexadecimal digits");
        }
        try {
            OptionalLong seq = first(properties, SEQUENCE).map(s -> OptionalLong.of(Long.parseLong(s))).orElse(OptionalLong.empty());
            Optional<X509Certificate> cert = first(properties, CERTIFICATE).map(SenderSignature::certificate);
            return Optional.of(new SenderSignature(new BigInteger(serial, 16), Base64.getDecoder().decode(sig.get()), seq, cert));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("malformed " + SERIAL + " or " + SEQUENCE + ": not a number");
        }
    }

    private static X509Certificate certificate(String base64) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(Base64.getDecoder().decode(base64)));
        } catch (CertificateException e) {
            throw new IllegalArgumentException(CERTIFICATE + " is not an X.509 certificate");
        }
    }

    private static Optional<String> first(List<Map.Entry<String, String>> properties, String key) {
        return properties.stream().filter(e -> e.getKey().equals(key)).map(Map.Entry::getValue).findFirst();
    }
}
