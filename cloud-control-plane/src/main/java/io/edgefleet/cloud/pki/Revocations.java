package io.edgefleet.cloud.pki;

import java.math.BigInteger;
import java.util.function.Consumer;

/**
 * Which device certificates are revoked, for everything that accepts a device certificate (the
 * broker's authenticator, the HTTPS and DTLS endpoints). Answers from memory (loaded from the store
 * at start, updated in the same call that revokes), so it is cheap enough for every handshake.
 * Thread-safe.
 */
public interface Revocations {
    /** Whether the certificate with this serial number was revoked. Unknown serials are not revoked (the CA check is the caller's). */
    boolean isRevoked(BigInteger serial);

    /**
     * Calls {@code listener} after each revocation is stored (on the revoking thread, after the
     * transaction commits), so a broker can drop the device's sessions at once. A listener that
     * throws is logged and the others still run.
     */
    void onRevocation(Consumer<Revocation> listener);
}
