package io.edgefleet.cloud.access;

import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Jdbc;
import io.edgefleet.protocols.Checks;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Named, scoped, expiring API tokens in the control-plane database ({@code api_tokens}, migration
 * {@code V6__access.sql}). A new token's secret is {@value #PREFIX} followed by 256 random bits
 * (base64url), returned once by {@link #create} and stored only as its SHA-256. A presented secret
 * is hashed, the row found by that hash, and the stored hash compared again with
 * {@link MessageDigest#isEqual} (constant time); timing can reveal nothing of the secret because
 * the lookup key is a hash of it. Thread-safe (every call is one database unit of work).
 */
public final class TokenStore {
    /** The prefix of every secret this store creates, so secret scanners recognise a leaked one. */
    public static final String PREFIX = "eft_";
    /** Tokens created without a TTL live this long. */
    public static final Duration DEFAULT_TTL = Duration.ofDays(90);
    /** The longest TTL a created token may have. */
    public static final Duration MAX_TTL = Duration.ofDays(366);
    private static final Duration LAST_USED_GRAIN = Duration.ofMinutes(1);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final CloudStore store;
    private final Clock clock;

    public TokenStore(CloudStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** A token just created, with the secret that is shown this once and never again. */
    public record Issued(ApiToken token, String secret) {
        @Override
        public String toString() {
            return "Issued[" + token + "]"; // never the secret
        }
    }

    /** What a presented secret turned out to be. */
    public sealed interface Check {
        /** Active: the call is made by this token. */
        record Valid(ApiToken token) implements Check {
        }

        /** Known but past its expiry. */
        record Expired(String name) implements Check {
        }

        /** Known but revoked. */
        record Revoked(String name) implements Check {
        }

        /** No token has this secret. */
        record Unknown() implements Check {
        }
    }

    /**
     * Creates a token.
     *
     * @param ttl how long it is valid, 1 s to {@link #MAX_TTL}
     * @param by who creates it (recorded)
     * @throws IllegalArgumentException on a bad name, no scopes or a TTL out of range
     * @throws NameTakenException when an active token already has this name
     */
    public Issued create(String name, Set<Scope> scopes, Duration ttl, String by) {
        Checks.id(name, "name");
        if (scopes.isEmpty()) {
            throw new IllegalArgumentException("a token needs at least one scope, from " + Scope.all());
        }
        if (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("ttl must be between 1s and " + MAX_TTL.toDays() + "d, got " + ttl);
        }
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        String secret = PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        Instant now = clock.instant();
        ApiToken t = insert(name, scopes, sha256(secret), now, by, Optional.of(now.plus(ttl)));
        return new Issued(t, secret);
    }

    /**
     * Makes sure a token given outside the API (a token file, the configuration) is known, with
     * no expiry: inserted when no row has its secret; when another active token holds the name (the
     * configured secret changed) that one is revoked first. A revoked one stays revoked.
     *
     * @return true when it was added
     */
    public boolean ensure(String name, Set<Scope> scopes, String secret, String source) {
        byte[] h = sha256(secret);
        return store.tx(c -> {
            try (PreparedStatement p = Jdbc.bind(c.prepareStatement("SELECT 1 FROM api_tokens WHERE secret_sha256 = ?"), h);
                    ResultSet r = p.executeQuery()) {
                if (r.next()) {
                    return false;
                }
            }
            Instant now = clock.instant();
            try (PreparedStatement p = Jdbc.bind(c.prepareStatement(
                    "UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE name = ? AND revoked_at IS NULL"), now, source, name)) {
                p.executeUpdate();
            }
            insert(c, newId(), name, scopes, h, now, source, Optional.empty());
            return true;
        });
    }

    /** Whether any token (in any state) is stored: false only before the first start's defaults. */
    public boolean any() {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM api_tokens LIMIT 1"); ResultSet r = p.executeQuery()) {
                return r.next();
            }
        });
    }

    /** What {@code secret} is; an active token's last use is recorded (at most once a minute). */
    public Check check(String secret) {
        byte[] h = sha256(secret);
        Optional<Row> found = store.read(c -> {
            try (PreparedStatement p = Jdbc.bind(c.prepareStatement("SELECT * FROM api_tokens WHERE secret_sha256 = ?"), h);
                    ResultSet r = p.executeQuery()) {
                return r.next() ? Optional.of(new Row(r.getBytes("secret_sha256"), token(r))) : Optional.empty();
            }
        });
        if (found.isEmpty() || !MessageDigest.isEqual(found.get().hash(), h)) {
            return new Check.Unknown();
        }
        ApiToken t = found.get().token();
        Instant now = clock.instant();
        switch (t.state(now)) {
            case "revoked":
                return new Check.Revoked(t.name());
            case "expired":
                return new Check.Expired(t.name());
            default:
                break;
        }
        if (t.lastUsedAt().isEmpty() || !now.isBefore(t.lastUsedAt().get().plus(LAST_USED_GRAIN))) {
            store.read(c -> {
                try (PreparedStatement p = Jdbc.bind(c.prepareStatement("UPDATE api_tokens SET last_used_at = ? WHERE id = ?"), now, t.id())) {
                    return p.executeUpdate();
                }
            });
        }
        return new Check.Valid(t);
    }

    /** Every token, revoked and expired ones too, oldest first. */
    public List<ApiToken> list() {
        return store.read(c -> {
            List<ApiToken> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM api_tokens ORDER BY created_at, id"); ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    out.add(token(r));
                }
            }
            return out;
        });
    }

    /** Revokes the active token named {@code name}; empty when there is none. Takes effect on the next call it makes. */
    public Optional<ApiToken> revoke(String name, String by) {
        return store.tx(c -> {
            Instant now = clock.instant();
            Optional<ApiToken> active = active(c, name);
            if (active.isPresent()) {
                try (PreparedStatement p = Jdbc.bind(c.prepareStatement("UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ?"),
                        now, by, active.get().id())) {
                    p.executeUpdate();
                }
            }
            return active.map(t -> new ApiToken(t.id(), t.name(), t.scopes(), t.createdAt(), t.createdBy(), t.expiresAt(), t.lastUsedAt(),
                    Optional.of(now), Optional.of(by)));
        });
    }

    /** Thrown by {@link #create} when an active token already has the name. */
    public static final class NameTakenException extends RuntimeException {
        public NameTakenException(String name) {
            super("an active token is already named '" + name + "'; revoke it first or choose another name");
        }
    }

    private record Row(byte[] hash, ApiToken token) {
    }

    private ApiToken insert(String name, Set<Scope> scopes, byte[] hash, Instant now, String by, Optional<Instant> expires) {
        return store.tx(c -> {
            if (active(c, name).isPresent()) {
                throw new NameTakenException(name);
            }
            return insert(c, newId(), name, scopes, hash, now, by, expires);
        });
    }

    private static ApiToken insert(Connection c, String id, String name, Set<Scope> scopes, byte[] hash, Instant now, String by,
            Optional<Instant> expires) throws SQLException {
        try (PreparedStatement p = Jdbc.bind(c.prepareStatement(
                "INSERT INTO api_tokens (id, name, secret_sha256, scopes, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                id, name, hash, Scope.join(scopes), now, by, expires)) {
            p.executeUpdate();
        }
        return new ApiToken(id, name, scopes, now, by, expires, Optional.empty(), Optional.empty(), Optional.empty());
    }

    private static Optional<ApiToken> active(Connection c, String name) throws SQLException {
        try (PreparedStatement p = Jdbc.bind(c.prepareStatement("SELECT * FROM api_tokens WHERE name = ? AND revoked_at IS NULL"), name);
                ResultSet r = p.executeQuery()) {
            return r.next() ? Optional.of(token(r)) : Optional.empty();
        }
    }

    private static ApiToken token(ResultSet r) throws SQLException {
        return new ApiToken(r.getString("id"), r.getString("name"), Scope.known(List.of(r.getString("scopes"))),
                Instant.ofEpochMilli(r.getLong("created_at")), r.getString("created_by"), Jdbc.instant(r, "expires_at"),
                Jdbc.instant(r, "last_used_at"), Jdbc.instant(r, "revoked_at"), Optional.ofNullable(r.getString("revoked_by")));
    }

    private static String newId() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return "tok_" + HexFormat.of().formatHex(b);
    }

    static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
