package io.edgefleet.transport.mqtt;

import io.edgefleet.transport.pki.Pem;
import io.edgefleet.transport.pki.TlsContexts;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * MQTT over TLS for one component (agent, control plane): where the TLS context of each connect
 * comes from. Either PEM files (the CA certificates that sign the broker's certificate, the
 * client's PKCS#8 key and its certificate chain), read again at every connect so that a renewed
 * certificate written over the old files is presented at the next connect; or any supplier, such
 * as an enrolled agent identity that renews itself.
 *
 * @param context called at every connect, on the connecting thread; may throw (the connect then
 *     fails and is retried with backoff)
 */
public record MqttTls(Supplier<SSLContext> context) {
    public MqttTls {
        Objects.requireNonNull(context, "context");
    }

    /**
     * Mutual TLS from PEM files, read at every connect.
     *
     * @param caFile the CA certificate(s) trusted for the broker's certificate
     * @param keyFile the client's private key (PKCS#8 PEM; keep it 0600)
     * @param certFile the client's certificate, then any intermediates
     */
    public static MqttTls fromPem(Path caFile, Path keyFile, Path certFile) {
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(keyFile, "keyFile");
        Objects.requireNonNull(certFile, "certFile");
        return new MqttTls(() -> TlsContexts.of(Pem.privateKey(Pem.read(keyFile)), Pem.certificates(Pem.read(certFile)),
                Pem.certificates(Pem.read(caFile))));
    }
}
