package io.edgefleet.transport.logging;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;

/**
 * Level names as EdgeFleet's logs print and accept them. Printed: the SLF4J/Logback names
 * ({@code ERROR}, {@code WARN}, {@code INFO}, {@code DEBUG}, {@code TRACE}) that the demo always
 * showed, mapped from java.util.logging's levels ({@code SEVERE} to {@code ERROR}, {@code WARNING}
 * to {@code WARN}, {@code CONFIG} to {@code INFO}, {@code FINE} to {@code DEBUG}, {@code FINER} and
 * {@code FINEST} to {@code TRACE}). Accepted: either family, any case, plus {@code OFF} and
 * {@code ALL}. Pure functions; any thread.
 */
public final class LogLevels {
    private LogLevels() {
    }

    /** The printed name of a JUL level: ERROR, WARN, INFO, DEBUG or TRACE (OFF and ALL as themselves). */
    public static String name(Level level) {
        int v = level.intValue();
        if (v == Level.OFF.intValue()) {
            return "OFF";
        }
        if (v >= Level.SEVERE.intValue()) {
            return "ERROR";
        }
        if (v >= Level.WARNING.intValue()) {
            return "WARN";
        }
        if (v >= Level.CONFIG.intValue()) {
            return "INFO";
        }
        if (v >= Level.FINE.intValue()) {
            return "DEBUG";
        }
        return "TRACE";
    }

    /**
     * The JUL level for a name of either family.
     *
     * @throws IllegalArgumentException naming the value and the names accepted
     */
    public static Level parse(String name) {
        String n = name == null ? "" : name.strip().toUpperCase(Locale.ROOT);
        return switch (n) {
            case "ERROR", "SEVERE" -> Level.SEVERE;
            case "WARN", "WARNING" -> Level.WARNING;
            case "INFO" -> Level.INFO;
            case "CONFIG" -> Level.CONFIG;
            case "DEBUG", "FINE" -> Level.FINE;
            case "FINER" -> Level.FINER;
            case "TRACE", "FINEST" -> Level.FINEST;
            case "OFF" -> Level.OFF;
            case "ALL" -> Level.ALL;
            default -> throw new IllegalArgumentException("log level '" + name
                    + "' is none of ERROR, WARN, INFO, DEBUG, TRACE (or JUL's SEVERE, WARNING, CONFIG, FINE, FINER, FINEST), OFF, ALL");
        };
    }

    /**
     * Parses {@code PACKAGE=LEVEL} settings ({@code io.edgefleet.agent=DEBUG}); a bare {@code LEVEL}
     * sets the root logger (key {@code ""}). Later entries override earlier ones.
     *
     * @throws IllegalArgumentException naming the entry that is wrong
     */
    public static Map<String, Level> parseAll(Iterable<String> entries) {
        Map<String, Level> out = new LinkedHashMap<>();
        for (String e : entries) {
            int eq = e.indexOf('=');
            String logger = eq < 0 ? "" : e.substring(0, eq).strip();
            String level = eq < 0 ? e : e.substring(eq + 1);
            if (eq >= 0 && logger.isEmpty()) {
                throw new IllegalArgumentException("log level '" + e + "': expected PACKAGE=LEVEL, e.g. io.edgefleet.agent=DEBUG");
            }
            out.put(logger, parse(level));
        }
        return out;
    }
}
