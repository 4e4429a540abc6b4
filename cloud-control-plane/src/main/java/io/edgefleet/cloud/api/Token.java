package io.edgefleet.cloud.api;

import java.util.Locale;
import java.util.Objects;

/**
 * A bearer token of the REST API. {@code viewer} may read; {@code operator} may also write
 * (register and deprecate models, pre-register devices, and later create and steer rollouts).
 *
 * @param name who holds it; recorded as the actor of what they do
 */
public record Token(String name, Role role, String secret) {
    public enum Role {
        VIEWER, OPERATOR;

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
