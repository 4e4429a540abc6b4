package io.edgefleet.cloud.ingest;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of the ingest pipeline, shown on {@code /api/v1/ingest} and as metrics. */
public final class IngestStats {
    /** Messages taken from the broker. */
    public final AtomicLong received = new AtomicLong();
    /** Messages refused as malformed (acknowledged, counted, logged; never retried). */
    public final AtomicLong rejected = new AtomicLong();
    /** Batches produced to Kafka and acknowledged by it. */
    public final AtomicLong produced = new AtomicLong();
    /** Produce attempts that failed and were retried. */
    public final AtomicLong produceRetries = new AtomicLong();
    /** Batches folded into the aggregates. */
    public final AtomicLong applied = new AtomicLong();
    /** Redelivered batches dropped by (device, sequence). */
    public final AtomicLong duplicates = new AtomicLong();
    /** Requests counted in applied batches. */
    public final AtomicLong requests = new AtomicLong();

    public java.util.Map<String, Long> snapshot() {
        return java.util.Map.of("received", received.get(), "rejected", rejected.get(), "produced", produced.get(),
                "produceRetries", produceRetries.get(), "applied", applied.get(), "duplicates", duplicates.get(), "requests", requests.get());
    }
}
