package io.edgefleet.cloud.ingest;

import io.edgefleet.cloud.store.TelemetryRepository;
import io.edgefleet.protocols.messages.TelemetryBatch;
import java.time.Clock;
import java.util.List;

/** Folds batches into the aggregates and counts what happened. Shared by both sinks' consumers. */
public final class Aggregator {
    private final TelemetryRepository repo;
    private final IngestStats stats;
    private final Clock clock;
    private final java.util.function.Consumer<java.time.Duration> lag;
    private final List<java.util.function.Consumer<List<TelemetryBatch>>> stored = new java.util.concurrent.CopyOnWriteArrayList<>();

    public Aggregator(TelemetryRepository repo, IngestStats stats, Clock clock) {
        this(repo, stats, clock, d -> { });
    }

    /**
     * @param lag receives, per batch folded in (duplicates included), how long after the agent sent it it was applied:
     *     this clock minus the batch's {@code sentAt}, 0 when the agent's clock is ahead
     */
    public Aggregator(TelemetryRepository repo, IngestStats stats, Clock clock, java.util.function.Consumer<java.time.Duration> lag) {
        this.repo = repo;
        this.stats = stats;
        this.clock = clock;
        this.lag = lag;
    }

    /**
     * Hands every group of batches, once stored, to {@code c} (the drift monitor, the shadow readings), on the applying
     * thread; each consumer added is called in turn. It sees redeliveries too and dedupes them itself; a failure in it is
     * logged and never fails the group nor the other consumers.
     */
    public void afterStore(java.util.function.Consumer<List<TelemetryBatch>> c) {
        stored.add(c);
    }

    public TelemetryRepository.Applied apply(List<TelemetryBatch> batches) {
        java.time.Instant now = clock.instant();
        TelemetryRepository.Applied a = repo.apply(batches, now);
        for (TelemetryBatch b : batches) {
            java.time.Duration d = java.time.Duration.between(b.sentAt(), now);
            lag.accept(d.isNegative() ? java.time.Duration.ZERO : d);
        }
        stats.applied.addAndGet(a.batches());
        stats.duplicates.addAndGet(a.duplicates());
        stats.requests.addAndGet(a.requests());
        for (java.util.function.Consumer<List<TelemetryBatch>> c : stored) {
            try {
                c.accept(batches);
            } catch (RuntimeException e) {
                System.getLogger(Aggregator.class.getName()).log(System.Logger.Level.WARNING, "statistics after store not taken: {0}", e.toString());
            }
        }
        return a;
    }
}
