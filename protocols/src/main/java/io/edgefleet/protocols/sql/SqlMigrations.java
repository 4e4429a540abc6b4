package io.edgefleet.protocols.sql;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Forward-only schema migrations for the agent's SQLite store (the control plane migrates with Flyway
 * since issue 18 and baselines databases this runner wrote at the version it recorded): numbered
 * SQL scripts on the class path, each applied once in its own transaction and recorded in
 * {@code schema_version}. A script is a list of statements separated by {@code ;} (no semicolons
 * inside string literals or triggers). Plain JDBC, so another database with the same SQL works.
 */
public final class SqlMigrations {
    private SqlMigrations() {
    }

    /**
     * Applies the scripts not yet applied, in order.
     *
     * @param anchor the class whose package holds the scripts
     * @param scripts the script names, oldest first; never reorder or remove one, only append
     * @return the schema version after migrating
     */
    public static int apply(Connection db, Class<?> anchor, List<String> scripts) throws SQLException {
        try (Statement s = db.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
            int current;
            try (ResultSet r = s.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
                current = r.getInt(1);
            }
            if (current > scripts.size()) {
                throw new SQLException("the database has schema version " + current + " but this build knows only " + scripts.size()
                        + ": it was written by a newer release");
            }
            for (int v = current; v < scripts.size(); v++) {
                boolean auto = db.getAutoCommit();
                db.setAutoCommit(false);
                try {
                    for (String stmt : script(anchor, scripts.get(v)).split(";")) {
                        if (!stmt.isBlank()) {
                            s.execute(stmt);
                        }
                    }
                    s.execute("INSERT INTO schema_version (version) VALUES (" + (v + 1) + ")");
                    db.commit();
                } catch (SQLException e) {
                    db.rollback();
                    throw new SQLException("migration " + scripts.get(v) + " failed: " + e.getMessage(), e);
                } finally {
                    db.setAutoCommit(auto);
                }
            }
            return scripts.size();
        }
    }

    private static String script(Class<?> anchor, String name) {
        try (InputStream in = anchor.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("migration " + name + " missing from the jar (next to " + anchor.getName() + ")");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
