package io.edgefleet.cloud.access;

import java.util.Objects;
import java.util.Set;

/**
 * Who made a call, as the audit names them, and what they may do.
 *
 * @param kind how they proved it
 * @param name the token's name, the JWT's subject (or configured claim), or the device identity {@code fleet/device}
 * @param scopes what they may do
 */
public record Principal(Kind kind, String name, Set<Scope> scopes) {
    /** The credential a principal presented. */
    public enum Kind {
        /** a named API token of this control plane */
        TOKEN,
        /** a JWT from the configured OIDC issuer */
        JWT,
        /** a device certificate (mTLS) */
        DEVICE,
        /** none, or one that was refused; only in audit rows */
        NONE;

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    public Principal {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(name, "name");
        scopes = Set.copyOf(scopes);
    }

    /** A device authenticated by its certificate, e.g. {@code device("plant-7/cam-3", Set.of(Scope.SYNC_READ))}. */
    public static Principal device(String identity, Set<Scope> scopes) {
        return new Principal(Kind.DEVICE, identity, scopes);
    }

    public boolean may(Scope s) {
        return scopes.contains(s);
    }
}
