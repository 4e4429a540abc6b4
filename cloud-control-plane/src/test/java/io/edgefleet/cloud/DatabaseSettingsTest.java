package io.edgefleet.cloud;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.DatabaseSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cloud.database}: SQLite without it, PostgreSQL by URL or host, secrets only by file or variable, clear refusals. */
class DatabaseSettingsTest {
    @TempDir
    Path dir;

    private CloudConfig load(String database) throws Exception {
        return CloudSettings.load(Files.writeString(dir.resolve("cloud.yaml"), "cloud:\n  data-dir: " + dir + "\n" + database));
    }

    @Test
    void without_a_database_node_the_store_is_sqlite_in_the_data_folder() throws Exception {
        CloudConfig c = load("");
        assertThat(c.database()).isEqualTo(DatabaseSettings.embedded());
        assertThat(c.database().kind()).isEqualTo(DatabaseSettings.Kind.SQLITE);
        try (CloudStore store = CloudStore.open(c.dataDir(), c.database())) {
            assertThat(store.file()).contains(dir.resolve("cloud.db"));
        }
    }

    @Test
    void a_url_or_a_host_names_a_postgresql_server_and_the_password_comes_from_a_file_or_a_variable() throws Exception {
        DatabaseSettings byUrl = load("  database:\n    url: jdbc:postgresql://db.example.com:5433/fleet\n    user: edgefleet\n"
                + "    password-file: " + dir.resolve("pw") + "\n    pool-size: 20\n    connect-timeout-ms: 5000\n").database();
        assertThat(byUrl.kind()).isEqualTo(DatabaseSettings.Kind.POSTGRESQL);
        assertThat(byUrl.url()).contains("jdbc:postgresql://db.example.com:5433/fleet");
        assertThat(byUrl.user()).contains("edgefleet");
        assertThat(byUrl.passwordFile()).contains(dir.resolve("pw"));
        assertThat(byUrl.poolSize()).isEqualTo(20);
        assertThat(byUrl.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        DatabaseSettings byHost = load("  database:\n    host: db.example.com\n    name: fleet\n    password-env: EF_DB_PW\n").database();
        assertThat(byHost.url()).contains("jdbc:postgresql://db.example.com:5432/fleet");
        assertThat(byHost.passwordEnv()).contains("EF_DB_PW");
        assertThat(byHost.poolSize()).isEqualTo(10);
    }

    @Test
    void a_wrong_url_or_pool_size_is_refused_naming_the_key() {
        assertThatThrownBy(() -> load("  database:\n    url: jdbc:mysql://db/fleet\n")).hasMessageContaining("database.url must start with "
                + "jdbc:postgresql: or jdbc:sqlite:, got 'jdbc:mysql://db/fleet'");
        assertThatThrownBy(() -> load("  database:\n    url: jdbc:postgresql://db/fleet\n    pool-size: 0\n"))
                .hasMessageContaining("database.pool-size must be 1..1000, got 0");
        assertThatThrownBy(() -> load("  database:\n    url: jdbc:postgresql://db/fleet\n    host: other\n"))
                .hasMessageContaining("database: give either url or host (with port and name), not both");
    }

    @Test
    void a_missing_password_file_or_variable_and_an_unreachable_server_stop_the_start_with_a_clear_message() {
        DatabaseSettings noFile = DatabaseSettings.postgresql("jdbc:postgresql://127.0.0.1:1/fleet", "u", Optional.empty())
                .withPasswordFile(dir.resolve("absent"));
        assertThatThrownBy(() -> CloudStore.open(dir, noFile)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("database.password-file " + dir.resolve("absent") + " cannot be read: no such file");
        DatabaseSettings noVariable = DatabaseSettings.postgresql("jdbc:postgresql://127.0.0.1:1/fleet", "u",
                Optional.of("EDGEFLEET_TEST_UNSET_VARIABLE"));
        assertThatThrownBy(() -> CloudStore.open(dir, noVariable)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("database.password-env names EDGEFLEET_TEST_UNSET_VARIABLE, which is not set");
        int closed = io.edgefleet.testkit.Ports.freePort();
        DatabaseSettings unreachable = new DatabaseSettings(Optional.of("jdbc:postgresql://127.0.0.1:" + closed + "/fleet?password=s3cret"),
                Optional.of("u"), Optional.empty(), Optional.empty(), 2, Duration.ofSeconds(1));
        assertThatThrownBy(() -> CloudStore.open(dir, unreachable)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot connect to the control-plane database jdbc:postgresql://127.0.0.1:" + closed + "/fleet?password=***")
                .hasMessageNotContaining("s3cret");
    }
}
