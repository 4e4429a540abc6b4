package io.edgefleet.agent.slots;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/** One model name's active version, swapped atomically. Thread-safe. */
final class ModelSlot {
    private final String name;
    private final AtomicReference<Loaded> active = new AtomicReference<>();

    ModelSlot(String name) {
        this.name = name;
    }

    /** A lease on the active version, or empty when none is active. */
    Optional<Lease> lease() {
        for (;;) {
            Loaded l = active.get();
            if (l == null) {
                return Optional.empty();
            }
            if (l.retain()) {
                return Optional.of(new Lease(name, l));
            }
            // lost a race with a swap that released l: read the new active version
        }
    }

    Optional<String> activeVersion() {
        Loaded l = active.get();
        return l == null ? Optional.empty() : Optional.of(l.version);
    }

    /** Makes {@code next} active; the old version closes when its last request finishes. */
    void activate(Loaded next) {
        Loaded old = active.getAndSet(next);
        if (old != null) {
            old.release();
        }
    }

    void close() {
        Loaded old = active.getAndSet(null);
        if (old != null) {
            old.release();
        }
    }
}
