package io.edgefleet.agent;

import io.edgefleet.agent.coap.CoapDtls;
import io.edgefleet.transport.http.HttpCredentials;
import io.edgefleet.transport.pki.Pem;
import io.edgefleet.transport.pki.TlsContexts;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The agent's transport security, one place for its three links (the MQTT session has its own).
 *
 * @param cloud how the sync client and the escalation client to cloud inference authenticate:
 *     a TLS context with the device's client certificate (mTLS; the agent identity supplies it
 *     and renews it, so it is a {@link Supplier}) and/or a bearer token. The control plane
 *     refuses sync and inference without one of them.
 * @param localHttp when present, the local HTTP API (Open Inference Protocol, observe) is served
 *     over TLS with this context's key and certificate (asked once, at start)
 * @param coap when present, CoAP is served over DTLS 1.2 (Scandium) only; absent: plain CoAP
 */
public record AgentTls(HttpCredentials cloud, Optional<Supplier<SSLContext>> localHttp, Optional<CoapDtls> coap) {
    public AgentTls {
        Objects.requireNonNull(cloud, "cloud");
        Objects.requireNonNull(localHttp, "localHttp");
        Objects.requireNonNull(coap, "coap");
    }

    /** No TLS anywhere, no credentials: standalone defaults. */
    public static AgentTls none() {
        return new AgentTls(HttpCredentials.none(), Optional.empty(), Optional.empty());
    }

    public AgentTls withCloud(HttpCredentials c) {
        return new AgentTls(c, localHttp, coap);
    }

    public AgentTls withLocalHttp(Supplier<SSLContext> context) {
        return new AgentTls(cloud, Optional.of(context), coap);
    }

    public AgentTls withCoap(CoapDtls dtls) {
        return new AgentTls(cloud, localHttp, Optional.of(dtls));
    }

    /**
     * A server context from PEM files: {@code certificate} (chain, leaf first) and {@code key}
     * (PKCS#8), trusting {@code trusted} for client certificates (may be empty).
     */
    public static SSLContext pemContext(Path certificate, Path key, List<X509Certificate> trusted) {
        List<X509Certificate> chain = Pem.certificates(Pem.read(certificate));
        if (chain.isEmpty()) {
            throw new IllegalArgumentException(certificate + " holds no certificate");
        }
        return TlsContexts.of(Pem.privateKey(Pem.read(key)), chain, trusted);
    }
}
