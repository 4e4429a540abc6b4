package io.edgefleet.cloud.pki;

import java.math.BigInteger;
import java.util.function.Consumer;

/**
 * Which device certificates are revoked ({@code devices revoke FLEET/DEVICE}), for everything that
 * accepts a device certificate: every HTTP request that presents one (so a revocation takes effect
 * on the next request, also on connections opened before it), the embedded broker's authenticator,
 * the DTLS endpoints. Answers from memory (loaded from the store at start, updated in the same call
 * that revokes), so it is cheap enough for every request and handshake. Thread-safe.
 */
@FunctionalInterface
public interface Revocations {
    /** Whether the certificate with this serial number was revoked. Unknown serials are not revoked (the CA check is the caller's). */
    boolean isRevoked(BigInteger serial);

    /**
     * Calls {@code listener} after each revocation is stored (on the revoking thread, after the
     * transaction commits), so a broker can drop the device's sessions at once. A listener that
     * throws is logged and the others still run. The default suits a fixed set of revocations (a
     * test's, or {@link #none()}): it never calls back.
     */
    default void onRevocation(Consumer<Revocation> listener) {
    }

    /** Nothing revoked: a control plane without the control role (no device CA) in front of its HTTP listener. */
    static Revocations none() {
        return serial -> false;
    }
}
