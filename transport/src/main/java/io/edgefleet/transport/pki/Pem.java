package io.edgefleet.transport.pki;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * PEM (RFC 7468) reading and writing of certificates, private keys and PKCS#10 requests, through
 * BouncyCastle's parser and writer. Private keys are written as PKCS#8 {@code PRIVATE KEY} to a
 * file created with mode {@code 0600} (owner read/write only) before any byte is written. Stateless;
 * any thread.
 */
public final class Pem {
    private Pem() {
    }

    /** One PEM block per object, in order. */
    public static String write(Object... objects) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            for (Object o : objects) {
                Object x = o instanceof KeyPair kp ? kp.getPrivate() : o;
                if (x instanceof PrivateKey k) {
                    w.writeObject(new JcaPKCS8Generator(k, null)); // PKCS#8 "PRIVATE KEY", which OpenSSL, Mosquitto and JSSE read
                } else {
                    w.writeObject(x);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Every certificate in {@code pem}, in order; others blocks are skipped. */
    public static List<X509Certificate> certificates(String pem) {
        List<X509Certificate> out = new ArrayList<>();
        for (Object o : objects(pem)) {
            if (o instanceof X509CertificateHolder h) {
                out.add(certificate(h));
            }
        }
        return out;
    }

    /** The first private key in {@code pem} (PKCS#8, or a traditional EC/RSA key pair block). */
    public static PrivateKey privateKey(String pem) {
        JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
        try {
            for (Object o : objects(pem)) {
                if (o instanceof PrivateKeyInfo info) {
                    return conv.getPrivateKey(info);
                }
                if (o instanceof PEMKeyPair pair) {
                    return conv.getPrivateKey(pair.getPrivateKeyInfo());
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("unreadable private key: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("no private key in the PEM text");
    }

    /**
     * The PKCS#10 certification request in {@code pem}.
     *
     * @throws IllegalArgumentException when there is none or it does not parse
     */
    public static PKCS10CertificationRequest csr(String pem) {
        for (Object o : objects(pem)) {
            if (o instanceof PKCS10CertificationRequest r) {
                return r;
            }
        }
        throw new IllegalArgumentException("no CERTIFICATE REQUEST block in the PEM text");
    }

    static X509Certificate certificate(X509CertificateHolder h) {
        try {
            return new JcaX509CertificateConverter().getCertificate(h);
        } catch (CertificateException e) {
            throw new IllegalArgumentException("unreadable certificate: " + e.getMessage(), e);
        }
    }

    private static List<Object> objects(String pem) {
        List<Object> out = new ArrayList<>();
        try (PEMParser p = new PEMParser(new StringReader(pem))) {
            for (Object o = p.readObject(); o != null; o = p.readObject()) {
                out.add(o);
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("malformed PEM: " + e.getMessage(), e);
        }
        return out;
    }

    public static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code text} atomically (temp file, then rename), world-readable: certificates, requests. */
    public static void writePublic(Path file, String text) {
        writeAtomically(file, text, "rw-r--r--");
    }

    /**
     * Writes a private key atomically to a file that is mode {@code 0600} from its creation (the
     * temp file is created with that mode, so no other user can open it in between). On a file
     * system without POSIX permissions the mode is not set.
     */
    public static void writePrivate(Path file, String text) {
        writeAtomically(file, text, "rw-------");
    }

    private static void writeAtomically(Path file, String text, String mode) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp;
            try {
                tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp", PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString(mode)));
            } catch (UnsupportedOperationException e) {
                tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            }
            Files.writeString(tmp, text, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
