package io.edgefleet.agent.telemetry;

import io.edgefleet.agent.store.AgentStore;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Drains the outbox in sequence order: each batch is sent (QoS 1) and deleted only when the
 * broker acknowledged it; the first failure stops the pass, so order holds and nothing is skipped.
 * A batch sent but not acknowledged before a crash is sent again: consumers drop it by
 * (device, sequence).
 */
public final class TelemetryPublisher {
    private final AgentStore store;
    private final String stream;
    private final Predicate<byte[]> send;

    /** @param send publishes one telemetry batch and returns whether the broker acknowledged it */
    public TelemetryPublisher(AgentStore store, Predicate<byte[]> send) {
        this(store, AgentStore.TELEMETRY, send);
    }

    /**
     * @param stream the outbox stream drained ({@link AgentStore#TELEMETRY}, {@link AgentStore#LOGS})
     * @param send publishes one batch and returns whether the broker acknowledged it
     */
    public TelemetryPublisher(AgentStore store, String stream, Predicate<byte[]> send) {
        this.store = store;
        this.stream = stream;
        this.send = send;
    }

    /** @return batches acknowledged in this pass */
    public int runOnce() {
        int sent = 0;
        for (;;) {
            var rows = store.peekOutbox(stream, 200);
            if (rows.isEmpty()) {
                return sent;
            }
            for (Map.Entry<Long, byte[]> row : rows) {
                if (!send.test(row.getValue())) {
                    return sent;
                }
                store.deleteOutbox(stream, row.getKey());
                sent++;
            }
        }
    }
}
