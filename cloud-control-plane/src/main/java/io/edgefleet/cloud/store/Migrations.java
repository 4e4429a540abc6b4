package io.edgefleet.cloud.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.OptionalInt;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.MigrationState;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The control plane's schema, migrated by Flyway from
 * {@code classpath:io/edgefleet/cloud/store/migration/sqlite} or {@code .../postgresql}: the same
 * version numbers in both folders, each script written in its database's types. Scripts are never
 * edited once released (Flyway checks their checksums), only added.
 *
 * <p>Databases written before Flyway (by the hand-written runner, which recorded the versions it
 * applied in a table {@code schema_version}) are baselined at their recorded version and migrated
 * from there; {@code schema_version} is left as it was. A database whose schema is newer than this
 * build (a newer release migrated it) is refused, never changed.
 */
final class Migrations {
    private static final System.Logger LOG = System.getLogger(Migrations.class.getName());
    static final String LOCATION = "classpath:io/edgefleet/cloud/store/migration/";

    private Migrations() {
    }

    /**
     * Brings the schema up to date.
     *
     * @param name the database as messages name it (file or URL without credentials)
     * @throws IllegalStateException the schema is newer than this build, or a migration failed (nothing of it is committed)
     */
    static void apply(DataSource ds, DatabaseSettings.Kind kind, String name) throws SQLException {
        // only SQLite files predate Flyway; on PostgreSQL a schema_version table would be someone else's
        OptionalInt legacy = kind == DatabaseSettings.Kind.SQLITE ? legacyVersion(ds) : OptionalInt.empty();
        Flyway flyway = Flyway.configure(Migrations.class.getClassLoader())
                .dataSource(ds)
                .loggers(FlywayJulLogs.class.getName()) // java.util.logging always, so LogSetup's levels apply (see the class)
                .locations(LOCATION + kind.name().toLowerCase(java.util.Locale.ROOT))
                .failOnMissingLocations(true)
                .cleanDisabled(true)
                .baselineOnMigrate(legacy.isPresent())
                .baselineVersion(MigrationVersion.fromVersion(Integer.toString(legacy.orElse(1))))
                .baselineDescription("schema_version " + legacy.orElse(0) + " (the migration runner before Flyway)")
                .load();
        MigrationInfoService info = flyway.info();
        int known = Arrays.stream(info.all()).filter(i -> i.getState().isResolved() && i.getVersion() != null)
                .mapToInt(i -> Integer.parseInt(i.getVersion().getVersion())).max().orElse(0);
        if (legacy.isPresent() && legacy.getAsInt() > known) {
            throw newer(name, legacy.getAsInt(), known);
        }
        for (MigrationInfo i : info.applied()) {
            if (i.getState() == MigrationState.FUTURE_SUCCESS || i.getState() == MigrationState.FUTURE_FAILED) {
                throw newer(name, Integer.parseInt(i.getVersion().getVersion()), known);
            }
        }
        try {
            MigrateResult r = flyway.migrate();
            if (r.migrationsExecuted > 0) {
                LOG.log(System.Logger.Level.INFO, "database {0}: schema migrated from version {1} to {2}", name,
                        r.initialSchemaVersion == null ? "none" : r.initialSchemaVersion, r.targetSchemaVersion);
            }
        } catch (RuntimeException e) {
            throw new IllegalStateException("database " + name + ": schema migration failed: " + e.getMessage(), e);
        }
    }

    private static IllegalStateException newer(String name, int version, int known) {
        return new IllegalStateException("database " + name + " has schema version " + version + " but this build knows only up to " + known
                + ": it was written by a newer release; run that release (or newer) against it");
    }

    /**
     * The version the pre-Flyway runner recorded, when the database has its {@code schema_version}
     * table and no Flyway history yet (0 when the table is empty: the first script never committed).
     */
    static OptionalInt legacyVersion(DataSource ds) throws SQLException {
        try (Connection c = ds.getConnection()) {
            if (!table(c, "schema_version") || table(c, "flyway_schema_history")) {
                return OptionalInt.empty();
            }
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
                r.next();
                return OptionalInt.of(r.getInt(1));
            }
        }
    }

    private static boolean table(Connection c, String name) throws SQLException {
        try (ResultSet r = c.getMetaData().getTables(null, null, name, new String[] {"TABLE"})) {
            return r.next();
        }
    }
}
