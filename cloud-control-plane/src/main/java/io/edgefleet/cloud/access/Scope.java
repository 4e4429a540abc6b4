package io.edgefleet.cloud.access;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a credential may do, as OAuth 2 scope strings ({@code resource:action}, RFC 6749 §3.3).
 * Every route of the control plane names the one scope it needs; an API token carries a set of
 * them, a JWT its {@code scope} (space-separated) or {@code scp} claim.
 */
public enum Scope {
    FLEET_READ("fleet:read"),
    FLEET_WRITE("fleet:write"),
    MODELS_READ("models:read"),
    MODELS_WRITE("models:write"),
    ROLLOUTS_READ("rollouts:read"),
    ROLLOUTS_WRITE("rollouts:write"),
    INFERENCE_INVOKE("inference:invoke"),
    SYNC_READ("sync:read"),
    DEVICES_ENROL("devices:enrol"),
    DEVICES_REVOKE("devices:revoke"),
    AUDIT_READ("audit:read"),
    TOKENS_ADMIN("tokens:admin");

    /** What today's {@code viewer} token may do: read the fleet, the models and the rollouts. */
    public static final Set<Scope> VIEWER = Set.copyOf(EnumSet.of(FLEET_READ, MODELS_READ, ROLLOUTS_READ));
    /** What today's {@code operator} token may do: everything. */
    public static final Set<Scope> OPERATOR = Set.copyOf(EnumSet.allOf(Scope.class));

    private final String wire;

    Scope(String wire) {
        this.wire = wire;
    }

    /** The scope string, e.g. {@code models:write}. */
    public String wire() {
        return wire;
    }

    @Override
    public String toString() {
        return wire;
    }

    /**
     * The scope named {@code s} (case-insensitive).
     *
     * @throws IllegalArgumentException naming the known scopes when {@code s} is none of them
     */
    public static Scope parse(String s) {
        String t = s.strip().toLowerCase(Locale.ROOT);
        for (Scope x : values()) {
            if (x.wire.equals(t)) {
                return x;
            }
        }
        throw new IllegalArgumentException("scope '" + s.strip() + "' is not one of " + all());
    }

    /** Parses a list (each element may itself be space- or comma-separated); an empty list is refused. */
    public static Set<Scope> parseAll(Iterable<String> items) {
        Set<Scope> out = EnumSet.noneOf(Scope.class);
        for (String item : items) {
            for (String s : item.split("[\\s,]+")) {
                if (!s.isBlank()) {
                    out.add(parse(s));
                }
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("at least one scope is needed, from " + all());
        }
        return Set.copyOf(out);
    }

    /** The scopes of a JWT claim: known scope strings kept, others (an IdP's own) ignored. */
    public static Set<Scope> known(Iterable<String> items) {
        Set<Scope> out = EnumSet.noneOf(Scope.class);
        for (String item : items) {
            for (String s : item.split("\\s+")) {
                for (Scope x : values()) {
                    if (x.wire.equals(s)) {
                        out.add(x);
                    }
                }
            }
        }
        return Set.copyOf(out);
    }

    /** The wire names, space-separated, in declaration order (how they are stored). */
    public static String join(Set<Scope> scopes) {
        return Arrays.stream(values()).filter(scopes::contains).map(Scope::wire).collect(Collectors.joining(" "));
    }

    static String all() {
        return Arrays.stream(values()).map(Scope::wire).collect(Collectors.joining(", "));
    }
}
