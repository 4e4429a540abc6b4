package io.edgefleet.transport.logging;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * EdgeFleet's one text log format, for every command (agent, control plane, CLI, demo): one line
 * per record, the demo's shape with a full UTC timestamp,
 * <pre>2026-11-30T06:26:33.123Z INFO  RolloutEngine: rollout r-1 wave 1 started: 3 devices</pre>
 * that is the instant (ISO-8601, UTC, milliseconds), the level as {@link LogLevels#name} prints
 * it padded to five characters, the logger's simple name (the part after the last dot), and the
 * message formatted as JUL formats it ({@link #formatMessage}); a thrown exception follows on the
 * next lines as its stack trace. The JVM's {@code logging.properties} names this class
 * ({@code java.util.logging.ConsoleHandler.formatter=io.edgefleet.transport.logging.LineFormatter}).
 * Stateless; any thread.
 */
public class LineFormatter extends Formatter {
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    @Override
    public String format(LogRecord r) {
        StringBuilder b = new StringBuilder(160);
        TIME.formatTo(r.getInstant(), b);
        String level = LogLevels.name(r.getLevel());
        b.append(' ').append(level);
        for (int i = level.length(); i < 5; i++) {
            b.append(' ');
        }
        b.append(' ').append(simpleName(r.getLoggerName())).append(": ").append(formatMessage(r)).append(System.lineSeparator());
        if (r.getThrown() != null) {
            b.append(stackTrace(r.getThrown()));
        }
        return b.toString();
    }

    static String simpleName(String logger) {
        if (logger == null || logger.isEmpty()) {
            return "root";
        }
        int dot = logger.lastIndexOf('.');
        return dot < 0 || dot == logger.length() - 1 ? logger : logger.substring(dot + 1);
    }

    static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        try (PrintWriter p = new PrintWriter(w)) {
            t.printStackTrace(p);
        }
        return w.toString();
    }
}
