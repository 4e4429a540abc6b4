package io.edgefleet.cloud;

import io.edgefleet.cloud.store.DatabaseSettings;
import io.edgefleet.testkit.PostgresServer;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Resolves a {@link DatabaseSettings} parameter (of a {@code @BeforeAll} method, typically): the embedded SQLite
 * default, or, on a class annotated {@link OnPostgres}, a fresh database on the shared PostgreSQL server, dropped
 * after the class. The same test code then runs on both stores.
 */
final class DatabaseParameter implements ParameterResolver, AfterAllCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(DatabaseParameter.class);

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == DatabaseSettings.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        Class<?> test = e.getRequiredTestClass();
        if (!test.isAnnotationPresent(OnPostgres.class)) {
            return DatabaseSettings.embedded();
        }
        PostgresServer server = PostgresServer.shared();
        String name = server.createDatabase(test.getSimpleName());
        e.getStore(NS).put("database", name);
        return DatabaseSettings.postgresql(server.jdbcUrl(name), PostgresServer.USER, Optional.empty());
    }

    @Override
    public void afterAll(ExtensionContext e) {
        String name = e.getStore(NS).remove("database", String.class);
        if (name != null) {
            PostgresServer.shared().dropDatabase(name);
        }
    }
}
