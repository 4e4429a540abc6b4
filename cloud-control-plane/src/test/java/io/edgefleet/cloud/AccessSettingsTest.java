package io.edgefleet.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.cloud.access.AccessSettings;
import io.edgefleet.cloud.access.OidcSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code cloud.access} node of the control-plane YAML. */
class AccessSettingsTest {
    @TempDir
    Path dir;

    @Test
    void the_access_node_sets_oidc_trusted_proxies_and_retention() throws Exception {
        Path yaml = Files.writeString(dir.resolve("cloud.yaml"), """
                cloud:
                  access:
                    oidc:
                      issuer: https://login.example.test/realms/ops
                      audience: edgefleet
                      jwks-url: https://login.example.test/realms/ops/certs
                      actor-claim: preferred_username
                    trusted-proxies: [10.0.0.5, 10.0.0.6]
                    audit-retention-days: 30
                """);
        AccessSettings a = CloudSettings.load(yaml).access();
        assertThat(a.oidc()).hasValue(new OidcSettings("https://login.example.test/realms/ops", "edgefleet",
                URI.create("https://login.example.test/realms/ops/certs"), "preferred_username"));
        assertThat(a.trustedProxies()).containsExactlyInAnyOrder("10.0.0.5", "10.0.0.6");
        assertThat(a.auditRetention()).isEqualTo(Duration.ofDays(30));
    }

    @Test
    void without_the_node_only_api_tokens_are_accepted_and_no_proxy_is_trusted() throws Exception {
        Path yaml = Files.writeString(dir.resolve("cloud.yaml"), "cloud:\n  http: { port: 0 }\n");
        AccessSettings a = CloudSettings.load(yaml).access();
        assertThat(a.oidc()).isEqualTo(Optional.empty());
        assertThat(a.trustedProxies()).isEqualTo(Set.of());
        assertThat(a.auditRetention()).isEqualTo(Duration.ofDays(365));
    }

    @Test
    void an_incomplete_oidc_node_is_refused_naming_what_is_missing() throws Exception {
        Path yaml = Files.writeString(dir.resolve("cloud.yaml"), """
                cloud:
                  access:
                    oidc: { issuer: "https://login.example.test", jwks-url: "https://login.example.test/certs" }
                """);
        assertThatThrownBy(() -> CloudSettings.load(yaml)).hasMessageContaining("cloud.access.oidc needs audience");
        Path ftp = Files.writeString(dir.resolve("ftp.yaml"), """
                cloud:
                  access:
                    oidc: { issuer: i, audience: a, jwks-url: "ftp://login.example.test/certs" }
                """);
        assertThatThrownBy(() -> CloudSettings.load(ftp)).hasMessageContaining("jwks-url must be an http(s) URL");
    }
}
