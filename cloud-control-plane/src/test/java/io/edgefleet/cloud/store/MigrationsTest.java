package io.edgefleet.cloud.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.protocols.sql.SqlMigrations;
import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flyway migrations of the control-plane schema: fresh databases of both kinds, SQLite files written by the
 * runner before Flyway (baselined at their recorded version, their rows kept), and databases newer than this build (refused).
 */
class MigrationsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    static List<String> history(Connection c) throws java.sql.SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement();
                ResultSet r = s.executeQuery("SELECT version, type, success FROM flyway_schema_history ORDER BY installed_rank")) {
            while (r.next()) {
                out.add(r.getString(1) + ":" + r.getString(2) + ":" + r.getBoolean(3));
            }
        }
        return out;
    }

    static final List<String> FRESH = List.of("1:SQL:true", "2:SQL:true", "3:SQL:true", "4:SQL:true", "5:SQL:true", "6:SQL:true",
            "7:SQL:true", "8:SQL:true", "9:SQL:true", "10:SQL:true", "11:SQL:true", "12:SQL:true", "13:SQL:true", "14:SQL:true", "15:SQL:true", "16:SQL:true");

    @Test
    void a_fresh_sqlite_file_gets_every_version_from_flyway() throws Exception {
        try (CloudStore store = CloudStore.open(dir)) {
            assertThat(store.kind()).isEqualTo(DatabaseSettings.Kind.SQLITE);
            assertThat(store.read(MigrationsTest::history)).isEqualTo(FRESH);
        }
    }

    @Test
    void a_fresh_postgresql_database_gets_the_same_versions_and_opening_it_again_changes_nothing() throws Exception {
        DatabaseSettings pg = Stores.POSTGRESQL.settings(PG);
        try (CloudStore store = CloudStore.open(dir, pg)) {
            assertThat(store.kind()).isEqualTo(DatabaseSettings.Kind.POSTGRESQL);
            assertThat(store.file()).isEmpty();
            assertThat(store.read(MigrationsTest::history)).isEqualTo(FRESH);
            new EventRepository(store, java.time.Clock.systemUTC()).record("test", "s", "me", Map.of());
        }
        try (CloudStore again = CloudStore.open(dir, pg)) {
            assertThat(again.read(MigrationsTest::history)).isEqualTo(FRESH);
            assertThat(new EventRepository(again, java.time.Clock.systemUTC()).list(Optional.empty(), 10)).hasSize(1);
        }
    }

    @Test
    void a_sqlite_file_of_the_runner_before_flyway_is_baselined_at_its_version_and_keeps_its_rows() throws Exception {
        Files.createDirectories(dir);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cloud.db"))) {
            assertThat(SqlMigrations.apply(c, CloudStore.class, LegacySchema.SCRIPTS)).isEqualTo(9);
            try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO models (name, task, owner, labels, created_at) VALUES ('kws', 'audio', 'ml', '[]', 1)");
                s.execute("INSERT INTO events (at, kind, subject, actor, detail) VALUES (5, 'model.pushed', 'kws/1', 'ops', '{}')");
            }
        }
        try (CloudStore store = CloudStore.open(dir)) {
            assertThat(store.read(MigrationsTest::history)).containsExactly("9:BASELINE:true", "10:SQL:true", "11:SQL:true", "12:SQL:true", "13:SQL:true", "14:SQL:true", "15:SQL:true", "16:SQL:true");
            assertThat(new ModelRepository(store).models()).extracting(ModelRepository.ModelSummary::name).containsExactly("kws");
            EventRepository events = new EventRepository(store, java.time.Clock.fixed(Instant.ofEpochMilli(7), java.time.ZoneOffset.UTC));
            Event next = events.record("model.deprecated", "kws/1", "ops", Map.of());
            assertThat(next.id()).as("ids continue after the old rows").isEqualTo(2);
            assertThat(events.list(Optional.of("kws/"), 10)).extracting(Event::kind).containsExactly("model.deprecated", "model.pushed");
        }
        try (CloudStore again = CloudStore.open(dir)) {
            assertThat(again.read(MigrationsTest::history)).as("baselined once").containsExactly("9:BASELINE:true", "10:SQL:true", "11:SQL:true", "12:SQL:true", "13:SQL:true", "14:SQL:true", "15:SQL:true", "16:SQL:true");
        }
    }

    @Test
    void a_sqlite_file_of_an_older_runner_version_is_baselined_there_and_migrated_by_flyway_from_the_next_version() throws Exception {
        Files.createDirectories(dir);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cloud.db"))) {
            SqlMigrations.apply(c, CloudStore.class, LegacySchema.SCRIPTS.subList(0, 6));
        }
        try (CloudStore store = CloudStore.open(dir)) {
            assertThat(store.read(MigrationsTest::history)).containsExactly("6:BASELINE:true", "7:SQL:true", "8:SQL:true", "9:SQL:true", "10:SQL:true",
                    "11:SQL:true", "12:SQL:true", "13:SQL:true", "14:SQL:true", "15:SQL:true", "16:SQL:true");
            assertThat(new DeviceRepository(store).register("f", "d", List.of("a"), Optional.empty(), Instant.ofEpochMilli(1)).runtimes())
                    .as("V7's column exists").isEmpty();
        }
    }

    @Test
    void a_sqlite_file_of_the_old_runner_from_a_newer_release_is_refused_and_left_unchanged() throws Exception {
        Files.createDirectories(dir);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cloud.db"))) {
            SqlMigrations.apply(c, CloudStore.class, LegacySchema.SCRIPTS);
            try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO schema_version (version) VALUES (17)");
            }
        }
        assertThatThrownBy(() -> CloudStore.open(dir)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("has schema version 17 but this build knows only up to 16").hasMessageContaining("newer release");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cloud.db"));
                ResultSet r = c.getMetaData().getTables(null, null, "flyway_schema_history", null)) {
            assertThat(r.next()).as("no Flyway history written").isFalse();
        }
    }

    @Test
    void a_database_migrated_by_a_newer_release_with_flyway_is_refused_on_both_stores() throws Exception {
        for (Stores kind : Stores.values()) {
            Path d = dir.resolve(kind.name());
            DatabaseSettings settings = kind.settings(PG);
            try (CloudStore store = CloudStore.open(d, settings)) {
                store.tx(c -> {
                    try (Statement s = c.createStatement()) {
                        s.execute("CREATE TABLE from_the_future (x INTEGER)");
                        s.execute("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, "
                                + "execution_time, success) VALUES (17, '17', 'future', 'SQL', 'V17__future.sql', 1, 'edgefleet', 1, "
                                + (kind == Stores.SQLITE ? "1" : "TRUE") + ")");
                    }
                    return null;
                });
            }
            assertThatThrownBy(() -> CloudStore.open(d, settings)).as(kind.name()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("has schema version 17 but this build knows only up to 16");
        }
    }
}
