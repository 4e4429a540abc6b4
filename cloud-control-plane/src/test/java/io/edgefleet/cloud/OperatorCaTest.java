package io.edgefleet.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.agent.identity.AgentIdentity;
import io.edgefleet.agent.identity.EnrolmentSettings;
import io.edgefleet.transport.pki.CertificateAuthority;
import io.edgefleet.transport.pki.Pem;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An operator's CA given in the YAML ({@code cloud.pki.ca-certificate}, {@code ca-key}) is the one that signs devices; none is created. */
class OperatorCaTest {
    @TempDir
    Path dir;

    @Test
    void devices_enrol_under_the_operators_ca_given_by_config() throws Exception {
        CertificateAuthority own = CertificateAuthority.create("ACME device CA", Duration.ofDays(30));
        own.save(dir.resolve("acme"));
        Path yaml = Files.writeString(dir.resolve("cloud.yaml"), """
                cloud:
                  data-dir: %s
                  http: { host: 127.0.0.1, port: 0, tls: { enabled: false } }   # the test is about the CA, not the listener
                  auth:
                    tokens:
                      - { name: ops, role: operator, token: "%s" }
                  pki:
                    ca-certificate: %s
                    ca-key: %s
                    device-validity-seconds: 3600
                """.formatted(dir.resolve("cloud"), CloudTestSupport.OPERATOR, dir.resolve("acme/ca.pem"), dir.resolve("acme/ca-key.pem")));
        CloudConfig config = CloudSettings.load(yaml);
        assertThat(config.pki().deviceValidity()).isEqualTo(Duration.ofHours(1));
        try (ControlPlane cp = ControlPlane.start(config)) {
            assertThat(cp.pki().authority().certificate()).isEqualTo(own.certificate());
            assertThat(Files.exists(dir.resolve("cloud/pki/ca-key.pem"))).isFalse();
            String token = CloudTestSupport.client(cp, CloudTestSupport.OPERATOR).post("/api/v1/enrolment-tokens", Map.of("fleet", "acme"))
                    .json().path("token").asText();
            try (AgentIdentity id = AgentIdentity.open(dir.resolve("dev"), "acme", "d1",
                    EnrolmentSettings.of(URI.create("http://127.0.0.1:" + cp.port()), Optional.of(token)), Clock.systemUTC())) {
                id.certificate().verify(own.certificate().getPublicKey());
                assertThat(Pem.certificates(Files.readString(dir.resolve("dev/ca.pem")))).containsExactly(own.certificate());
            }
        }
    }

    @Test
    void a_certificate_without_its_key_is_refused() throws Exception {
        Path yaml = Files.writeString(dir.resolve("cloud.yaml"), """
                cloud:
                  pki: { ca-certificate: ./ca.pem }
                """);
        assertThatThrownBy(() -> CloudSettings.load(yaml)).hasMessageContaining("ca-certificate and pki.ca-key go together");
    }
}
