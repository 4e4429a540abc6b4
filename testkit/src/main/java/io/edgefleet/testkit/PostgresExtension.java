package io.edgefleet.testkit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A fresh PostgreSQL database per test class on the JVM's shared {@link PostgresServer}: created
 * before the class, dropped after it. Register it in a static field
 * ({@code @RegisterExtension static final PostgresExtension PG = new PostgresExtension();}) and
 * call {@link #database()}, or take a {@link Database} parameter. {@link #newDatabase()} gives a
 * test a further empty database of its own (dropped with the class's).
 */
public final class PostgresExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    /** A database on the shared server; connect as {@link PostgresServer#USER} without a password. */
    public record Database(String name, String jdbcUrl, String user) {
    }

    private Database database;
    private final java.util.List<String> extra = new java.util.concurrent.CopyOnWriteArrayList<>();
    private String prefix = "test";

    /** The class's database; created before the class. */
    public Database database() {
        if (database == null) {
            throw new IllegalStateException("the database is created before the test class; register this extension in a static field");
        }
        return database;
    }

    /** Another empty database on the same server, dropped after the class. */
    public Database newDatabase() {
        PostgresServer s = PostgresServer.shared();
        String name = s.createDatabase(prefix);
        extra.add(name);
        return new Database(name, s.jdbcUrl(name), PostgresServer.USER);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        prefix = context.getRequiredTestClass().getSimpleName();
        PostgresServer s = PostgresServer.shared();
        String name = s.createDatabase(prefix);
        database = new Database(name, s.jdbcUrl(name), PostgresServer.USER);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        PostgresServer s = PostgresServer.shared();
        if (database != null) {
            s.dropDatabase(database.name());
            database = null;
        }
        for (String n : extra) {
            s.dropDatabase(n);
        }
        extra.clear();
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == Database.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        return database();
    }
}
