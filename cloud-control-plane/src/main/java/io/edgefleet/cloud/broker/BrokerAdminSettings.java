package io.edgefleet.cloud.broker;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * How the control plane administers a Mosquitto broker's rights (config node {@code broker-admin}).
 *
 * @param url the broker's TLS listener, e.g. {@code ssl://mqtt.example.com:8883} ({@code url})
 * @param timeout how long one grant or revocation waits for the broker ({@code timeout-ms}, default 10 s); an
 *     enrolment answers only after its grant, so it waits at most this long for an unreachable broker
 * @param brokerDir the broker folder, when it is on this host: revocations then refresh its CRL ({@code broker-dir})
 * @param reloadCommand run after the CRL was written, e.g. {@code systemctl reload mosquitto} ({@code reload-command};
 *     required with {@code brokerDir})
 */
public record BrokerAdminSettings(String url, Duration timeout, Optional<Path> brokerDir, List<String> reloadCommand) {
    public BrokerAdminSettings {
        Objects.requireNonNull(url, "url");
        if (!url.startsWith("ssl://")) {
            throw new IllegalArgumentException("broker-admin.url must be an ssl:// URL (the admin identity is a client certificate), got " + url);
        }
        reloadCommand = List.copyOf(reloadCommand);
        if (brokerDir.isPresent() && reloadCommand.isEmpty()) {
            throw new IllegalArgumentException("broker-admin.reload-command is required with broker-admin.broker-dir");
        }
    }

    /** Plugin grants and revocations only, 10 s timeout. */
    public static BrokerAdminSettings of(String url) {
        return new BrokerAdminSettings(url, Duration.ofSeconds(10), Optional.empty(), List.of());
    }

    public BrokerAdminSettings withCrlRefresh(Path dir, List<String> command) {
        return new BrokerAdminSettings(url, timeout, Optional.of(dir), command);
    }

    /** The admin session, with the {@code broker-admin} identity from {@code pkiDir} ({@link MosquittoConfig#writeAdmin}). */
    public DynamicSecurity open(Path pkiDir) {
        return new DynamicSecurity(url, MosquittoConfig.adminTls(pkiDir), timeout);
    }

    /**
     * The revocation to wire to the {@code device.revoked} event.
     *
     * @param revoked every revoked certificate, serial number to revocation time (the pki registry's query)
     */
    public BrokerRevocation revocation(DynamicSecurity dynsec, io.edgefleet.transport.pki.CertificateAuthority ca,
            Supplier<Map<BigInteger, Instant>> revoked) {
        return new MosquittoRevocation(dynsec, brokerDir.map(d -> new MosquittoRevocation.CrlRefresh(d,
                () -> ca.crl(revoked.get(), Duration.ofDays(30)), reloadCommand)));
    }
}
