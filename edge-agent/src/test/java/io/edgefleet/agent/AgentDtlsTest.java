package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.coap.CoapDtls;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.coap.CoapResources;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.Pem;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.CertificateType;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;
import org.eclipse.californium.scandium.dtls.x509.SingleCertificateProvider;
import org.eclipse.californium.scandium.dtls.x509.StaticNewAdvancedCertificateVerifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CoAP over DTLS 1.2 on the agent (Scandium), with libcoap's DTLS-capable {@code coap-client-openssl}
 * and Californium's client as real peers: a PSK identity or a certificate from the device CA gets
 * answers; no credentials, a wrong key, a certificate from another CA or plain CoAP get none.
 */
class AgentDtlsTest {
    @TempDir
    static Path dir;
    static EdgeAgent agent;
    static CertificateAuthority ca;
    static final String PSK_ID = "gateway-3";
    static final String PSK = "psk-secret-0123456789abcdef";
    static final String REQUEST = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
    static final String COAP_CLIENT = "/usr/bin/coap-client-openssl";
    static Path caPem;

    @BeforeAll
    static void start() throws Exception {
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierTflite(dir), models.resolve("cls.tflite"));
        ca = CertificateAuthority.create("device CA", Duration.ofDays(1));
        caPem = dir.resolve("ca.pem");
        Pem.writePublic(caPem, Pem.write(ca.certificate()));
        // the agent's identity: key made here, certificate naming local/agent (usable as a DTLS server, SAN 127.0.0.1)
        KeyPair kp = KeyPairs.ecP256();
        X509Certificate cert = ca.issueServer(kp.getPublic(), Identity.device("local", "agent"), List.of("127.0.0.1"), Duration.ofHours(1));
        CoapDtls dtls = CoapDtls.certificates(kp.getPrivate(), List.of(cert), List.of(ca.certificate())).withPsk(PSK_ID, CoapDtls.secret(PSK));
        agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", -1).withCoapPort(0)
                .withTls(AgentTls.none().withCoap(dtls)));
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.close();
        }
    }

    static String uri(String scheme, String path) {
        return scheme + "://127.0.0.1:" + agent.coapPort().getAsInt() + "/" + path;
    }

    /** Runs coap-client-openssl with {@code args} then the method and URI; returns what it printed. */
    static String coapClient(List<String> args, String method, String path, boolean body) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(COAP_CLIENT, "-m", method, "-B", "4"));
        cmd.addAll(args);
        if (body) {
            cmd.addAll(List.of("-t", "50", "-f", Files.writeString(dir.resolve("req.json"), REQUEST).toString()));
        }
        cmd.add(uri("coaps", path));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("coap-client ends within its -B wait").isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void libcoap_with_a_psk_identity_gets_an_inference_answer() throws Exception {
        assertThat(Files.isExecutable(Path.of(COAP_CLIENT))).as("apt-get install libcoap3-bin").isTrue();
        String out = coapClient(List.of("-u", PSK_ID, "-k", PSK), "post", "infer/cls", true);
        assertThat(out).contains("\"model_name\":\"cls\"", "\"name\":\"probs\"");
    }

    @Test
    void libcoap_with_a_device_certificate_gets_an_answer() throws Exception {
        KeyPair kp = KeyPairs.ecP256();
        X509Certificate cert = ca.issue(io.edgefleet.transport.pki.Csr.create(kp, Identity.device("local", "sensor-1")),
                Identity.device("local", "sensor-1"), Duration.ofHours(1));
        Path certPem = dir.resolve("client.pem");
        Path keyPem = dir.resolve("client-key.pem");
        Pem.writePublic(certPem, Pem.write(cert));
        Pem.writePrivate(keyPem, Pem.write(kp.getPrivate()));
        String out = coapClient(List.of("-c", certPem.toString(), "-j", keyPem.toString(), "-C", caPem.toString()), "get", "health", false);
        assertThat(out).contains("\"status\":\"UP\"");
    }

    @Test
    void libcoap_without_credentials_or_with_a_wrong_key_or_another_cas_certificate_gets_nothing() throws Exception {
        assertThat(coapClient(List.of(), "get", "health", false)).doesNotContain("\"status\"");
        assertThat(coapClient(List.of("-u", PSK_ID, "-k", "wrong-secret-0123456789abc"), "get", "health", false)).doesNotContain("\"status\"");
        assertThat(coapClient(List.of("-u", "nobody", "-k", PSK), "get", "health", false)).doesNotContain("\"status\"");
        CertificateAuthority rogue = CertificateAuthority.create("rogue", Duration.ofDays(1));
        KeyPair kp = KeyPairs.ecP256();
        X509Certificate cert = rogue.issue(io.edgefleet.transport.pki.Csr.create(kp, Identity.device("local", "sensor-1")),
                Identity.device("local", "sensor-1"), Duration.ofHours(1));
        Path certPem = dir.resolve("rogue.pem");
        Path keyPem = dir.resolve("rogue-key.pem");
        Pem.writePublic(certPem, Pem.write(cert));
        Pem.writePrivate(keyPem, Pem.write(kp.getPrivate()));
        assertThat(coapClient(List.of("-c", certPem.toString(), "-j", keyPem.toString(), "-C", caPem.toString()), "get", "health", false))
                .doesNotContain("\"status\"");
        // and the agent still serves the next authenticated client
        assertThat(coapClient(List.of("-u", PSK_ID, "-k", PSK), "get", "health", false)).contains("\"status\":\"UP\"");
    }

    static CoapResponse californium(DtlsConnectorConfig.Builder client, String path, boolean post) throws Exception {
        DTLSConnector connector = new DTLSConnector(client.setAddress(new InetSocketAddress("127.0.0.1", 0)).build());
        CoapEndpoint endpoint = new CoapEndpoint.Builder().setConnector(connector).build();
        CoapClient c = new CoapClient(uri("coaps", path)).setEndpoint(endpoint).setTimeout(5_000L);
        try {
            return post ? c.post(REQUEST, CoapResources.FORMAT_JSON) : c.get();
        } catch (org.eclipse.californium.elements.exception.ConnectorException | java.io.IOException refused) {
            return null;
        } finally {
            c.shutdown();
            endpoint.destroy();
        }
    }

    static DtlsConnectorConfig.Builder clientConfig() {
        Configuration config = Configuration.createStandardWithoutFile();
        return DtlsConnectorConfig.builder(config).set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.CLIENT_ONLY)
                .set(DtlsConfig.DTLS_MAX_RETRANSMISSIONS, 2);
    }

    @Test
    void californium_clients_with_psk_or_certificate_are_answered_and_one_with_neither_is_refused() throws Exception {
        CoapResponse psk = californium(clientConfig().setAdvancedPskStore(new AdvancedSinglePskStore(PSK_ID, CoapDtls.secret(PSK))), "infer/cls", true);
        assertThat(psk).isNotNull();
        assertThat(psk.getCode()).isEqualTo(ResponseCode.CONTENT);
        assertThat(psk.getResponseText()).contains("\"probs\"");

        KeyPair kp = KeyPairs.ecP256();
        X509Certificate cert = ca.issue(io.edgefleet.transport.pki.Csr.create(kp, Identity.device("local", "sensor-2")),
                Identity.device("local", "sensor-2"), Duration.ofHours(1));
        CoapResponse x509 = californium(clientConfig()
                .setCertificateIdentityProvider(new SingleCertificateProvider(kp.getPrivate(), new Certificate[] {cert}, CertificateType.X_509))
                .setAdvancedCertificateVerifier(StaticNewAdvancedCertificateVerifier.builder().setTrustedCertificates(ca.certificate()).build()),
                "health", false);
        assertThat(x509).isNotNull();
        assertThat(x509.getResponseText()).contains("\"status\":\"UP\"");

        // trusts the agent, but has no certificate and no PSK of its own
        CoapResponse anonymous = californium(clientConfig()
                .setAdvancedCertificateVerifier(StaticNewAdvancedCertificateVerifier.builder().setTrustedCertificates(ca.certificate()).build()),
                "health", false);
        assertThat(anonymous).isNull();

        // plain CoAP to the DTLS port: no answer
        CoapClient plain = new CoapClient(uri("coap", "health")).setTimeout(3_000L);
        try {
            CoapResponse r;
            try {
                r = plain.get();
            } catch (org.eclipse.californium.elements.exception.ConnectorException | java.io.IOException e) {
                r = null;
            }
            assertThat(r).isNull();
        } finally {
            plain.shutdown();
        }
    }

    @Test
    void a_dtls_setting_without_credentials_is_refused_at_configuration() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CoapDtls.psk(Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("certificate, PSK identities, or both");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CoapDtls.psk(Map.of("short", new byte[4])))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 16 bytes");
    }
}
