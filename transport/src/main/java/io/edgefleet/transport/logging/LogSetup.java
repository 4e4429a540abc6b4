package io.edgefleet.transport.logging;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The process's java.util.logging set-up, one for every EdgeFleet command: the root logger gets
 * one console handler (standard error, level {@code ALL} so that logger levels alone decide) with
 * the {@link LineFormatter} or the {@link JsonLineFormatter}, and logger levels are set per
 * package. Other root handlers are removed except those EdgeFleet itself attaches (the agent's
 * central-log forwarder); a bridge installed by a library (HiveMQ's jul-to-slf4j) is replaced, so
 * our records keep our format. Levels already set by a {@code logging.properties} file stay unless
 * {@code levels} names the same logger.
 *
 * <p>Libraries that narrate routine work at INFO ({@link #QUIET_LIBRARIES}: Flyway prints some
 * twenty lines per start, HikariCP four) start at WARN unless a {@code logging.properties} file or
 * {@code levels} names them ({@code --log-level org.flywaydb=INFO} brings them back); EdgeFleet's
 * own line says what the migration did.
 *
 * <p>JUL keeps loggers weakly: a level set on a logger nothing references would be lost when the
 * logger is collected, so this class holds every logger it configured. Thread-safe; the last call
 * wins.
 */
public final class LogSetup {
    private static final Map<String, Logger> CONFIGURED = new ConcurrentHashMap<>();
    /** Loggers that start at WARN unless configured (see the class comment). */
    public static final List<String> QUIET_LIBRARIES = List.of("org.flywaydb", "com.zaxxer.hikari");
    private static volatile Settings current = new Settings(LogFormat.TEXT, Map.of());

    private LogSetup() {
    }

    /**
     * What a process logs and how.
     *
     * @param format text or JSON lines
     * @param levels logger name (a package or class; {@code ""} the root) to level, applied in order
     */
    public record Settings(LogFormat format, Map<String, Level> levels) {
        public Settings {
            java.util.Objects.requireNonNull(format, "format");
            levels = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(levels));
        }

        /** These settings, then {@code other}'s format when present and its levels over these. */
        public Settings overriddenBy(Optional<LogFormat> otherFormat, Map<String, Level> otherLevels) {
            Map<String, Level> l = new LinkedHashMap<>(levels);
            l.putAll(otherLevels);
            return new Settings(otherFormat.orElse(format), l);
        }
    }

    /** The settings of the last {@link #configure} (text and no levels before any). */
    public static Settings current() {
        return current;
    }

    /** The formatter for {@code format}. */
    public static Formatter formatter(LogFormat format) {
        return format == LogFormat.JSON ? new JsonLineFormatter() : new LineFormatter();
    }

    /** Applies {@code s} to the JVM's loggers (see the class comment). */
    public static synchronized void configure(Settings s) {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            if (!(h instanceof Retained)) {
                root.removeHandler(h);
            }
        }
        ConsoleHandler console = new ConsoleHandler();
        console.setLevel(Level.ALL);
        console.setFormatter(formatter(s.format()));
        root.addHandler(console);
        for (String name : QUIET_LIBRARIES) {
            Logger l = Logger.getLogger(name);
            if (!s.levels().containsKey(name) && (l.getLevel() == null || CONFIGURED.containsKey(name))) {
                l.setLevel(Level.WARNING);
                CONFIGURED.put(name, l);
            }
        }
        for (Map.Entry<String, Level> e : s.levels().entrySet()) {
            Logger l = Logger.getLogger(e.getKey());
            l.setLevel(e.getValue());
            CONFIGURED.put(e.getKey(), l);
        }
        current = s;
    }

    /** Applies the current settings again: after a library replaced the root handlers (HiveMQ's start does). */
    public static void reapply() {
        configure(current);
    }

    /** The loggers whose level this class set, by name (for tests and diagnostics). */
    public static List<String> configuredLoggers() {
        return List.copyOf(CONFIGURED.keySet());
    }

    /** A root handler that {@link #configure} leaves in place (the central-log forwarder). */
    public interface Retained {
    }
}
