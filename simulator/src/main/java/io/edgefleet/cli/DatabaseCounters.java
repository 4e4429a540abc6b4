package io.edgefleet.cli;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * PostgreSQL's own counters for one database, read by the rollout bench before and after a rollout:
 * statements executed ({@code pg_stat_statements}, summed {@code calls}, when the server preloads it:
 * {@code shared_preload_libraries = 'pg_stat_statements'}), and {@code pg_stat_database}'s
 * transactions committed and rows returned, fetched, inserted, updated and deleted. The cumulative
 * statistics are flushed by the server's backends at most once a second; {@link #read} waits for that.
 */
final class DatabaseCounters {
    private static final AtomicInteger DATABASES = new AtomicInteger();

    /** One reading; {@code statements} is -1 without pg_stat_statements. */
    record Reading(long statements, long commits, long rowsReturned, long rowsFetched, long rowsWritten) {
        Reading minus(Reading o) {
            return new Reading(statements < 0 || o.statements < 0 ? -1 : statements - o.statements, commits - o.commits, rowsReturned - o.rowsReturned,
                    rowsFetched - o.rowsFetched, rowsWritten - o.rowsWritten);
        }
    }

    private final String adminUrl;
    private final String user;
    private final String database;
    private final boolean statements;

    private DatabaseCounters(String adminUrl, String user, String database, boolean statements) {
        this.adminUrl = adminUrl;
        this.user = user;
        this.database = database;
        this.statements = statements;
    }

    /**
     * Creates a new empty database on the server of {@code adminUrl} (a database the user may connect to,
     * e.g. {@code postgres}) and enables {@code pg_stat_statements} there when the server preloads it.
     */
    static DatabaseCounters createDatabase(String adminUrl, String user) throws SQLException {
        String name = "edgefleet_bench_" + ProcessHandle.current().pid() + "_" + DATABASES.incrementAndGet();
        boolean stmts;
        try (Connection c = DriverManager.getConnection(adminUrl, user, null); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
            try (ResultSet r = s.executeQuery("SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'")) {
                stmts = r.next() && r.getString(1).contains("pg_stat_statements");
            }
            if (stmts) {
                s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            }
        }
        return new DatabaseCounters(adminUrl, user, name, stmts);
    }

    /** The JDBC URL of the new database (the admin URL with its database name replaced). */
    String jdbcUrl() {
        return adminUrl.replaceFirst("^(jdbc:postgresql://[^/?]+)/[^?]*", "$1/" + database);
    }

    String database() {
        return database;
    }

    boolean countsStatements() {
        return statements;
    }

    /** The counters now (after waiting 1.5 s for the backends' statistics to be flushed). */
    Reading read() throws SQLException, InterruptedException {
        Thread.sleep(1500);
        try (Connection c = DriverManager.getConnection(adminUrl, user, null); Statement s = c.createStatement()) {
            s.execute("SELECT pg_stat_clear_snapshot()");
            long calls = -1;
            if (statements) {
                try (ResultSet r = s.executeQuery("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                        + "WHERE d.datname = '" + database + "'")) {
                    r.next();
                    calls = r.getLong(1);
                }
            }
            try (ResultSet r = s.executeQuery("SELECT xact_commit, tup_returned, tup_fetched, tup_inserted + tup_updated + tup_deleted "
                    + "FROM pg_stat_database WHERE datname = '" + database + "'")) {
                r.next();
                return new Reading(calls, r.getLong(1), r.getLong(2), r.getLong(3), r.getLong(4));
            }
        }
    }

    /** Drops the database (its connections closed by the server). */
    void drop() {
        try (Connection c = DriverManager.getConnection(adminUrl, user, null); Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        } catch (SQLException e) {
            System.err.println("bench database " + database + " not dropped: " + e.getMessage());
        }
    }

    static Optional<String> describe(Reading r, int devices) {
        if (r == null) {
            return Optional.empty();
        }
        String stmts = r.statements() < 0 ? "statements n/a (server without pg_stat_statements)"
                : String.format(java.util.Locale.ROOT, "%d statements (%.1f per device)", r.statements(), (double) r.statements() / devices);
        return Optional.of(String.format(java.util.Locale.ROOT, "%s, %d commits (%.1f per device), rows returned %d, fetched %d, written %d (%.1f written per device)",
                stmts, r.commits(), (double) r.commits() / devices, r.rowsReturned(), r.rowsFetched(), r.rowsWritten(), (double) r.rowsWritten() / devices));
    }
}
