package io.edgefleet.cloud.access;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * Operator access of a control plane. Config node {@code cloud.access}.
 *
 * @param oidc when present, JWT bearer tokens of this issuer are accepted besides API tokens ({@code access.oidc})
 * @param trustedProxies addresses (IP literals) of reverse proxies whose {@code X-Forwarded-For} the audit believes
 *     ({@code access.trusted-proxies}); from anyone else the header is ignored and the socket's address recorded
 * @param auditRetention audit rows older than this are deleted ({@code access.audit-retention-days}, default 365)
 */
public record AccessSettings(Optional<OidcSettings> oidc, Set<String> trustedProxies, Duration auditRetention) {
    public AccessSettings {
        trustedProxies = Set.copyOf(trustedProxies);
        if (auditRetention.toHours() < 1) {
            throw new IllegalArgumentException("access.audit-retention must be at least an hour, got " + auditRetention);
        }
    }

    public static AccessSettings defaults() {
        return new AccessSettings(Optional.empty(), Set.of(), Duration.ofDays(365));
    }

    public AccessSettings withOidc(OidcSettings o) {
        return new AccessSettings(Optional.of(o), trustedProxies, auditRetention);
    }

    public AccessSettings withTrustedProxies(Set<String> proxies) {
        return new AccessSettings(oidc, proxies, auditRetention);
    }
}
