package io.edgefleet.agent.store;

import java.util.Objects;
import java.util.Optional;

/**
 * A model's persisted slots.
 *
 * @param model model name
 * @param active the version serving requests
 * @param previous the version a rollback returns to
 */
public record SlotRecord(String model, Optional<VersionedFile> active, Optional<VersionedFile> previous) {
    public SlotRecord {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(active, "active");
        Objects.requireNonNull(previous, "previous");
    }
}
