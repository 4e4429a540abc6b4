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

    public Aggregator(TelemetryRepository repo, IngestStats stats, Clock clock) {
        this.repo = repo;
        this.stats = stats;
        this.clock = clock;
    }

    public TelemetryRepository.Applied apply(List<TelemetryBatch> batches) {
        TelemetryRepository.Applied a = repo.apply(batches, clock.instant());
        stats.applied.addAndGet(a.batches());
        stats.duplicates.addAndGet(a.duplicates());
        stats.requests.addAndGet(a.requests());
        return a;
    }
}
