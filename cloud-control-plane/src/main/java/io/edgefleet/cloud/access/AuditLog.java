package io.edgefleet.cloud.access;

import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Jdbc;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The audit of operator and device calls in the control-plane database ({@code audit}, migration
 * {@code V6__access.sql}): who, what, when, from where, and how it ended. Written by
 * {@link Access#record} only; read by {@code GET /api/v1/audit}. Thread-safe.
 */
public final class AuditLog {
    private final CloudStore store;
    private final Clock clock;

    public AuditLog(CloudStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /**
     * One audited call.
     *
     * @param actorKind {@code token}, {@code jwt}, {@code device}, or {@code none} (no or a refused credential)
     * @param actor the token's name, the JWT subject, the device identity, or {@code -}
     * @param route the route template, e.g. {@code /api/v1/rollouts/{id}/{op}}
     * @param target the path called, e.g. {@code /api/v1/rollouts/ro-1/pause}
     * @param status the HTTP status answered
     * @param remote the caller's address (the forwarded client's when a trusted proxy forwarded it)
     */
    public record Entry(long id, Instant at, String actorKind, String actor, String method, String route, String target, int status,
            String remote) {
    }

    /** Appends one row stamped now; returns it. */
    public Entry append(String actorKind, String actor, String method, String route, String target, int status, String remote) {
        Instant at = clock.instant();
        long id = store.read(c -> {
            try (PreparedStatement p = Jdbc.bind(c.prepareStatement(
                    "INSERT INTO audit (at, actor_kind, actor, method, route, target, status, remote) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"),
                    at, actorKind, actor, method, route, target, status, remote)) {
                try (ResultSet k = p.executeQuery()) {
                    return k.next() ? k.getLong(1) : -1L;
                }
            }
        });
        return new Entry(id, at, actorKind, actor, method, route, target, status, remote);
    }

    /** Rows at or after {@code since} (all when empty), of {@code actor} when given, newest first, at most {@code limit}. */
    public List<Entry> query(Optional<Instant> since, Optional<String> actor, int limit) {
        return store.read(c -> {
            try (PreparedStatement p = Jdbc.bind(c.prepareStatement(
                    "SELECT * FROM audit WHERE at >= ? AND (CAST(? AS TEXT) IS NULL OR actor = ?) ORDER BY at DESC, id DESC LIMIT ?"),
                    since.map(Instant::toEpochMilli).orElse(Long.MIN_VALUE), actor, actor, limit);
                    ResultSet r = p.executeQuery()) {
                List<Entry> out = new ArrayList<>();
                while (r.next()) {
                    out.add(new Entry(r.getLong("id"), Instant.ofEpochMilli(r.getLong("at")), r.getString("actor_kind"), r.getString("actor"),
                            r.getString("method"), r.getString("route"), r.getString("target"), r.getInt("status"), r.getString("remote")));
                }
                return out;
            }
        });
    }

    /** Deletes rows older than {@code before}; returns how many. */
    public int prune(Instant before) {
        return store.read(c -> {
            try (PreparedStatement p = Jdbc.bind(c.prepareStatement("DELETE FROM audit WHERE at < ?"), before)) {
                return p.executeUpdate();
            }
        });
    }
}
