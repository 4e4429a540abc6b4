package io.edgefleet.agent.logs;

import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.protocols.messages.LogBatch;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.transport.logging.LogLevels;
import io.edgefleet.transport.logging.LogSetup;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.opentelemetry.api.trace.SpanContext;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Central logs, as Greengrass's log manager does them: a java.util.logging handler that forwards
 * the agent's WARN and ERROR records ({@link CentralLogs#level}) to the control plane through the
 * same store-and-forward outbox as telemetry (stream {@link AgentStore#LOGS}, topic
 * {@code ef/v1/{fleet}/{device}/logs}), so a broker outage loses nothing once a record is in the
 * outbox.
 *
 * <p>Bounded everywhere: a token bucket (resilience4j's {@link RateLimiter}: {@code maxRecords}
 * permits per {@code period}, never waiting) decides per record; the memory queue between the
 * logging thread and the outbox is bounded; the outbox holds at most {@code maxOutboxRows} log
 * batches. Records refused by the bucket or a full queue are counted and the count travels in the
 * next batch ({@link LogBatch#dropped}), so the control plane sees what it did not get.
 *
 * <p>It cannot feed itself: records logged while the forwarding path runs on a thread (the flush
 * into the outbox and the publish, marked with {@link #forwarding}) and records of this package are
 * never forwarded, and whatever else a forwarding failure causes is bounded by the bucket.
 *
 * <p>Threads: {@link #publish} runs on whichever thread logs (it only reads the current span and
 * offers to the queue); {@link #runOnce} on the agent's telemetry thread. The trace and span ids are
 * those of OpenTelemetry's current span on the logging thread.
 */
public final class LogForwarder extends Handler implements LogSetup.Retained {
    private static final ThreadLocal<Boolean> FORWARDING = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private static final String OWN_PACKAGE = LogForwarder.class.getPackageName();
    /** Records per batch at most (8 KiB of text each at most: a batch stays well under 1 MiB). */
    static final int MAX_BATCH = 100;

    private final CentralLogs settings;
    private final AgentStore store;
    private final String fleet;
    private final String device;
    private final Clock clock;
    private final MessageCodec json = MessageCodec.json();
    private final RateLimiter bucket;
    private final ArrayBlockingQueue<LogBatch.Entry> queue;
    private final AtomicLong unreportedDrops = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong forwarded = new AtomicLong();
    private final SimpleFormatter messages = new SimpleFormatter();
    private final List<Logger> attached = new ArrayList<>();

    public LogForwarder(CentralLogs settings, AgentStore store, String fleet, String device, Clock clock) {
        this.settings = settings;
        this.store = store;
        this.fleet = fleet;
        this.device = device;
        this.clock = clock;
        this.bucket = RateLimiter.of("central-logs-" + device, RateLimiterConfig.custom()
                .limitForPeriod(settings.maxRecords())
                .limitRefreshPeriod(settings.period())
                .timeoutDuration(Duration.ZERO)
                .build());
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        setLevel(settings.level());
    }

    /** Attaches this handler to the configured loggers (idempotent). */
    public synchronized void install() {
        if (!attached.isEmpty()) {
            return;
        }
        for (String name : settings.loggers()) {
            Logger l = Logger.getLogger(name);
            l.addHandler(this);
            attached.add(l);
        }
    }

    /**
     * Runs {@code work} marked as the forwarding path: nothing it logs on this thread is forwarded.
     * The agent wraps the publish of log batches in it.
     */
    public static <T> T forwarding(Supplier<T> work) {
        boolean was = FORWARDING.get();
        FORWARDING.set(Boolean.TRUE);
        try {
            return work.get();
        } finally {
            FORWARDING.set(was);
        }
    }

    @Override
    public void publish(LogRecord r) {
        if (r == null || !isLoggable(r) || FORWARDING.get()
                || (r.getLoggerName() != null && r.getLoggerName().startsWith(OWN_PACKAGE))) {
            return;
        }
        if (!bucket.acquirePermission()) {
            drop(1);
            return;
        }
        SpanContext span = io.opentelemetry.api.trace.Span.current().getSpanContext();
        LogBatch.Entry e = new LogBatch.Entry(r.getInstant(), LogLevels.name(r.getLevel()), r.getLoggerName(),
                Thread.currentThread().threadId() == r.getLongThreadID() ? Thread.currentThread().getName() : "thread-" + r.getLongThreadID(),
                messages.formatMessage(r), Optional.ofNullable(r.getThrown()).map(LogForwarder::stackTrace),
                span.isValid() ? Optional.of(span.getTraceId()) : Optional.empty(),
                span.isValid() ? Optional.of(span.getSpanId()) : Optional.empty());
        if (!queue.offer(e)) {
            drop(1);
        }
    }

    private void drop(long n) {
        unreportedDrops.addAndGet(n);
        dropped.addAndGet(n);
    }

    /**
     * Moves the queued records into the outbox, at most {@value #MAX_BATCH} per batch, each batch
     * carrying the records dropped since the one before; a batch with no records is written when
     * only drops are to be told.
     *
     * @return records written to the outbox
     */
    public int runOnce() {
        return forwarding(() -> {
            int written = 0;
            for (;;) {
                List<LogBatch.Entry> batch = new ArrayList<>();
                queue.drainTo(batch, MAX_BATCH);
                long drops = unreportedDrops.getAndSet(0);
                if (batch.isEmpty() && drops == 0) {
                    return written;
                }
                try {
                    store.appendOutbox(AgentStore.LOGS, (seq, lost) -> json.encode(
                            new LogBatch(LogBatch.SCHEMA_VERSION, fleet, device, seq, clock.instant(), batch, drops, lost)), settings.maxOutboxRows());
                } catch (RuntimeException e) {
                    drop(drops + batch.size()); // told in a later batch; this failure is not logged: it would come back here
                    dropped.addAndGet(-drops);
                    return written;
                }
                written += batch.size();
                forwarded.addAndGet(batch.size());
                if (batch.size() < MAX_BATCH) {
                    return written;
                }
            }
        });
    }

    /** Records not forwarded (bucket empty, queue full, outbox unwritable) since this handler was made. */
    public long dropped() {
        return dropped.get();
    }

    /** Records written to the outbox since this handler was made. */
    public long forwarded() {
        return forwarded.get();
    }

    @Override
    public void flush() {
    }

    /** Detaches from the loggers; queued records not yet in the outbox are lost (the process is ending). */
    @Override
    public synchronized void close() {
        for (Logger l : attached) {
            l.removeHandler(this);
        }
        attached.clear();
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        try (PrintWriter p = new PrintWriter(w)) {
            t.printStackTrace(p);
        }
        return w.toString().stripTrailing();
    }
}
