package io.edgefleet.agent.identity;

import io.edgefleet.transport.pki.Certificates;
import io.edgefleet.transport.pki.Csr;
import io.edgefleet.transport.pki.EnrolmentToken;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.Pem;
import io.edgefleet.transport.pki.Possession;
import io.edgefleet.transport.pki.TlsContexts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * The agent's X.509 identity {@code fleet/device}, kept in {@code <data>/identity/}: {@code key.pem}
 * (its P-256 private key, generated here, mode 0600, never sent anywhere), {@code cert.pem} (its
 * certificate) and {@code ca.pem} (the control plane's CA, pinned by the enrolment token's hash).
 *
 * <p>{@link #open} loads a valid identity from the folder, or enrols: it generates the key (kept
 * across retries), fetches the CA and checks it against the token's pin, sends a CSR with the token
 * and stores what comes back after checking it names this device, certifies this key and chains to
 * the pinned CA. {@link #start} then renews on a daemon thread ({@code agent-identity}) when
 * {@link EnrolmentSettings#renewAt()} of the lifetime has passed, retrying with doubling delays while
 * the control plane is away; the current certificate stays in use (and on disk) until a new one has
 * been stored, which replaces {@code cert.pem} atomically. Renewal keeps the key: it proves it with a
 * signature over the new CSR. {@link #sslContext()} always gives the context of the current
 * certificate, for MQTT and HTTPS clients ({@code Supplier<SSLContext>}). Thread-safe.
 */
public final class AgentIdentity implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(AgentIdentity.class.getName());

    private final Path dir;
    private final Identity identity;
    private final EnrolmentSettings settings;
    private final EnrolmentClient client;
    private final Clock clock;
    private final PrivateKey key;
    private final X509Certificate ca;
    private final List<Consumer<X509Certificate>> renewed = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().name("agent-identity").daemon().unstarted(r));
    private volatile State state;
    private int failures;

    /** The certificate in use, when it was received (renewal is counted from then), and its TLS context. */
    private record State(X509Certificate certificate, Instant receivedAt, SSLContext context) {
    }

    private AgentIdentity(Path dir, Identity identity, EnrolmentSettings settings, Clock clock, PrivateKey key, X509Certificate ca,
            X509Certificate cert, Instant receivedAt) {
        this.dir = dir;
        this.identity = identity;
        this.settings = settings;
        this.client = new EnrolmentClient(settings.controlPlane());
        this.clock = clock;
        this.key = key;
        this.ca = ca;
        this.state = state(cert, receivedAt);
    }

    /**
     * The identity in {@code dir}, enrolling first when the folder holds no valid one.
     *
     * @throws IdentityException when there is no valid identity and enrolment failed: refused (no or a bad token,
     *     a pin mismatch) or the control plane stayed away for {@link EnrolmentSettings#enrolTimeout()}
     */
    public static AgentIdentity open(Path dir, String fleet, String device, EnrolmentSettings settings, Clock clock) {
        Identity want = Identity.device(fleet, device);
        Optional<AgentIdentity> loaded = load(dir, want, settings, clock);
        if (loaded.isPresent()) {
            LOG.log(System.Logger.Level.INFO, "identity {0}: certificate {1} valid until {2}", want,
                    loaded.get().certificate().getSerialNumber().toString(16), loaded.get().certificate().getNotAfter().toInstant());
            return loaded.get();
        }
        String text = settings.token().orElseThrow(() -> new IdentityException("no valid certificate in " + dir
                + " and no enrolment token: start the agent with --enrol-token (edgefleet enrolment-tokens create)", false));
        EnrolmentToken token;
        try {
            token = EnrolmentToken.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IdentityException("the enrolment token is malformed: " + e.getMessage(), false);
        }
        KeyPair keys = keyPair(dir);
        long deadline = System.nanoTime() + settings.enrolTimeout().toNanos();
        Duration delay = settings.retryMin();
        while (true) {
            try {
                return enrol(dir, want, settings, clock, token, keys);
            } catch (IdentityException e) {
                if (!e.retriable() || System.nanoTime() + delay.toNanos() > deadline) {
                    throw e;
                }
                LOG.log(System.Logger.Level.WARNING, "enrolment of {0} failed ({1}); retrying in {2} ms", want, e.getMessage(), delay.toMillis());
                sleep(delay);
                delay = min(delay.multipliedBy(2), settings.retryMax());
            }
        }
    }

    private static AgentIdentity enrol(Path dir, Identity want, EnrolmentSettings settings, Clock clock, EnrolmentToken token, KeyPair keys) {
        EnrolmentClient client = new EnrolmentClient(settings.controlPlane());
        X509Certificate ca = client.fetchCa();
        if (!token.pins(ca)) {
            throw new IdentityException("the control plane's CA (sha256 " + EnrolmentToken.fingerprint(ca) + ") is not the one the enrolment token pins ("
                    + token.caSha256() + "): refusing to trust it", false);
        }
        EnrolmentClient.Answer a = client.enrol(token, ca, want.name(), Pem.write(Csr.create(keys, want)));
        check(a, ca, want, keys.getPublic(), clock);
        Pem.writePublic(dir.resolve("ca.pem"), Pem.write(ca));
        Pem.writePublic(dir.resolve("cert.pem"), Pem.write(a.certificate()));
        LOG.log(System.Logger.Level.INFO, "enrolled as {0}: certificate {1} valid until {2}", want, a.certificate().getSerialNumber().toString(16),
                a.certificate().getNotAfter().toInstant());
        return new AgentIdentity(dir, want, settings, clock, keys.getPrivate(), ca, a.certificate(), clock.instant());
    }

    /** The folder's identity if key, certificate and CA are there, match each other and this device, and the certificate is valid now. */
    static Optional<AgentIdentity> load(Path dir, Identity want, EnrolmentSettings settings, Clock clock) {
        Path keyFile = dir.resolve("key.pem");
        Path certFile = dir.resolve("cert.pem");
        Path caFile = dir.resolve("ca.pem");
        if (!Files.exists(keyFile) || !Files.exists(certFile) || !Files.exists(caFile)) {
            return Optional.empty();
        }
        try {
            PrivateKey key = Pem.privateKey(Pem.read(keyFile));
            X509Certificate cert = Pem.certificates(Pem.read(certFile)).getFirst();
            X509Certificate ca = Pem.certificates(Pem.read(caFile)).getFirst();
            check(new EnrolmentClient.Answer(cert, ca), ca, want, cert.getPublicKey(), clock);
            byte[] probe = "edgefleet key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            if (!Possession.verifies(cert, probe, Possession.sign(key, probe))) {
                throw new IdentityException("key.pem is not the key cert.pem certifies", false);
            }
            Instant received = Files.getLastModifiedTime(certFile).toInstant();
            Instant from = cert.getNotBefore().toInstant();
            received = received.isBefore(from) ? from : received.isAfter(clock.instant()) ? clock.instant() : received;
            return Optional.of(new AgentIdentity(dir, want, settings, clock, key, ca, cert, received));
        } catch (RuntimeException | IOException e) {
            LOG.log(System.Logger.Level.WARNING, "the identity in {0} is not usable ({1}); enrolling again", dir, e.getMessage());
            return Optional.empty();
        }
    }

    /** An answer is stored only if it chains to the pinned CA, names this device, certifies this key and is valid now. */
    private static void check(EnrolmentClient.Answer a, X509Certificate ca, Identity want, PublicKey key, Clock clock) {
        if (!a.ca().equals(ca)) {
            throw new IdentityException("the control plane answered with another CA than the pinned one", false);
        }
        try {
            a.certificate().verify(ca.getPublicKey());
            a.certificate().checkValidity(Date.from(clock.instant()));
        } catch (GeneralSecurityException e) {
            throw new IdentityException("the certificate does not verify against the CA or is not valid now: " + e.getMessage(), false, e);
        }
        Identity named;
        try {
            named = Certificates.identity(a.certificate());
        } catch (IllegalArgumentException e) {
            throw new IdentityException("the certificate names no EdgeFleet identity", false, e);
        }
        if (!named.equals(want)) {
            throw new IdentityException("the certificate names " + named + ", not this device " + want, false);
        }
        if (!a.certificate().getPublicKey().equals(key)) {
            throw new IdentityException("the certificate certifies another key than this device's", false);
        }
    }

    /**
     * A new P-256 key written to {@code dir/key.pem} (mode 0600) before anything is sent. A key left
     * there without a certificate (an enrolment that never finished) is replaced: it was never certified.
     */
    private static KeyPair keyPair(Path dir) {
        KeyPair keys = KeyPairs.ecP256();
        Pem.writePrivate(dir.resolve("key.pem"), Pem.write(keys.getPrivate()));
        return keys;
    }

    /** Starts renewing in the background (idempotent per instance: call once). */
    public AgentIdentity start() {
        loop.schedule(this::loopOnce, untilDue().toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    private void loopOnce() {
        try {
            Duration next = runOnce();
            loop.schedule(this::loopOnce, Math.max(1, next.toMillis()), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) { // never let the loop die
            LOG.log(System.Logger.Level.ERROR, "identity renewal loop: {0}", e.toString());
            loop.schedule(this::loopOnce, settings.retryMax().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Renews if due, returning how long until the next attempt: the new renewal time after a
     * success, a doubling delay (from {@code retryMin} to {@code retryMax}) after a failure. The
     * current certificate stays in use whatever happens. Package-private for tests (with a clock).
     */
    Duration runOnce() {
        if (!untilDue().isZero()) {
            return untilDue();
        }
        try {
            renew();
            failures = 0;
            return untilDue();
        } catch (IdentityException e) {
            failures++;
            Duration delay = min(settings.retryMin().multipliedBy(1L << Math.min(failures - 1, 20)), settings.retryMax());
            LOG.log(e.retriable() ? System.Logger.Level.WARNING : System.Logger.Level.ERROR,
                    "renewal of {0} failed ({1}); certificate valid until {2}; next attempt in {3} ms", identity, e.getMessage(),
                    state.certificate().getNotAfter().toInstant(), delay.toMillis());
            return delay;
        }
    }

    /**
     * Renews now: a CSR over the same key, signed again with it as proof of possession; the answer
     * is checked like an enrolment's, then written to {@code cert.pem} atomically and used.
     *
     * @throws IdentityException when the control plane is away (retriable) or refuses
     */
    public synchronized X509Certificate renew() {
        KeyPair keys = new KeyPair(state.certificate().getPublicKey(), key);
        PKCS10CertificationRequest csr = Csr.create(keys, identity);
        byte[] der;
        try {
            der = csr.getEncoded();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        EnrolmentClient.Answer a = client.renew(ca, state.certificate(), Pem.write(csr), Possession.sign(key, der));
        check(a, ca, identity, keys.getPublic(), clock);
        Pem.writePublic(dir.resolve("cert.pem"), Pem.write(a.certificate()));
        state = state(a.certificate(), clock.instant());
        LOG.log(System.Logger.Level.INFO, "renewed {0}: certificate {1} valid until {2}", identity, a.certificate().getSerialNumber().toString(16),
                a.certificate().getNotAfter().toInstant());
        for (Consumer<X509Certificate> l : renewed) {
            try {
                l.accept(a.certificate());
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "renewal listener: {0}", e.toString());
            }
        }
        return a.certificate();
    }

    /** When the current certificate is due for renewal. */
    public Instant renewAt() {
        State s = state;
        Duration left = Duration.between(s.receivedAt(), s.certificate().getNotAfter().toInstant());
        return s.receivedAt().plusMillis((long) (left.toMillis() * settings.renewAt()));
    }

    private Duration untilDue() {
        Duration d = Duration.between(clock.instant(), renewAt());
        return d.isNegative() ? Duration.ZERO : d;
    }

    /** The TLS context presenting the current certificate and trusting the control plane's CA; a new one after each renewal. */
    public SSLContext sslContext() {
        return state.context();
    }

    /** {@link #sslContext()} as a supplier, for clients that reconnect (MQTT, HTTPS). */
    public Supplier<SSLContext> sslContexts() {
        return this::sslContext;
    }

    public X509Certificate certificate() {
        return state.certificate();
    }

    public X509Certificate ca() {
        return ca;
    }

    public Identity identity() {
        return identity;
    }

    /** The private key, for local use only (signing messages); it is never sent. */
    public PrivateKey privateKey() {
        return key;
    }

    /** Calls {@code listener} with each new certificate, on the renewing thread, after it is stored and in use. */
    public void onRenewed(Consumer<X509Certificate> listener) {
        renewed.add(listener);
    }

    @Override
    public void close() {
        loop.shutdownNow();
    }

    private State state(X509Certificate cert, Instant receivedAt) {
        return new State(cert, receivedAt, TlsContexts.of(key, List.of(cert), List.of(ca)));
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IdentityException("interrupted while waiting to retry enrolment", false, e);
        }
    }
}
