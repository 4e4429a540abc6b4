package io.edgefleet.cloud.pki;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The control plane's device CA and enrolment (config node {@code cloud.pki}).
 *
 * @param caCertificate {@code ca-certificate}: an operator's CA certificate (PEM); with {@code caKey}. Empty: the
 *     control plane creates its own CA in {@code <data>/pki/} on first start and keeps it there
 * @param caKey {@code ca-key}: that CA's private key (PEM, PKCS#8 or traditional); keep it mode 0600
 * @param deviceValidity {@code device-validity}: how long an issued or renewed device certificate is valid (default 30 days)
 * @param maxTokenTtl {@code max-token-ttl}: the longest an enrolment token may live (default 7 days)
 * @param crlNextUpdate {@code crl-next-update}: the CRL's nextUpdate distance (default 1 hour); relying parties refetch by then
 */
public record PkiSettings(Optional<Path> caCertificate, Optional<Path> caKey, Duration deviceValidity, Duration maxTokenTtl,
        Duration crlNextUpdate) {
    /** How long a CA the control plane creates itself is valid. */
    public static final Duration OWN_CA_VALIDITY = Duration.ofDays(3650);

    public PkiSettings {
        Objects.requireNonNull(caCertificate, "caCertificate");
        Objects.requireNonNull(caKey, "caKey");
        if (caCertificate.isPresent() != caKey.isPresent()) {
            throw new IllegalArgumentException("pki.ca-certificate and pki.ca-key go together: give both or neither");
        }
        if (deviceValidity.toMillis() < 1000) {
            throw new IllegalArgumentException("pki.device-validity must be at least 1 s, got " + deviceValidity);
        }
        if (maxTokenTtl.toMillis() < 1000) {
            throw new IllegalArgumentException("pki.max-token-ttl must be at least 1 s, got " + maxTokenTtl);
        }
        if (crlNextUpdate.toMillis() < 1000) {
            throw new IllegalArgumentException("pki.crl-next-update must be at least 1 s, got " + crlNextUpdate);
        }
    }

    public static PkiSettings defaults() {
        return new PkiSettings(Optional.empty(), Optional.empty(), Duration.ofDays(30), Duration.ofDays(7), Duration.ofHours(1));
    }

    public PkiSettings withDeviceValidity(Duration d) {
        return new PkiSettings(caCertificate, caKey, d, maxTokenTtl, crlNextUpdate);
    }

    public PkiSettings withOperatorCa(Path certificate, Path key) {
        return new PkiSettings(Optional.of(certificate), Optional.of(key), deviceValidity, maxTokenTtl, crlNextUpdate);
    }
}
