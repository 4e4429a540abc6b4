package io.edgefleet.cloud.pki;

import java.math.BigInteger;

/**
 * Which device certificates the control plane has revoked ({@code devices revoke FLEET/DEVICE}).
 * Every HTTP request that presents a client certificate asks this for the certificate's serial
 * number, so a revocation takes effect on the next request, also on connections opened before it.
 * Implementations answer from memory or an indexed store lookup (called once per request, on the
 * request's virtual thread, from many threads at once) and must be thread-safe.
 */
@FunctionalInterface
public interface Revocations {
    /** True when the certificate with this serial number was revoked. */
    boolean isRevoked(BigInteger serial);

    /** Nothing revoked (until the store-backed implementation is wired in). */
    static Revocations none() {
        return serial -> false;
    }
}
