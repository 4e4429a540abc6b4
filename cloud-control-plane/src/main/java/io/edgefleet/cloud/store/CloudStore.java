package io.edgefleet.cloud.store;

import io.edgefleet.protocols.sql.SqlMigrations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The control plane's database: SQLite ({@code cloud.db}, WAL) by default, reached through plain
 * JDBC only, so another JDBC database can take its place by changing {@link #open}. One
 * connection, used under this object's lock; {@link #tx} runs a unit of work in one transaction.
 * The repositories ({@link ModelRepository}, {@link DeviceRepository}, {@link TelemetryRepository},
 * {@link EventRepository}) hold the SQL.
 */
public final class CloudStore implements AutoCloseable {
    // V5__pki.sql (helper "pki") goes before V6 when merged: the runner numbers scripts by their place in this list
    static final List<String> MIGRATIONS = List.of("V1__registry_fleet_telemetry.sql", "V2__rollouts.sql", "V3__escalation_stats.sql",
            "V4__client_errors.sql", "V5__pki.sql", "V6__access.sql", "V7__device_runtimes.sql", "V8__device_logs.sql",
            "V9__device_resources.sql");

    private final Connection db;
    private final Path file;

    private CloudStore(Connection db, Path file) {
        this.db = db;
        this.file = file;
    }

    /** Opens (creating and migrating when needed) {@code dataDir/cloud.db}. */
    public static CloudStore open(Path dataDir) {
        Path file = dataDir.resolve("cloud.db");
        try {
            Files.createDirectories(dataDir);
            Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                // NORMAL in WAL mode: a power cut may lose the last transactions but never corrupts; the
                // ingest path acknowledges to the broker (or commits Kafka offsets) only after commit, and
                // redelivered batches are dropped by (device, sequence), so nothing is double-counted.
                s.execute("PRAGMA synchronous=NORMAL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("PRAGMA foreign_keys=ON");
            }
            SqlMigrations.apply(c, CloudStore.class, MIGRATIONS);
            return new CloudStore(c, file);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the control-plane database " + file + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data folder " + dataDir, e);
        }
    }

    public Path file() {
        return file;
    }

    /** A unit of work on the connection. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. */
    public synchronized <T> T tx(Work<T> work) {
        try {
            db.setAutoCommit(false);
            try {
                T out = work.run(db);
                db.commit();
                return out;
            } catch (SQLException | RuntimeException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /** Runs a read (or a single statement) without an explicit transaction. */
    public synchronized <T> T read(Work<T> work) {
        try {
            return work.run(db);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }
}
