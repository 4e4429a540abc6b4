package io.edgefleet.cloud.access;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * A named API token as listed: never its secret (only the SHA-256 of it is stored).
 *
 * @param id stable id ({@code tok_...}), also shown in the audit of its creation
 * @param expiresAt empty for tokens imported from token files or configuration, which do not expire
 * @param lastUsedAt when it last authenticated a call (updated at most once a minute)
 */
public record ApiToken(String id, String name, Set<Scope> scopes, Instant createdAt, String createdBy, Optional<Instant> expiresAt,
        Optional<Instant> lastUsedAt, Optional<Instant> revokedAt, Optional<String> revokedBy) {

    public ApiToken {
        scopes = Set.copyOf(scopes);
    }

    /** {@code active}, {@code expired} or {@code revoked} at {@code now}. */
    public String state(Instant now) {
        if (revokedAt.isPresent()) {
            return "revoked";
        }
        return expiresAt.isPresent() && !now.isBefore(expiresAt.get()) ? "expired" : "active";
    }
}
