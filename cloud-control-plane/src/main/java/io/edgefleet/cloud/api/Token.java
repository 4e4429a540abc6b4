package io.edgefleet.cloud.api;

import io.edgefleet.cloud.access.Scope;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * A bearer token given outside the API: in the configuration ({@code cloud.auth.tokens}) or in the
 * token files {@code tokens/operator.token} and {@code tokens/viewer.token}. On start each becomes a
 * named token of the token store with its role's scopes and no expiry (see {@code docs/security.md}).
 *
 * @param name who holds it; recorded as the actor of what they do
 */
public record Token(String name, Role role, String secret) {
    /** A token's role: {@code viewer} reads, {@code operator} may do everything. */
    public enum Role {
        VIEWER(Scope.VIEWER), OPERATOR(Scope.OPERATOR);

        private final Set<Scope> scopes;

        Role(Set<Scope> scopes) {
            this.scopes = scopes;
        }

        /** The scopes a token of this role gets. */
        public Set<Scope> scopes() {
            return scopes;
        }

        public static Role parse(String s) {
            try {
                return valueOf(s.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("token role '" + s + "' is not one of viewer, operator");
            }
        }
    }

    public Token {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(role, "role");
        if (secret == null || secret.length() < 16) {
            throw new IllegalArgumentException("token " + name + " is shorter than 16 characters");
        }
    }

    @Override
    public String toString() {
        return "Token[" + name + ", " + role + "]"; // never the secret
    }
}
