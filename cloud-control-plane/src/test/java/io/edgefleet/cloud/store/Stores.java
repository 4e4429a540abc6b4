package io.edgefleet.cloud.store;

import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The stores every repository contract test runs on: the embedded SQLite file and a real PostgreSQL
 * server (Debian's {@code postgresql}, started by the testkit's {@link PostgresExtension}).
 */
public enum Stores {
    SQLITE, POSTGRESQL;

    /**
     * A new, empty, migrated store: SQLite in {@code dir}, or a fresh database on the class's PostgreSQL server.
     */
    public CloudStore open(Path dir, PostgresExtension pg) {
        return CloudStore.open(dir, settings(pg));
    }

    /** The settings of a new empty database of this kind (SQLite: none, the data folder's file). */
    public DatabaseSettings settings(PostgresExtension pg) {
        if (this == SQLITE) {
            return DatabaseSettings.embedded();
        }
        PostgresExtension.Database db = pg.newDatabase();
        return DatabaseSettings.postgresql(db.jdbcUrl(), db.user(), Optional.empty()).withPoolSize(4);
    }
}
