package io.edgefleet.cloud.registry;

import io.edgefleet.protocols.Checks;
import io.edgefleet.sync.signing.Keys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;

/**
 * The Ed25519 key the registry signs manifests with: {@code ID.key} (private, mode 0600) and
 * {@code ID.pub} in a folder, the same files {@code edgefleet model keygen} writes. Created on first
 * start when missing, so the embedded defaults work; production points at a managed key.
 */
public record SigningKey(String keyId, PrivateKey privateKey, PublicKey publicKey) {
    public SigningKey {
        Checks.id(keyId, "keyId");
    }

    public static SigningKey loadOrCreate(Path dir, String keyId) {
        Checks.id(keyId, "signing.key-id");
        Path priv = dir.resolve(keyId + ".key");
        Path pub = dir.resolve(keyId + ".pub");
        try {
            if (!Files.exists(priv)) {
                Files.createDirectories(dir);
                KeyPair k = Keys.generate();
                Path tmp = dir.resolve(keyId + ".key.tmp");
                Files.writeString(tmp, Keys.encode(k.getPrivate()) + "\n");
                try {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system: the operator protects the folder
                }
                Files.writeString(pub, Keys.encode(k.getPublic()) + "\n");
                Files.move(tmp, priv, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            if (!Files.exists(pub)) {
                throw new IllegalStateException("signing key " + priv + " has no public half " + pub);
            }
            return new SigningKey(keyId, Keys.privateKey(Files.readString(priv).strip()), Keys.publicKey(Files.readString(pub).strip()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the signing key in " + dir + ": " + e.getMessage(), e);
        }
    }
}
