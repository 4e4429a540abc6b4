package io.edgefleet.cloud.broker;

import java.security.cert.X509Certificate;

/**
 * Whether a client certificate has been revoked (the control plane's revocation registry), asked by a
 * broker when a client connects. Must be fast and must not block on the network: it runs on the
 * broker's connection threads. Implementations fail closed: when they cannot tell, they answer true.
 */
@FunctionalInterface
public interface RevocationCheck {
    /** Never revokes anything: for brokers whose certificates are checked elsewhere, and tests. */
    RevocationCheck NONE = certificate -> false;

    boolean isRevoked(X509Certificate certificate);
}
