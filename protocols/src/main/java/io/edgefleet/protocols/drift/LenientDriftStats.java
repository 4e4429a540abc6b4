package io.edgefleet.protocols.drift;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Reads a telemetry record's optional {@code drift} field so that a malformed one costs only itself: the field
 * reads as absent, the record's counts, latencies and errors (which rollout gates judge) are kept. Without it
 * one bad sketch (a negative count, 33 features, a non-finite mean) refused the whole batch. Each drop is counted
 * ({@link #dropped()}) and logged at most once a minute with its reason. Thread-safe.
 */
public final class LenientDriftStats extends StdDeserializer<DriftStats> {
    private static final System.Logger LOG = System.getLogger(LenientDriftStats.class.getName());
    private static final AtomicLong DROPPED = new AtomicLong();
    private static final AtomicLong LAST_LOG = new AtomicLong();

    public LenientDriftStats() {
        super(DriftStats.class);
    }

    /** Drift fields read as absent because they were malformed, since the process started. */
    public static long dropped() {
        return DROPPED.get();
    }

    @Override
    public DriftStats deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
        JsonNode tree = ctxt.readTree(p); // bounded by the parser's own limits (depth, lengths) like the rest of the batch
        try {
            return ctxt.readTreeAsValue(tree, DriftStats.class);
        } catch (IOException | RuntimeException e) {
            DROPPED.incrementAndGet();
            long now = System.nanoTime();
            long last = LAST_LOG.get();
            if (now - last > 60_000_000_000L && LAST_LOG.compareAndSet(last, now)) {
                LOG.log(System.Logger.Level.WARNING, "a telemetry record''s drift statistics were malformed and are ignored (the record is kept; "
                        + "{0} so far): {1}", DROPPED.get(), e.getMessage());
            }
            return null;
        }
    }
}
