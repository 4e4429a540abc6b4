package io.edgefleet.protocols.messages;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgefleet.protocols.Checks;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A batch on {@code ef/v1/{fleet}/{device}/logs}: the agent's WARN and ERROR log records
 * (central logs, as Greengrass's log manager forwards them). {@code sequence} grows by one per batch
 * per device and survives restarts (the agent's outbox), so the control plane drops a redelivered
 * batch by (device, sequence). {@code dropped} counts the records the agent did not forward since
 * the batch before (its rate limit or a full queue) and {@code lost} the batches its outbox had to drop
 * for space while the broker was away, so a gap is explained, not silent.
 */
public record LogBatch(int schemaVersion, String fleet, String device, long sequence, Instant sentAt, List<Entry> records, long dropped, long lost) {
    public static final int SCHEMA_VERSION = 1;
    /** Longest message and exception text kept per record, in characters; longer ones are cut. */
    public static final int MAX_TEXT = 8192;

    public LogBatch {
        Checks.schemaVersion(schemaVersion, SCHEMA_VERSION, "logs");
        Checks.id(fleet, "fleet");
        Checks.id(device, "device");
        Checks.nonNegative(sequence, "sequence");
        Checks.required(sentAt, "sentAt");
        records = Checks.list(records, "records");
        Checks.nonNegative(dropped, "dropped");
        Checks.nonNegative(lost, "lost");
    }

    /**
     * One log record, as the JSON log format writes it.
     *
     * @param time when it was logged
     * @param level {@code ERROR}, {@code WARN} (or a lower level where an agent forwards more)
     * @param logger the full logger name
     * @param thread the name of the thread that logged
     * @param message the formatted message
     * @param exception the stack trace of a logged throwable
     * @param traceId the W3C trace id of the span current when it was logged (32 hex digits)
     * @param spanId the span's id (16 hex digits)
     */
    public record Entry(Instant time, String level, String logger, String thread, String message, Optional<String> exception,
            @JsonProperty("trace_id") Optional<String> traceId, @JsonProperty("span_id") Optional<String> spanId) {
        public Entry {
            Checks.required(time, "time");
            Checks.requiredText(level, "level");
            logger = logger == null ? "" : logger;
            thread = thread == null ? "" : thread;
            message = cut(message == null ? "" : message);
            exception = exception == null ? Optional.empty() : exception.map(Entry::cut);
            traceId = traceId == null ? Optional.empty() : traceId;
            spanId = spanId == null ? Optional.empty() : spanId;
        }

        private static String cut(String s) {
            return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT) + "...";
        }
    }
}
