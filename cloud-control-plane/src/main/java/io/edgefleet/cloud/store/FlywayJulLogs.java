package io.edgefleet.cloud.store;

import java.util.logging.Level;
import java.util.logging.Logger;
import org.flywaydb.core.api.logging.Log;
import org.flywaydb.core.api.logging.LogCreator;

/**
 * Routes Flyway's log records to {@code java.util.logging}, under the name of the Flyway class
 * that logs, whatever logging libraries are on the class path. Without it Flyway picks SLF4J when
 * SLF4J is present, and where SLF4J's provider is Logback (the developer launcher's class path:
 * the embedded HiveMQ needs Logback) its routine INFO lines bypassed the levels EdgeFleet sets
 * ({@code LogSetup}: {@code org.flywaydb} at WARN unless {@code --log-level org.flywaydb=INFO}).
 *
 * <p>Named to Flyway by class name ({@code FluentConfiguration.loggers}), which instantiates it
 * with the public no-argument constructor. Levels: Flyway's debug is {@code FINE}, info and notice
 * {@code INFO}, warn {@code WARNING}, error {@code SEVERE}. Thread-safe (stateless).
 */
public final class FlywayJulLogs implements LogCreator {
    /** For Flyway, which instantiates the class by name. */
    public FlywayJulLogs() {
    }

    @Override
    public Log createLogger(Class<?> clazz) {
        Logger jul = Logger.getLogger(clazz.getName());
        return new Log() {
            @Override
            public boolean isDebugEnabled() {
                return jul.isLoggable(Level.FINE);
            }

            @Override
            public void debug(String message) {
                jul.log(Level.FINE, message);
            }

            @Override
            public void info(String message) {
                jul.log(Level.INFO, message);
            }

            @Override
            public void warn(String message) {
                jul.log(Level.WARNING, message);
            }

            @Override
            public void error(String message) {
                jul.log(Level.SEVERE, message);
            }

            @Override
            public void error(String message, Exception e) {
                jul.log(Level.SEVERE, message, e);
            }

            @Override
            public void notice(String message) {
                jul.log(Level.INFO, message);
            }
        };
    }
}
