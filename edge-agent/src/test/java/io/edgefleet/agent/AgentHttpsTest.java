package io.edgefleet.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.pki.KeyPairs;
import io.edgefleet.transport.pki.Pem;
import io.edgefleet.transport.pki.TlsContexts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's local HTTP API over TLS, with its key and certificate from PEM files. */
class AgentHttpsTest {
    @TempDir
    Path dir;

    @Test
    void the_local_api_is_served_over_https_when_configured_and_a_plain_request_gets_no_answer() throws Exception {
        CertificateAuthority ca = CertificateAuthority.create("device CA", Duration.ofDays(1));
        KeyPair kp = KeyPairs.ecP256();
        X509Certificate cert = ca.issueServer(kp.getPublic(), Identity.device("local", "agent"), List.of("127.0.0.1", "localhost"), Duration.ofHours(1));
        Path certPem = dir.resolve("cert.pem");
        Path keyPem = dir.resolve("key.pem");
        Pem.writePublic(certPem, Pem.write(cert));
        Pem.writePrivate(keyPem, Pem.write(kp.getPrivate()));
        Path models = Files.createDirectories(dir.resolve("models"));
        Files.move(SyntheticModels.classifierTflite(dir), models.resolve("cls.tflite"));
        try (EdgeAgent agent = EdgeAgent.start(AgentConfig.defaults(dir.resolve("data")).withModelsDir(models).withHttp("127.0.0.1", 0).withCoapPort(-1)
                .withTls(AgentTls.none().withLocalHttp(() -> AgentTls.pemContext(certPem, keyPem, List.of()))))) {
            HttpClient trusting = HttpClient.newBuilder().sslContext(TlsContexts.trusting(List.of(ca.certificate()))).build();
            HttpResponse<String> r = trusting.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + agent.httpPort() + "/v2/models/cls/infer"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}"))
                    .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"probs\"");
            assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + agent.httpPort() + "/v2"))
                    .build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
            assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.httpPort() + "/v2"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(java.io.IOException.class);
        }
    }
}
