package io.edgefleet.cloud.pki;

import io.edgefleet.cloud.store.EventRepository;
import io.edgefleet.cloud.store.PkiRepository;
import io.edgefleet.cloud.store.PkiRepository.TokenRow;
import io.edgefleet.protocols.Checks;
import io.edgefleet.transport.pki.EnrolmentToken;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Enrolment tokens an operator issues: for one fleet (any device id in it) or one device,
 * short-lived, with a number of uses. Only the SHA-256 of a token's secret is stored; a presented
 * token is found by its public id and its secret compared in constant time. Creating and revoking
 * are recorded as events ({@code enrolment-token.created}, {@code enrolment-token.revoked}, with
 * the id, never the secret). Thread-safe (the store serialises).
 */
public final class EnrolmentTokens {
    /** Most uses one token may carry: a fleet token for a production batch, not an unlimited credential. */
    public static final int MAX_USES = 100_000;

    private final PkiRepository repo;
    private final EventRepository events;
    private final X509Certificate ca;
    private final Duration maxTtl;
    private final Clock clock;

    public EnrolmentTokens(PkiRepository repo, EventRepository events, X509Certificate ca, Duration maxTtl, Clock clock) {
        this.repo = repo;
        this.events = events;
        this.ca = ca;
        this.maxTtl = maxTtl;
        this.clock = clock;
    }

    /**
     * What an operator sees of a token: never its secret.
     *
     * @param status {@code active}, {@code used-up}, {@code expired} or {@code revoked} at the time of listing
     */
    public record Info(String id, String fleet, Optional<String> device, int usesLeft, Instant expiresAt, Optional<String> createdBy,
            Instant createdAt, Optional<Instant> revokedAt, String status) {
    }

    /** A token just created: {@code token} is the whole secret text, shown once. */
    public record Created(Info info, String token, String caSha256) {
        @Override
        public String toString() {
            return "Created[" + info + "]";
        }
    }

    /**
     * Issues a token.
     *
     * @param device empty for a fleet token (any device id of the fleet may enrol with it)
     * @param uses how many enrolments it allows, 1..{@value #MAX_USES}
     * @param ttl how long it is valid, 1 s .. the configured maximum
     * @throws PkiException 400 when an argument breaks those rules
     */
    public Created create(String fleet, Optional<String> device, int uses, Duration ttl, String actor) {
        try {
            Checks.id(fleet, "fleet");
            device.ifPresent(d -> Checks.id(d, "device"));
        } catch (RuntimeException e) {
            throw PkiException.badRequest(e.getMessage());
        }
        if (uses < 1 || uses > MAX_USES) {
            throw PkiException.badRequest("uses must be 1.." + MAX_USES + ", got " + uses);
        }
        if (ttl.toMillis() < 1000 || ttl.compareTo(maxTtl) > 0) {
            throw PkiException.badRequest("ttl must be between 1 s and " + maxTtl.toSeconds() + " s (pki.max-token-ttl), got " + ttl.toSeconds() + " s");
        }
        EnrolmentToken t = EnrolmentToken.generate(ca);
        Instant now = clock.instant();
        TokenRow row = new TokenRow(t.id(), t.secretHash(), fleet, device, uses, now.plus(ttl), Optional.ofNullable(actor), now, Optional.empty());
        repo.insertToken(row);
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("id", t.id());
        detail.put("device", device.orElse("*"));
        detail.put("uses", uses);
        detail.put("expiresAt", row.expiresAt().toString());
        events.record("enrolment-token.created", fleet, actor, detail);
        return new Created(info(row, now), t.text(), t.caSha256());
    }

    /** Every token, newest first, without secrets. */
    public List<Info> list() {
        Instant now = clock.instant();
        return repo.tokens().stream().map(r -> info(r, now)).toList();
    }

    /**
     * Revokes a token: it can no longer enrol anything.
     *
     * @throws PkiException 404 when there is no such token
     */
    public Info revoke(String id, String actor) {
        TokenRow row = repo.token(id).orElseThrow(() -> new PkiException(404, "Unknown enrolment token", "no enrolment token has id '" + id + "'"));
        if (repo.revokeToken(id, clock.instant())) {
            events.record("enrolment-token.revoked", row.fleet(), actor, Map.of("id", id));
        }
        return info(repo.token(id).orElseThrow(), clock.instant());
    }

    /**
     * The stored row of a presented token, if it is one we issued, its secret matches (constant
     * time over SHA-256) and it is usable now.
     *
     * @throws PkiException 401 naming why (malformed, unknown, revoked, expired, used up), never echoing the token
     */
    TokenRow check(String presented) {
        EnrolmentToken t;
        try {
            t = EnrolmentToken.parse(presented);
        } catch (IllegalArgumentException e) {
            throw PkiException.unauthorized("the bearer credential is not an enrolment token (ef1.<id>.<secret>.<ca-sha256>)");
        }
        Optional<TokenRow> found = repo.token(t.id());
        // compare against something of the same length even when the id is unknown, so timing tells nothing
        byte[] stored = found.map(TokenRow::hash).orElse(new byte[32]);
        boolean match = MessageDigest.isEqual(stored, t.secretHash()) && found.isPresent();
        if (!match) {
            throw PkiException.unauthorized("the enrolment token is not valid");
        }
        TokenRow row = found.get();
        Instant now = clock.instant();
        if (row.revokedAt().isPresent()) {
            throw PkiException.unauthorized("enrolment token " + row.id() + " was revoked");
        }
        if (!row.expiresAt().isAfter(now)) {
            throw PkiException.unauthorized("enrolment token " + row.id() + " expired at " + row.expiresAt());
        }
        if (row.usesLeft() < 1) {
            throw PkiException.unauthorized("enrolment token " + row.id() + " has no uses left");
        }
        return row;
    }

    static Info info(TokenRow r, Instant now) {
        String status = r.revokedAt().isPresent() ? "revoked" : !r.expiresAt().isAfter(now) ? "expired" : r.usesLeft() < 1 ? "used-up" : "active";
        return new Info(r.id(), r.fleet(), r.device(), r.usesLeft(), r.expiresAt(), r.createdBy(), r.createdAt(), r.revokedAt(), status);
    }
}
