package io.edgefleet.agent.logs;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.protocols.messages.LogBatch;
import io.edgefleet.protocols.messages.MessageCodec;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.TraceFlags;
import io.opentelemetry.api.trace.TraceState;
import io.opentelemetry.context.Scope;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The central-log forwarder against the agent's real SQLite outbox and the JVM's real loggers:
 * WARN and ERROR go to the outbox with their trace ids, the token bucket drops and counts, nothing
 * logged on the forwarding path comes back, and a full outbox counts lost batches.
 */
class LogForwarderTest {
    private static final String LOGGER = "io.edgefleet.forwardertest";
    private static final Logger LOG = Logger.getLogger(LOGGER + ".Deployer");
    private final MessageCodec json = MessageCodec.json();
    @TempDir
    Path dir;
    private AgentStore store;
    private LogForwarder forwarder;

    @BeforeEach
    void open() {
        store = AgentStore.open(dir);
    }

    @AfterEach
    void close() {
        if (forwarder != null) {
            forwarder.close();
        }
        store.close();
    }

    private LogForwarder forwarder(int maxRecords, int maxOutboxRows) {
        forwarder = new LogForwarder(new CentralLogs(true, Level.WARNING, maxRecords, Duration.ofHours(1), 1000, maxOutboxRows, List.of(LOGGER)),
                store, "f", "d1", Clock.systemUTC());
        forwarder.install();
        return forwarder;
    }

    private List<LogBatch> outbox() {
        List<LogBatch> out = new ArrayList<>();
        for (Map.Entry<Long, byte[]> e : store.peekOutbox(AgentStore.LOGS, 1000)) {
            out.add(json.decode(e.getValue(), LogBatch.class));
        }
        return out;
    }

    @Test
    void warn_and_error_reach_the_outbox_with_the_current_trace_info_does_not() {
        LogForwarder f = forwarder(60, 100);
        LOG.info("deploy step: downloaded");
        LOG.log(Level.WARNING, "verify failed for {0}", "kws 2.0.0");
        SpanContext ctx = SpanContext.create("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", TraceFlags.getSampled(), TraceState.getDefault());
        try (Scope s = Span.wrap(ctx).makeCurrent()) {
            LOG.log(Level.SEVERE, "activation failed", new IllegalStateException("engine gone"));
        }
        assertThat(f.runOnce()).isEqualTo(2);
        assertThat(store.outboxSize()).as("telemetry stream untouched").isZero();
        List<LogBatch> batches = outbox();
        assertThat(batches).singleElement().satisfies(b -> {
            assertThat(b.fleet()).isEqualTo("f");
            assertThat(b.device()).isEqualTo("d1");
            assertThat(b.sequence()).isZero();
            assertThat(b.dropped()).isZero();
            assertThat(b.records()).extracting(LogBatch.Entry::level).containsExactly("WARN", "ERROR");
            assertThat(b.records().get(0).message()).isEqualTo("verify failed for kws 2.0.0");
            assertThat(b.records().get(0).logger()).isEqualTo(LOGGER + ".Deployer");
            assertThat(b.records().get(0).thread()).isEqualTo(Thread.currentThread().getName());
            assertThat(b.records().get(0).traceId()).isEmpty();
            assertThat(b.records().get(1).traceId()).contains("0af7651916cd43dd8448eb211c80319c");
            assertThat(b.records().get(1).spanId()).contains("b7ad6b7169203331");
            assertThat(b.records().get(1).exception()).hasValueSatisfying(x -> assertThat(x).startsWith("java.lang.IllegalStateException: engine gone"));
        });
    }

    @Test
    void the_token_bucket_drops_what_exceeds_it_and_the_next_batch_says_how_many() {
        LogForwarder f = forwarder(5, 100);
        for (int i = 0; i < 20; i++) {
            LOG.warning("broker refused publish " + i);
        }
        assertThat(f.runOnce()).isEqualTo(5);
        assertThat(f.dropped()).isEqualTo(15);
        assertThat(f.forwarded()).isEqualTo(5);
        LogBatch b = outbox().get(0);
        assertThat(b.records()).extracting(LogBatch.Entry::message).containsExactly(
                "broker refused publish 0", "broker refused publish 1", "broker refused publish 2", "broker refused publish 3", "broker refused publish 4");
        assertThat(b.dropped()).isEqualTo(15);
        LOG.warning("still over the limit");
        f.runOnce();
        assertThat(outbox()).hasSize(2);
        assertThat(outbox().get(1).records()).isEmpty();
        assertThat(outbox().get(1).dropped()).as("only the drops since the batch before").isEqualTo(1);
    }

    @Test
    void what_the_forwarding_path_logs_is_never_forwarded() {
        LogForwarder f = forwarder(1000, 100);
        LogForwarder.forwarding(() -> {
            LOG.warning("publish of log batch 7 failed");
            return null;
        });
        Logger.getLogger(LogForwarder.class.getName()).warning("the forwarder's own warning");
        Logger.getLogger(LOGGER).addHandler(new java.util.logging.Handler() { // a WARN logged while a batch is written
            @Override
            public void publish(java.util.logging.LogRecord r) {
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        });
        assertThat(f.runOnce()).isZero();
        assertThat(f.dropped()).isZero();
        assertThat(outbox()).isEmpty();
    }

    @Test
    void a_full_outbox_drops_its_oldest_batches_and_reports_them_as_lost() {
        LogForwarder f = forwarder(1000, 2);
        for (int i = 0; i < 3; i++) {
            LOG.warning("batch " + i);
            f.runOnce();
        }
        LOG.warning("batch 3");
        f.runOnce();
        List<LogBatch> batches = outbox();
        assertThat(batches).extracting(LogBatch::sequence).containsExactly(2L, 3L);
        // batch 0 went for space when batch 2 came in: the next batch (3) says so; batch 1's loss travels with batch 4
        assertThat(batches.get(0).lost()).isZero();
        assertThat(batches.get(1).lost()).isEqualTo(1);
    }
}
