package io.edgefleet.transport.logging;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * JSON Lines: one object per record and line, written with Jackson's streaming generator,
 * <pre>{"time":"2026-11-30T06:26:33.123Z","level":"WARN","logger":"io.edgefleet.agent.slots.Watchdog",
 *  "thread":"agent-telemetry","message":"...","exception":"java.io.IOException: ...\n\tat ...",
 *  "trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}</pre>
 * {@code time} is the record's instant (ISO-8601, UTC, milliseconds); {@code level} as
 * {@link LogLevels#name} prints it; {@code logger} the full logger name; {@code thread} the name
 * of the thread that logged (JUL hands it over only when the record is formatted on that
 * thread, which holds for the console handler; else {@code thread-ID}); {@code message} formatted
 * as JUL formats it; {@code exception} the stack trace, only when a throwable was logged;
 * {@code trace_id} and {@code span_id} (W3C trace context hex, as OpenTelemetry's log data model
 * names them) only when OpenTelemetry's {@link Span#current()} is valid on the thread that formats
 * the record. Stateless; any thread.
 */
public class JsonLineFormatter extends Formatter {
    private static final JsonFactory JSON = JsonFactory.builder().build();

    @Override
    public String format(LogRecord r) {
        StringWriter w = new StringWriter(256);
        try (JsonGenerator g = JSON.createGenerator(w)) {
            g.writeStartObject();
            g.writeStringField("time", LineFormatter.TIME.format(r.getInstant()));
            g.writeStringField("level", LogLevels.name(r.getLevel()));
            g.writeStringField("logger", r.getLoggerName() == null ? "" : r.getLoggerName());
            g.writeStringField("thread", thread(r));
            g.writeStringField("message", formatMessage(r));
            if (r.getThrown() != null) {
                g.writeStringField("exception", LineFormatter.stackTrace(r.getThrown()).stripTrailing());
            }
            SpanContext span = Span.current().getSpanContext();
            if (span.isValid()) {
                g.writeStringField("trace_id", span.getTraceId());
                g.writeStringField("span_id", span.getSpanId());
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.append(System.lineSeparator()).toString();
    }

    private static String thread(LogRecord r) {
        Thread t = Thread.currentThread();
        return t.threadId() == r.getLongThreadID() ? t.getName() : "thread-" + r.getLongThreadID();
    }
}
