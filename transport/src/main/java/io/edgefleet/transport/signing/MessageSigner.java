package io.edgefleet.transport.signing;

import io.edgefleet.transport.pki.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Signs outgoing MQTT messages with the sender's own key: a device signs its {@code state},
 * {@code telemetry} and {@code cmd/ack}; the control plane signs {@code cmd} (with a sequence and
 * its certificate attached). Thread-safe (a fresh {@link Signature} per call; ECDSA P-256 signing
 * costs tens of microseconds, see {@code SigningBenchmark}).
 */
public final class MessageSigner {
    private final PrivateKey key;
    private final X509Certificate certificate;

    /**
     * @param key the sender's EC P-256 private key (never leaves this process)
     * @param certificate its certificate, issued by the fleet CA
     */
    public MessageSigner(PrivateKey key, X509Certificate certificate) {
        this.key = java.util.Objects.requireNonNull(key, "key");
        this.certificate = java.util.Objects.requireNonNull(certificate, "certificate");
    }

    /**
     * Loads {@code key.pem} and {@code cert.pem} from an identity folder (the agent's
     * {@code identity/}).
     *
     * @return empty when either file is missing (the device is not enrolled)
     */
    public static Optional<MessageSigner> fromFolder(Path dir) {
        Path k = dir.resolve("key.pem");
        Path c = dir.resolve("cert.pem");
        if (!Files.isRegularFile(k) || !Files.isRegularFile(c)) {
            return Optional.empty();
        }
        List<X509Certificate> chain = Pem.certificates(Pem.read(c));
        return Optional.of(new MessageSigner(Pem.privateKey(Pem.read(k)), chain.get(0)));
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** Signs a device message: topic and payload, serial attached. */
    public SenderSignature sign(String topic, byte[] payload) {
        return new SenderSignature(certificate.getSerialNumber(), raw(topic, OptionalLong.empty(), payload), OptionalLong.empty(), Optional.empty());
    }

    /** Signs a command: topic, sequence and payload, serial and certificate attached. */
    public SenderSignature signCommand(String topic, long sequence, byte[] payload) {
        OptionalLong seq = OptionalLong.of(sequence);
        return new SenderSignature(certificate.getSerialNumber(), raw(topic, seq, payload), seq, Optional.of(certificate));
    }

    private byte[] raw(String topic, OptionalLong sequence, byte[] payload) {
        try {
            Signature s = Signature.getInstance(SenderSignature.ALGORITHM);
            s.initSign(key);
            s.update(SenderSignature.signedBytes(topic, sequence, payload));
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign with the " + key.getAlgorithm() + " key: " + e.getMessage(), e);
        }
    }
}
