package io.edgefleet.cloud.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The control plane's database, reached through plain JDBC: SQLite ({@code cloud.db} in the data
 * folder, WAL) by default, PostgreSQL when {@link DatabaseSettings} names one. The schema is
 * migrated by Flyway when the store opens ({@link Migrations}); the repositories
 * ({@link ModelRepository}, {@link DeviceRepository}, {@link TelemetryRepository},
 * {@link EventRepository}, ...) hold SQL that runs unchanged on both.
 *
 * <p><b>SQLite</b>: one connection, used under this object's lock, exactly as before PostgreSQL
 * came: SQLite has one writer anyway, and one connection keeps the file's WAL, busy timeout and
 * foreign keys in one place. Units of work run one at a time in the order their threads take the lock.
 *
 * <p><b>PostgreSQL</b>: a HikariCP pool; units of work of different threads (and of other
 * control-plane processes on the same database) run concurrently. Transactions of {@link #tx} run
 * at {@code SERIALIZABLE}: the repositories were written for one connection under a lock, with
 * read-then-write steps (a model version inserted only when absent, a device row read then
 * updated), and serializable isolation is the level under which those steps stay correct without
 * rewriting each of them with row locks. The price is that PostgreSQL may abort a transaction that
 * conflicts with a concurrent one (SQLSTATE {@code 40001}, or {@code 40P01} for a deadlock):
 * {@link #tx} then rolls back and runs the whole unit of work again, up to {@value #MAX_ATTEMPTS}
 * times with a random exponential pause. The ingest paths, made only of atomic upserts that all
 * add to the same per-model rows, ask for {@link Isolation#READ_COMMITTED} instead: there a
 * concurrent writer of the same row makes them wait, not fail (measured: 8 threads of serializable
 * ingest on one bucket exhausted 10 attempts), so units of work must touch nothing but the connection (they
 * do: they build their result from what they read). {@link #read} runs in auto-commit, each
 * statement its own snapshot, and is retried the same way.
 *
 * <p>Thread safety: every method may be called from any thread. A unit of work must not call back
 * into the store (on PostgreSQL it would take a second pooled connection).
 */
public final class CloudStore implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CloudStore.class.getName());
    /** How often a unit of work is tried when PostgreSQL aborts it for a conflict. */
    static final int MAX_ATTEMPTS = 20;

    /**
     * The isolation of a transaction on PostgreSQL (SQLite runs every transaction alone, whatever is asked).
     * {@link #SERIALIZABLE} for read-then-write units of work; {@link #READ_COMMITTED} for units of work made only of
     * statements that are atomic by themselves (upserts, conditional updates, {@code ON CONFLICT DO NOTHING} inserts),
     * which then wait for a concurrent writer of the same row instead of failing with it: the ingest of telemetry and
     * logs, where every batch adds to the same per-model rows.
     */
    public enum Isolation {
        SERIALIZABLE(Connection.TRANSACTION_SERIALIZABLE), READ_COMMITTED(Connection.TRANSACTION_READ_COMMITTED);

        final int jdbc;

        Isolation(int jdbc) {
            this.jdbc = jdbc;
        }
    }

    private final DatabaseSettings.Kind kind;
    private final Optional<Connection> single;
    private final DataSource pool;
    private final Optional<Path> file;

    private CloudStore(DatabaseSettings.Kind kind, Optional<Connection> single, DataSource pool, Optional<Path> file) {
        this.kind = kind;
        this.single = single;
        this.pool = pool;
        this.file = file;
    }

    /** Opens (creating and migrating when needed) the embedded SQLite {@code dataDir/cloud.db}. */
    public static CloudStore open(Path dataDir) {
        return open(dataDir, DatabaseSettings.embedded());
    }

    /**
     * Opens the database {@code settings} name ({@code dataDir/cloud.db} when they name none) and migrates its schema.
     *
     * @throws IllegalStateException the database cannot be reached, a migration fails, or its schema is newer than this build
     * @throws IllegalArgumentException the password file or variable is missing
     */
    public static CloudStore open(Path dataDir, DatabaseSettings settings) {
        return settings.kind() == DatabaseSettings.Kind.POSTGRESQL ? openPostgres(settings) : openSqlite(dataDir, settings);
    }

    private static CloudStore openSqlite(Path dataDir, DatabaseSettings settings) {
        Path path = settings.url().map(u -> Path.of(u.substring("jdbc:sqlite:".length()))).orElse(dataDir.resolve("cloud.db"));
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create data folder " + path.getParent(), e);
        }
        SQLiteConfig cfg = new SQLiteConfig();
        cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
        // NORMAL in WAL mode: a power cut may lose the last transactions but never corrupts; the
        // ingest path acknowledges to the broker (or commits Kafka offsets) only after commit, and
        // redelivered batches are dropped by (device, sequence), so nothing is double-counted.
        cfg.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        cfg.setBusyTimeout(5000);
        cfg.enforceForeignKeys(true);
        SQLiteDataSource ds = new SQLiteDataSource(cfg);
        ds.setUrl("jdbc:sqlite:" + path);
        try {
            Migrations.apply(ds, DatabaseSettings.Kind.SQLITE, path.toString());
            return new CloudStore(DatabaseSettings.Kind.SQLITE, Optional.of(ds.getConnection()), ds, Optional.of(path));
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the control-plane database " + path + ": " + e.getMessage(), e);
        }
    }

    private static CloudStore openPostgres(DatabaseSettings settings) {
        HikariConfig h = new HikariConfig();
        h.setJdbcUrl(settings.url().orElseThrow());
        settings.user().ifPresent(h::setUsername);
        settings.password().ifPresent(h::setPassword);
        h.setMaximumPoolSize(settings.poolSize());
        h.setConnectionTimeout(settings.connectTimeout().toMillis());
        h.setTransactionIsolation("TRANSACTION_SERIALIZABLE");
        h.setPoolName("edgefleet-db");
        HikariDataSource ds;
        try {
            ds = new HikariDataSource(h);
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot connect to the control-plane database " + settings.safeUrl() + ": " + e.getMessage(), e);
        }
        try {
            Migrations.apply(ds, DatabaseSettings.Kind.POSTGRESQL, settings.safeUrl());
            warnOnCollation(ds, settings.safeUrl());
            return new CloudStore(DatabaseSettings.Kind.POSTGRESQL, Optional.empty(), ds, Optional.empty());
        } catch (RuntimeException | SQLException e) {
            ds.close();
            throw e instanceof RuntimeException r ? r : new IllegalStateException("cannot open the control-plane database " + settings.safeUrl()
                    + ": " + e.getMessage(), e);
        }
    }

    /**
     * SQLite orders text by its bytes; a PostgreSQL database created with a language collation (en_US.UTF-8, ...)
     * orders it otherwise (punctuation ignored, case folded), so lists would come out in another order than on
     * SQLite. Ranks and ids compare the same either way; the operator is told once, at start.
     */
    private static void warnOnCollation(DataSource ds, String name) throws SQLException {
        try (Connection c = ds.getConnection(); java.sql.Statement s = c.createStatement();
                // asks how text sorts rather than reading datcollate alone: an ICU database (--locale-provider icu) reports
                // datcollate C yet folds case; byte order puts 'B' (0x42) before 'a' (0x61)
                java.sql.ResultSet r = s.executeQuery("SELECT datcollate, 'a' < 'B' FROM pg_database WHERE datname = current_database()")) {
            if (r.next() && r.getBoolean(2)) {
                LOG.log(System.Logger.Level.WARNING, "database {0} sorts text by collation {1}: listings may be ordered differently "
                        + "than on SQLite; create it with --locale=C (docs/control-plane.md)", name, r.getString(1));
            }
        }
    }

    /** The SQLite file; empty on PostgreSQL. */
    public Optional<Path> file() {
        return file;
    }

    public DatabaseSettings.Kind kind() {
        return kind;
    }

    /** A unit of work on a connection. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} in one transaction: committed when it returns, rolled back when it throws.
     * On PostgreSQL a transaction aborted by a conflict with another one is run again (see the class doc).
     *
     * @throws StoreException a database error, or a conflict that persisted for {@value #MAX_ATTEMPTS} attempts
     */
    public <T> T tx(Work<T> work) {
        return attempt(work, Optional.of(Isolation.SERIALIZABLE));
    }

    /** {@link #tx(Work)} at the given isolation (see {@link Isolation} for which units of work may ask for less). */
    public <T> T tx(Isolation isolation, Work<T> work) {
        return attempt(work, Optional.of(isolation));
    }

    /** Runs a read (or a single statement) without an explicit transaction. */
    public <T> T read(Work<T> work) {
        return attempt(work, Optional.empty());
    }

    private <T> T attempt(Work<T> work, Optional<Isolation> transaction) {
        if (single.isPresent()) {
            synchronized (this) {
                return transaction.isPresent() ? inTx(single.get(), Optional.empty(), work) : run(single.get(), work);
            }
        }
        for (int attempt = 1;; attempt++) {
            try (Connection c = pool.getConnection()) {
                return transaction.isPresent() ? inTx(c, transaction, work) : run(c, work);
            } catch (StoreException e) {
                if (!retriable(e.getCause()) || attempt >= MAX_ATTEMPTS) {
                    throw e;
                }
            } catch (SQLException e) { // getConnection or close
                throw new StoreException(e);
            }
            // random exponential back-off (1 ms .. 2^attempt ms, at most 256 ms) so conflicting transactions spread out
            LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(1_000_000L, 1_000_000L * (2L << Math.min(attempt, 7))));
        }
    }

    private static <T> T inTx(Connection c, Optional<Isolation> isolation, Work<T> work) {
        try {
            int before = c.getTransactionIsolation();
            if (isolation.isPresent() && isolation.get().jdbc != before) {
                c.setTransactionIsolation(isolation.get().jdbc);
            }
            c.setAutoCommit(false);
            try {
                T out = work.run(c);
                c.commit();
                return out;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
                if (c.getTransactionIsolation() != before) {
                    c.setTransactionIsolation(before);
                }
            }
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    private static <T> T run(Connection c, Work<T> work) {
        try {
            return work.run(c);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /** PostgreSQL's serialization failure and deadlock: the transaction did nothing and may be run again. */
    static boolean retriable(Throwable e) {
        return e instanceof SQLException s && ("40001".equals(s.getSQLState()) || "40P01".equals(s.getSQLState()));
    }

    @Override
    public void close() {
        if (single.isPresent()) {
            synchronized (this) {
                try {
                    single.get().close();
                } catch (SQLException e) {
                    throw new StoreException(e);
                }
            }
        } else if (pool instanceof HikariDataSource h) {
            h.close();
        }
    }
}
