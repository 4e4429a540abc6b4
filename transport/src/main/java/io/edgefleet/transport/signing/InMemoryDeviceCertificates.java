package io.edgefleet.transport.signing;

import io.edgefleet.transport.pki.Certificates;
import io.edgefleet.transport.pki.Identity;
import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** {@link DeviceCertificates} held in memory, for tests and embedded use. Thread-safe. */
public final class InMemoryDeviceCertificates implements DeviceCertificates {
    private final Map<Identity, List<X509Certificate>> issued = new ConcurrentHashMap<>();
    private final java.util.Set<BigInteger> revoked = ConcurrentHashMap.newKeySet();

    /** Records a certificate under the identity its subject names. */
    public InMemoryDeviceCertificates add(X509Certificate cert) {
        issued.computeIfAbsent(Certificates.identity(cert), k -> new CopyOnWriteArrayList<>()).add(cert);
        return this;
    }

    /** Marks a certificate revoked. */
    public void revoke(BigInteger serial) {
        revoked.add(serial);
    }

    @Override
    public List<Entry> certificates(Identity identity) {
        return issued.getOrDefault(identity, List.of()).stream().map(c -> new Entry(c, revoked.contains(c.getSerialNumber()))).toList();
    }
}
