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
}
