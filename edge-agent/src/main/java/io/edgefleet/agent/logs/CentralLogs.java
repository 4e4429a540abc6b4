package io.edgefleet.agent.logs;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.logging.Level;

/**
 * What the agent forwards to the control plane (central logs, {@code agent.logs} in the YAML).
 *
 * @param forward whether records are forwarded at all (needs MQTT; default true)
 * @param level the lowest level forwarded (default {@code WARNING}, i.e. WARN and ERROR)
 * @param maxRecords records forwarded per {@code period} at most: a token bucket refilled to this
 *     many at the start of each period (default 60); the rest are dropped and counted
 * @param period the bucket's refill period (default 60 s)
 * @param queueCapacity records held in memory between two flushes into the outbox (default 1000)
 * @param maxOutboxRows log batches the outbox holds while the broker is away; beyond, the oldest are
 *     dropped and reported as lost (default 1000)
 * @param loggers the loggers whose records are forwarded ({@code ""}: every logger of the process,
 *     the default; an embedder running several agents in one JVM names its own)
 */
public record CentralLogs(boolean forward, Level level, int maxRecords, Duration period, int queueCapacity, int maxOutboxRows,
        List<String> loggers) {
    public CentralLogs {
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(period, "period");
        loggers = List.copyOf(loggers);
        if (maxRecords < 1 || period.toMillis() < 1 || queueCapacity < 1 || maxOutboxRows < 1) {
            throw new IllegalArgumentException("agent.logs: max-records, period-ms, queue-capacity and max-outbox-rows must be >= 1");
        }
    }

    /** WARN and ERROR of every logger, at most 60 a minute. */
    public static CentralLogs defaults() {
        return new CentralLogs(true, Level.WARNING, 60, Duration.ofMinutes(1), 1000, 1000, List.of(""));
    }

    /** Forwarding turned off. */
    public static CentralLogs off() {
        return new CentralLogs(false, Level.WARNING, 60, Duration.ofMinutes(1), 1000, 1000, List.of(""));
    }
}
