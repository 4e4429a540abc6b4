package io.edgefleet.sync.chunks;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 as lowercase hex, the chunk and file id everywhere in model sync. */
public final class Sha256 {
    private Sha256() {
    }

    public static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is in every JDK", e);
        }
    }

    public static String hex(byte[] data, int offset, int length) {
        MessageDigest d = digest();
        d.update(data, offset, length);
        return HexFormat.of().formatHex(d.digest());
    }

    public static String hex(byte[] data) {
        return hex(data, 0, data.length);
    }

    /** The hash of a whole file, streamed (64 KiB at a time). */
    public static String hex(java.nio.file.Path file) throws java.io.IOException {
        MessageDigest d = digest();
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                d.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }
}
