package io.edgefleet.agent.coap;

import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.californium.elements.config.CertificateAuthenticationMode;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.CertificateType;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedMultiPskStore;
import org.eclipse.californium.scandium.dtls.x509.SingleCertificateProvider;
import org.eclipse.californium.scandium.dtls.x509.StaticNewAdvancedCertificateVerifier;

/**
 * CoAP over DTLS 1.2 (RFC 6347, RFC 7252 section 9) for the agent's CoAP side, with Californium's
 * Scandium. Two ways for a client to authenticate, usable together:
 * <ul>
 * <li>X.509: the agent presents {@code chain} (its device certificate) with {@code key}; a client
 *     must present a certificate issued by one of {@code trusted} (client authentication NEEDED).
 * <li>PSK (RFC 4279): a client names one of the {@code psk} identities and proves it knows the key.
 * </ul>
 * A client with neither is refused in the handshake; no request reaches a resource. Immutable.
 *
 * @param key the agent's private key; present exactly when {@code chain} is not empty
 * @param chain the agent's certificate, leaf first
 * @param trusted CA certificates whose client certificates are accepted (needed with {@code chain})
 * @param psk PSK identity to secret (at least 16 bytes each)
 */
public record CoapDtls(Optional<PrivateKey> key, List<X509Certificate> chain, List<X509Certificate> trusted, Map<String, byte[]> psk) {
    public CoapDtls {
        Objects.requireNonNull(key, "key");
        chain = List.copyOf(chain);
        trusted = List.copyOf(trusted);
        psk = Map.copyOf(psk);
        if (key.isPresent() == chain.isEmpty()) {
            throw new IllegalArgumentException("coap dtls: give a key together with its certificate chain, or neither");
        }
        if (key.isPresent() && trusted.isEmpty()) {
            throw new IllegalArgumentException("coap dtls: certificates need the CA certificates that issue client certificates");
        }
        if (key.isEmpty() && psk.isEmpty()) {
            throw new IllegalArgumentException("coap dtls: configure a certificate, PSK identities, or both");
        }
        for (Map.Entry<String, byte[]> e : psk.entrySet()) {
            if (e.getKey().isBlank() || e.getValue().length < 16) {
                throw new IllegalArgumentException("coap dtls: PSK identity '" + e.getKey() + "' needs a name and a key of at least 16 bytes");
            }
        }
    }

    /** Certificates only: the agent's key and chain, clients' certificates from {@code trusted}. */
    public static CoapDtls certificates(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trusted) {
        return new CoapDtls(Optional.of(key), chain, trusted, Map.of());
    }

    /** PSK only. */
    public static CoapDtls psk(Map<String, byte[]> identities) {
        return new CoapDtls(Optional.empty(), List.of(), List.of(), identities);
    }

    /** The same, plus a PSK identity. */
    public CoapDtls withPsk(String identity, byte[] secret) {
        Map<String, byte[]> m = new LinkedHashMap<>(psk);
        m.put(identity, secret.clone());
        return new CoapDtls(key, chain, trusted, m);
    }

    /** Scandium's connector configuration for a server bound to {@code address}. */
    DtlsConnectorConfig connectorConfig(Configuration config, java.net.InetSocketAddress address) {
        config.set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.SERVER_ONLY);
        config.set(DtlsConfig.DTLS_CLIENT_AUTHENTICATION_MODE, CertificateAuthenticationMode.NEEDED);
        DtlsConnectorConfig.Builder b = DtlsConnectorConfig.builder(config).setAddress(address).setLoggingTag("coaps");
        if (key.isPresent()) {
            b.setCertificateIdentityProvider(new SingleCertificateProvider(key.get(), chain.toArray(Certificate[]::new), CertificateType.X_509));
            b.setAdvancedCertificateVerifier(StaticNewAdvancedCertificateVerifier.builder()
                    .setTrustedCertificates(trusted.toArray(Certificate[]::new)).build());
        }
        if (!psk.isEmpty()) {
            AdvancedMultiPskStore store = new AdvancedMultiPskStore();
            psk.forEach(store::setKey);
            b.setAdvancedPskStore(store);
        }
        return b.build();
    }

    @Override
    public String toString() {
        return "CoapDtls[certificate=" + key.isPresent() + ", psk identities=" + psk.keySet() + "]"; // never a key
    }

    /** A PSK secret given as text (UTF-8), as {@code coap-client -k} takes it. */
    public static byte[] secret(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
