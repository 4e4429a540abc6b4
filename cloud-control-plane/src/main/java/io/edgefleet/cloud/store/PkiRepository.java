package io.edgefleet.cloud.store;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The device CA's rows: issued certificates and enrolment tokens ({@code V5__pki.sql}). Serial numbers are stored as lowercase hex. */
public final class PkiRepository {
    private final CloudStore store;

    public PkiRepository(CloudStore store) {
        this.store = store;
    }

    /** An enrolment token's row; {@code hash} is the SHA-256 of its secret. */
    public record TokenRow(String id, byte[] hash, String fleet, Optional<String> device, int usesLeft, Instant expiresAt,
            Optional<String> createdBy, Instant createdAt, Optional<Instant> revokedAt) {
    }

    /** An issued certificate's row. */
    public record CertificateRow(BigInteger serial, String fleet, String device, Instant notBefore, Instant notAfter,
            Optional<Instant> revokedAt, String pem) {
    }

    public CloudStore store() {
        return store;
    }

    public void insertToken(TokenRow t) {
        store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO enrolment_tokens (id, hash, fleet, device, uses_left, expires_at, "
                    + "created_by, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                Jdbc.bind(p, t.id(), t.hash(), t.fleet(), t.device(), t.usesLeft(), t.expiresAt(), t.createdBy(), t.createdAt(), t.revokedAt())
                        .executeUpdate();
            }
            return null;
        });
    }

    public Optional<TokenRow> token(String id) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM enrolment_tokens WHERE id = ?")) {
                ResultSet r = Jdbc.bind(p, id).executeQuery();
                return r.next() ? Optional.of(token(r)) : Optional.empty();
            }
        });
    }

    /** Every token, newest first. */
    public List<TokenRow> tokens() {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM enrolment_tokens ORDER BY created_at DESC, id")) {
                ResultSet r = p.executeQuery();
                List<TokenRow> out = new ArrayList<>();
                while (r.next()) {
                    out.add(token(r));
                }
                return out;
            }
        });
    }

    /** Marks the token revoked at {@code at}; false when there is no such token or it was revoked already. */
    public boolean revokeToken(String id, Instant at) {
        return store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE enrolment_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")) {
                return Jdbc.bind(p, at, id).executeUpdate() == 1;
            }
        });
    }

    /**
     * Takes one use of the token inside the caller's transaction, only if it is still usable at
     * {@code now} (not revoked, not expired, uses left): the check and the decrement are one
     * statement, so two enrolments racing for a token's last use cannot both win.
     */
    public static boolean consumeToken(Connection c, String id, Instant now) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE enrolment_tokens SET uses_left = uses_left - 1 WHERE id = ? AND uses_left > 0 "
                + "AND revoked_at IS NULL AND expires_at > ?")) {
            return Jdbc.bind(p, id, now).executeUpdate() == 1;
        }
    }

    public static void insertCertificate(Connection c, CertificateRow r) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO certificates (serial, fleet, device, not_before, not_after, revoked_at, pem) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            Jdbc.bind(p, r.serial().toString(16), r.fleet(), r.device(), r.notBefore(), r.notAfter(), r.revokedAt(), r.pem()).executeUpdate();
        }
    }

    public Optional<CertificateRow> certificate(BigInteger serial) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM certificates WHERE serial = ?")) {
                ResultSet r = Jdbc.bind(p, serial.toString(16)).executeQuery();
                return r.next() ? Optional.of(certificate(r)) : Optional.empty();
            }
        });
    }

    /** The device's certificates, newest (latest {@code not_after}) first. */
    public List<CertificateRow> certificates(String fleet, String device) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM certificates WHERE fleet = ? AND device = ? ORDER BY not_after DESC")) {
                ResultSet r = Jdbc.bind(p, fleet, device).executeQuery();
                List<CertificateRow> out = new ArrayList<>();
                while (r.next()) {
                    out.add(certificate(r));
                }
                return out;
            }
        });
    }

    /** Revokes every not yet revoked certificate of the device at {@code at}; returns their serials. */
    public List<BigInteger> revokeDevice(String fleet, String device, Instant at) {
        return store.tx(c -> {
            List<BigInteger> serials = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT serial FROM certificates WHERE fleet = ? AND device = ? AND revoked_at IS NULL")) {
                ResultSet r = Jdbc.bind(p, fleet, device).executeQuery();
                while (r.next()) {
                    serials.add(new BigInteger(r.getString(1), 16));
                }
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE certificates SET revoked_at = ? WHERE fleet = ? AND device = ? AND revoked_at IS NULL")) {
                Jdbc.bind(p, at, fleet, device).executeUpdate();
            }
            return serials;
        });
    }

    /** Every revoked serial with its revocation time (the CRL's entries). */
    public Map<BigInteger, Instant> revoked() {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT serial, revoked_at FROM certificates WHERE revoked_at IS NOT NULL ORDER BY revoked_at")) {
                ResultSet r = p.executeQuery();
                Map<BigInteger, Instant> out = new LinkedHashMap<>();
                while (r.next()) {
                    out.put(new BigInteger(r.getString(1), 16), Instant.ofEpochMilli(r.getLong(2)));
                }
                return out;
            }
        });
    }

    private static TokenRow token(ResultSet r) throws SQLException {
        return new TokenRow(r.getString("id"), r.getBytes("hash"), r.getString("fleet"), Optional.ofNullable(r.getString("device")),
                r.getInt("uses_left"), Instant.ofEpochMilli(r.getLong("expires_at")), Optional.ofNullable(r.getString("created_by")),
                Instant.ofEpochMilli(r.getLong("created_at")), Jdbc.instant(r, "revoked_at"));
    }

    private static CertificateRow certificate(ResultSet r) throws SQLException {
        return new CertificateRow(new BigInteger(r.getString("serial"), 16), r.getString("fleet"), r.getString("device"),
                Instant.ofEpochMilli(r.getLong("not_before")), Instant.ofEpochMilli(r.getLong("not_after")), Jdbc.instant(r, "revoked_at"),
                r.getString("pem"));
    }
}
