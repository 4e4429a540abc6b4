package io.edgefleet.cloud.tls;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS of the control plane's HTTP listener (REST API, sync, cloud inference, observe).
 *
 * <p>Embedded default ({@link #embedded()}): TLS with a server certificate issued by the
 * control plane's own CA in {@code data-dir/pki} (created on first start), for the subject
 * alternative names {@code 127.0.0.1}, {@code localhost}, the configured HTTP host and
 * {@code hosts}; it is reissued when missing, within 30 days of expiry, issued by another CA or
 * not naming every host. An operator's certificate instead: {@link #files}. Either way clients
 * MAY present a certificate (mTLS, client authentication {@code OPTIONAL}); one issued by the
 * device CA identifies the device to the handlers. {@link #plain()} turns TLS off (tests, or a
 * TLS-terminating proxy in front).
 *
 * <p>YAML (node {@code cloud.http.tls}): {@code enabled: true}, {@code certificate: server.pem},
 * {@code key: server-key.pem} (PKCS#8 PEM; both or neither), {@code hosts: [cloud.example.com]}.
 *
 * @param enabled false: plain HTTP
 * @param certificate the operator's server certificate chain (PEM, leaf first); empty: issued by the embedded CA
 * @param key the operator's private key (PKCS#8 PEM), present exactly when {@code certificate} is
 * @param hosts extra DNS names or IP addresses the embedded server certificate names
 */
public record HttpTls(boolean enabled, Optional<Path> certificate, Optional<Path> key, List<String> hosts) {
    public HttpTls {
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(key, "key");
        hosts = List.copyOf(hosts);
        if (certificate.isPresent() != key.isPresent()) {
            throw new IllegalArgumentException("cloud.http.tls: give both certificate and key, or neither");
        }
    }

    /** TLS with a certificate from the embedded CA (the default). */
    public static HttpTls embedded() {
        return new HttpTls(true, Optional.empty(), Optional.empty(), List.of());
    }

    /** Plain HTTP: no TLS at all. */
    public static HttpTls plain() {
        return new HttpTls(false, Optional.empty(), Optional.empty(), List.of());
    }

    /** TLS with the operator's certificate chain and key (PEM files). */
    public static HttpTls files(Path certificate, Path key) {
        return new HttpTls(true, Optional.of(certificate), Optional.of(key), List.of());
    }

    public HttpTls withHosts(List<String> extra) {
        return new HttpTls(enabled, certificate, key, extra);
    }

    /** {@code https} or {@code http}. */
    public String scheme() {
        return enabled ? "https" : "http";
    }
}
