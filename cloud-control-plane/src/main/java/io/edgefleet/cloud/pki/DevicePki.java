package io.edgefleet.cloud.pki;

import io.edgefleet.cloud.store.DeviceRepository;
import io.edgefleet.cloud.store.EventRepository;
import io.edgefleet.cloud.store.PkiRepository;
import io.edgefleet.cloud.store.PkiRepository.CertificateRow;
import io.edgefleet.cloud.store.PkiRepository.TokenRow;
import io.edgefleet.protocols.Checks;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Certificates;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.Pem;
import io.edgefleet.transport.pki.Possession;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * The device CA at work: enrolment (token + CSR → certificate naming {@code fleet/device}),
 * renewal (current certificate + proof of its key + new CSR → new certificate), revocation of a
 * device's certificates, the CRL, and the queries other parts use ({@link Revocations},
 * {@link DeviceCertificates}). Every certificate it issues is stored; the revoked serials are also
 * kept in memory for {@link #isRevoked}. Events: {@code device.enrolled}, {@code certificate.renewed},
 * {@code device.revoked}. Thread-safe.
 */
public final class DevicePki implements Revocations, DeviceCertificates {
    private static final System.Logger LOG = System.getLogger(DevicePki.class.getName());

    private final CertificateAuthority ca;
    private final PkiSettings settings;
    private final PkiRepository repo;
    private final EnrolmentTokens tokens;
    private final EventRepository events;
    private final Clock clock;
    private final Set<BigInteger> revoked = ConcurrentHashMap.newKeySet();
    private final List<Consumer<Revocation>> listeners = new CopyOnWriteArrayList<>();

    public DevicePki(CertificateAuthority ca, PkiSettings settings, PkiRepository repo, EventRepository events, Clock clock) {
        this.ca = ca;
        this.settings = settings;
        this.repo = repo;
        this.events = events;
        this.clock = clock;
        this.tokens = new EnrolmentTokens(repo, events, ca.certificate(), settings.maxTokenTtl(), clock);
        revoked.addAll(repo.revoked().keySet());
    }

    /**
     * The CA of {@code settings}: the operator's certificate and key when given, else the one in
     * {@code pkiDir} (created there, key mode 0600, on first start).
     */
    public static CertificateAuthority authority(PkiSettings settings, Path pkiDir) {
        if (settings.caCertificate().isPresent()) {
            List<X509Certificate> certs = Pem.certificates(Pem.read(settings.caCertificate().get()));
            if (certs.isEmpty()) {
                throw new IllegalArgumentException("pki.ca-certificate " + settings.caCertificate().get() + " holds no certificate");
            }
            return CertificateAuthority.of(certs.get(0), Pem.privateKey(Pem.read(settings.caKey().orElseThrow())));
        }
        return CertificateAuthority.loadOrCreate(pkiDir, "EdgeFleet device CA", PkiSettings.OWN_CA_VALIDITY);
    }

    /** The CA (for server and broker certificates issued from the same root). */
    public CertificateAuthority authority() {
        return ca;
    }

    public EnrolmentTokens tokens() {
        return tokens;
    }

    /** An issued certificate with the CA that issued it. */
    public record Issued(Identity identity, X509Certificate certificate, X509Certificate ca) {
    }

    /**
     * Enrols a device: checks the token, the device id and the CSR, then (in one transaction) takes
     * one use of the token, stores the certificate and marks the device enrolled in the fleet
     * registry. A refused request consumes nothing and issues nothing.
     *
     * @param bearer the enrolment token text as presented
     * @param device the device id asked for; required with a fleet token, optional with a device token
     * @param csrPem the PKCS#10 request; its key is what gets certified, its subject is ignored
     * @throws PkiException 401 bad token, 403 a device token for another device, 409 a fleet token for a device that holds a valid
     *     certificate, 400 a missing device id or a CSR that does not verify
     */
    public Issued enrol(String bearer, Optional<String> device, String csrPem) {
        TokenRow token = tokens.check(bearer);
        String id;
        if (token.device().isPresent()) {
            if (device.isPresent() && !device.get().equals(token.device().get())) {
                throw new PkiException(403, "Forbidden", "enrolment token " + token.id() + " is for device " + token.fleet() + "/"
                        + token.device().get() + ", not for '" + device.get() + "'");
            }
            id = token.device().get();
        } else {
            id = device.orElseThrow(() -> PkiException.badRequest("enrolment token " + token.id() + " is for fleet " + token.fleet()
                    + ": the request must name the device ('device')"));
        }
        Identity identity;
        try {
            Checks.id(id, "device");
            identity = Identity.device(token.fleet(), id);
        } catch (RuntimeException e) {
            throw PkiException.badRequest(e.getMessage());
        }
        if (token.device().isEmpty() && !current(identity).isEmpty()) {
            // a fleet token must not let its holder take over a device that already has an identity
            throw new PkiException(409, "Already enrolled", identity + " holds a valid certificate: a fleet token enrols new devices only; "
                    + "revoke the device (devices revoke) or issue a token for this device to enrol it again");
        }
        PKCS10CertificationRequest csr = csr(csrPem);
        X509Certificate cert = issue(csr, identity);
        Instant now = clock.instant();
        boolean isNew = repo.store().tx(c -> {
            if (!PkiRepository.consumeToken(c, token.id(), now)) { // lost a race for the last use, or expired since the check
                throw PkiException.unauthorized("enrolment token " + token.id() + " has no uses left");
            }
            PkiRepository.insertCertificate(c, row(identity, cert));
            return DeviceRepository.markEnrolled(c, token.fleet(), id, now);
        });
        if (isNew) {
            events.record("device.registered", identity.commonName(), null, Map.of("by", "enrolment"));
        }
        events.record("device.enrolled", identity.commonName(), null, Map.of("token", token.id(), "serial", cert.getSerialNumber().toString(16),
                "notAfter", cert.getNotAfter().toInstant().toString()));
        return new Issued(identity, cert, ca.certificate());
    }

    /**
     * Renews a certificate without mutual TLS: {@code currentPem} must be a certificate this CA
     * issued, valid now and not revoked; {@code signature} must verify over the new CSR's DER
     * encoding with the current certificate's key; the new certificate names the same identity
     * (whatever the CSR asks) over the CSR's key, which may be the same key or a new one.
     *
     * @throws PkiException 401 when the certificate or the proof is not acceptable, 400 when the CSR does not verify
     */
    public Issued renew(String currentPem, String csrPem, byte[] signature) {
        List<X509Certificate> presented;
        try {
            presented = Pem.certificates(currentPem);
        } catch (IllegalArgumentException e) {
            throw PkiException.badRequest("'certificate' is not PEM: " + e.getMessage());
        }
        if (presented.isEmpty()) {
            throw PkiException.badRequest("'certificate' holds no certificate");
        }
        X509Certificate current = presented.get(0);
        try {
            current.verify(ca.certificate().getPublicKey());
        } catch (GeneralSecurityException e) {
            throw PkiException.unauthorized("the certificate was not issued by this control plane's CA");
        }
        Instant now = clock.instant();
        try {
            current.checkValidity(Date.from(now));
        } catch (GeneralSecurityException e) {
            throw PkiException.unauthorized("the certificate is not valid now (valid " + current.getNotBefore().toInstant() + " to "
                    + current.getNotAfter().toInstant() + "): enrol again with a new token");
        }
        Optional<CertificateRow> row = repo.certificate(current.getSerialNumber());
        if (row.isEmpty()) {
            throw PkiException.unauthorized("the certificate is not one this control plane issued to a device");
        }
        if (row.get().revokedAt().isPresent() || revoked.contains(current.getSerialNumber())) {
            throw PkiException.unauthorized("the certificate was revoked at " + row.get().revokedAt().map(Instant::toString).orElse("?"));
        }
        Identity identity = Identity.device(row.get().fleet(), row.get().device());
        if (!Certificates.identity(current).equals(identity)) {
            throw PkiException.unauthorized("the certificate names another identity than the one it was issued to");
        }
        PKCS10CertificationRequest csr = csr(csrPem);
        byte[] der;
        try {
            der = csr.getEncoded();
        } catch (java.io.IOException e) {
            throw PkiException.badRequest("unencodable CSR");
        }
        if (!Possession.verifies(current, der, signature)) {
            throw PkiException.unauthorized("'signature' does not verify over the CSR with the current certificate's key");
        }
        X509Certificate cert = issue(csr, identity);
        repo.store().tx(c -> {
            PkiRepository.insertCertificate(c, row(identity, cert));
            return null;
        });
        events.record("certificate.renewed", identity.commonName(), null, Map.of("previous", current.getSerialNumber().toString(16),
                "serial", cert.getSerialNumber().toString(16), "notAfter", cert.getNotAfter().toInstant().toString()));
        return new Issued(identity, cert, ca.certificate());
    }

    /**
     * Revokes every certificate of {@code fleet/device}, records {@code device.revoked} and tells the
     * listeners.
     *
     * @throws PkiException 404 when this CA never issued the device a certificate
     */
    public Revocation revoke(String fleet, String device, String actor) {
        Identity identity;
        try {
            identity = Identity.device(fleet, device);
        } catch (RuntimeException e) {
            throw PkiException.badRequest(e.getMessage());
        }
        if (repo.certificates(fleet, device).isEmpty()) {
            throw new PkiException(404, "Unknown device", "no certificate was issued to " + identity + ": nothing to revoke");
        }
        Instant now = clock.instant();
        List<BigInteger> serials = repo.revokeDevice(fleet, device, now);
        revoked.addAll(serials);
        events.record("device.revoked", identity.commonName(), actor, Map.of("certificates", serials.size(),
                "serials", serials.stream().map(s -> s.toString(16)).toList()));
        Revocation r = new Revocation(identity, serials, now, Optional.ofNullable(actor));
        for (Consumer<Revocation> l : listeners) {
            try {
                l.accept(r);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "revocation listener failed for {0}: {1}", identity, e.toString());
            }
        }
        return r;
    }

    /**
     * Reloads the revoked serials from the store, so that revocations made by another replica of
     * the control plane (sharing the database) reach {@link #isRevoked} too. The control plane calls
     * it every few seconds on its housekeeping thread; listeners hear only this process's revocations.
     *
     * @return how many serials were not known here before
     */
    public int refresh() {
        int before = revoked.size();
        revoked.addAll(repo.revoked().keySet());
        return revoked.size() - before;
    }

    /** A CRL (RFC 5280) of every revoked device certificate, signed by the CA, next update per the settings. */
    public X509CRL crl() {
        return ca.crl(repo.revoked(), settings.crlNextUpdate());
    }

    @Override
    public boolean isRevoked(BigInteger serial) {
        return revoked.contains(serial);
    }

    @Override
    public void onRevocation(Consumer<Revocation> listener) {
        listeners.add(listener);
    }

    @Override
    public List<X509Certificate> current(Identity identity) {
        if (!identity.isDevice()) {
            return List.of();
        }
        Instant now = clock.instant();
        List<X509Certificate> out = new ArrayList<>();
        for (CertificateRow r : repo.certificates(identity.fleet().get(), identity.name())) {
            if (r.revokedAt().isEmpty() && !revoked.contains(r.serial()) && !r.notBefore().isAfter(now) && r.notAfter().isAfter(now)) {
                out.addAll(Pem.certificates(r.pem()));
            }
        }
        return out;
    }

    private X509Certificate issue(PKCS10CertificationRequest csr, Identity identity) {
        try {
            return ca.issue(csr, identity, settings.deviceValidity());
        } catch (IllegalArgumentException e) {
            throw PkiException.badRequest("the CSR was refused: " + e.getMessage());
        }
    }

    private static PKCS10CertificationRequest csr(String pem) {
        if (pem == null || pem.isBlank()) {
            throw PkiException.badRequest("'csr' (a PEM CERTIFICATE REQUEST) is required");
        }
        try {
            return Pem.csr(pem);
        } catch (IllegalArgumentException e) {
            throw PkiException.badRequest("'csr' is not a PEM CERTIFICATE REQUEST");
        }
    }

    private static CertificateRow row(Identity identity, X509Certificate cert) {
        return new CertificateRow(cert.getSerialNumber(), identity.fleet().orElseThrow(), identity.name(), cert.getNotBefore().toInstant(),
                cert.getNotAfter().toInstant(), Optional.empty(), Pem.write(cert));
    }
}
