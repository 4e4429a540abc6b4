package io.edgefleet.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.cloud.tls.HttpTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cloud.http.tls} in the control plane's YAML. */
class CloudSettingsTest {
    @TempDir
    Path dir;

    private CloudConfig load(String http) throws Exception {
        return CloudSettings.load(Files.writeString(dir.resolve("cloud.yaml"), "cloud:\n  data-dir: " + dir + "\n  http: " + http + "\n"));
    }

    @Test
    void tls_is_on_by_default_and_the_yaml_turns_it_off_names_hosts_or_gives_pem_files() throws Exception {
        assertThat(CloudSettings.load(Files.writeString(dir.resolve("empty.yaml"), "cloud:\n  instance: a\n")).httpTls()).isEqualTo(HttpTls.embedded());
        assertThat(load("{ tls: { enabled: false } }").httpTls().enabled()).isFalse();
        assertThat(load("{ tls: { hosts: [cloud.example.com, 10.0.0.7] } }").httpTls())
                .isEqualTo(HttpTls.embedded().withHosts(List.of("cloud.example.com", "10.0.0.7")));
        HttpTls files = load("{ tls: { certificate: /etc/ef/server.pem, key: /etc/ef/server-key.pem } }").httpTls();
        assertThat(files.certificate()).contains(Path.of("/etc/ef/server.pem"));
        assertThat(files.key()).contains(Path.of("/etc/ef/server-key.pem"));
        assertThatThrownBy(() -> load("{ tls: { certificate: /etc/ef/server.pem } }"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("both certificate and key");
    }
}
