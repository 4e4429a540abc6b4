package io.edgefleet.cloud.pki;

import io.edgefleet.transport.pki.Identity;
import java.security.cert.X509Certificate;
import java.util.List;

/** The certificates the device CA issued, for callers that verify a device's signatures or pin its key. Thread-safe. */
public interface DeviceCertificates {
    /**
     * The certificates of {@code identity} that are valid now and not revoked, newest first (a
     * renewing device holds two for a while). Empty for an identity never enrolled or revoked.
     */
    List<X509Certificate> current(Identity identity);
}
