package io.edgefleet.transport.signing;

import io.edgefleet.transport.pki.Identity;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Where the control plane looks up a device's current certificates: the enrolment registry's
 * view. Implemented by the PKI store (SQLite) and, for tests, {@link InMemoryDeviceCertificates}.
 * Called on MQTT callback threads for every signed message: implementations must be thread-safe
 * and fast (cache what they read).
 */
public interface DeviceCertificates {
    /**
     * A certificate issued to a device and whether it has been revoked.
     *
     * @param certificate the X.509 certificate the CA issued
     * @param revoked true once {@code devices revoke} named it (or its device)
     */
    record Entry(X509Certificate certificate, boolean revoked) {
    }

    /**
     * The certificates issued to {@code identity} that are still recorded (current and renewed,
     * revoked ones flagged); empty when the identity was never enrolled.
     */
    List<Entry> certificates(Identity identity);
}
