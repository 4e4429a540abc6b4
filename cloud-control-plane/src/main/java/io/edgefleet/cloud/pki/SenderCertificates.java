package io.edgefleet.cloud.pki;

import io.edgefleet.transport.pki.Identity;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The device CA's certificates as the message checks need them
 * ({@link io.edgefleet.transport.signing.DeviceCertificates}): called for every signed
 * {@code state}, {@code telemetry} and {@code cmd/ack}, so it answers from a cache. An identity's
 * certificates are read from the store at most every {@code ttl} (a freshly enrolled device's
 * first messages may wait that long if it was looked up just before it enrolled; an empty answer
 * is kept only {@code negativeTtl}); a revocation empties the identity's entry at once, before the
 * revocation call returns, so a revoked device's next message is refused, and the control plane
 * calls {@link #invalidate} on every enrolment and renewal event. Thread-safe.
 */
public final class SenderCertificates implements io.edgefleet.transport.signing.DeviceCertificates {
    private record Cached(List<Entry> entries, Instant until) {
    }

    private final DeviceCertificates source;
    private final Clock clock;
    private final Duration ttl;
    private final Duration negativeTtl;
    private final ConcurrentHashMap<Identity, Cached> cache = new ConcurrentHashMap<>();

    public SenderCertificates(DevicePki pki, Clock clock, Duration ttl, Duration negativeTtl) {
        this((DeviceCertificates) pki, clock, ttl, negativeTtl);
        pki.onRevocation(r -> cache.remove(r.identity()));
    }

    SenderCertificates(DeviceCertificates source, Clock clock, Duration ttl, Duration negativeTtl) {
        this.source = source;
        this.clock = clock;
        this.ttl = ttl;
        this.negativeTtl = negativeTtl;
    }

    /** With a 30 s cache and a 2 s cache of "not enrolled". */
    public static SenderCertificates of(DevicePki pki, Clock clock) {
        return new SenderCertificates(pki, clock, Duration.ofSeconds(30), Duration.ofSeconds(2));
    }

    /** Forgets what is cached of {@code identity} (it enrolled, renewed or was revoked): the next message reads the store. */
    public void invalidate(Identity identity) {
        cache.remove(identity);
    }

    @Override
    public List<Entry> certificates(Identity identity) {
        Instant now = clock.instant();
        Cached c = cache.get(identity);
        if (c != null && now.isBefore(c.until())) {
            return c.entries();
        }
        List<X509Certificate> certs = source.current(identity);
        List<Entry> entries = certs.stream().map(x -> new Entry(x, false)).toList();
        cache.put(identity, new Cached(entries, now.plus(entries.isEmpty() ? negativeTtl : ttl)));
        return entries;
    }
}
