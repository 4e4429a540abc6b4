package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A batch on {@code ef/v1/{fleet}/{device}/telemetry}. {@code sequence} grows by one per batch
 * per device and survives agent restarts (it lives in the agent's outbox), so consumers drop
 * redelivered batches by (device, sequence).
 *
 * <p>{@code lost} counts the batches the agent had to drop (its outbox was full while the broker
 * was away) since the batch before this one, so a gap in sequence numbers is explained, not silent.
 *
 * <p>{@code resources} (optional, added in issue 17 without a schema bump: older readers ignore it) is what the
 * agent process and its host used at the end of the window. A batch carries at least one record, or
 * resources alone (a window in which no request came in).
 */
public record TelemetryBatch(int schemaVersion, String fleet, String device, long sequence, Instant sentAt,
        List<TelemetryRecord> records, long lost, Optional<ResourceUsage> resources) implements Message {
    public static final int SCHEMA_VERSION = 1;

    public TelemetryBatch {
        Checks.schemaVersion(schemaVersion, SCHEMA_VERSION, "telemetry");
        Checks.id(fleet, "fleet");
        Checks.id(device, "device");
        Checks.nonNegative(sequence, "sequence");
        Checks.required(sentAt, "sentAt");
        records = Checks.list(records, "records");
        resources = resources == null ? Optional.empty() : resources;
        if (resources.isEmpty()) {
            Checks.notEmpty(records, "records");
        }
        Checks.nonNegative(lost, "lost");
    }

    public TelemetryBatch(int schemaVersion, String fleet, String device, long sequence, Instant sentAt, List<TelemetryRecord> records,
            long lost) {
        this(schemaVersion, fleet, device, sequence, sentAt, records, lost, Optional.empty());
    }

    public TelemetryBatch(String fleet, String device, long sequence, Instant sentAt, List<TelemetryRecord> records) {
        this(SCHEMA_VERSION, fleet, device, sequence, sentAt, records, 0);
    }
}
