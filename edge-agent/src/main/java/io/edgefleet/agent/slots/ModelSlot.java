package io.edgefleet.agent.slots;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One model name's active version, swapped atomically, and optionally the version it replaced kept
 * loaded as a <em>standby</em> while the watchdog compares the two (see {@link Watchdog}). Thread-safe.
 */
final class ModelSlot {
    private final String name;
    private final AtomicReference<Loaded> active = new AtomicReference<>();
    private final AtomicReference<Loaded> standby = new AtomicReference<>();
    /** A candidate loaded in shadow (docs/shadow.md): runs off the answer path, never answers. */
    private final AtomicReference<Loaded> shadow = new AtomicReference<>();

    ModelSlot(String name) {
        this.name = name;
    }

    /** A lease on the active version, or empty when none is active. */
    Optional<Lease> lease() {
        return lease(active);
    }

    private Optional<Lease> lease(AtomicReference<Loaded> ref) {
        for (;;) {
            Loaded l = ref.get();
            if (l == null) {
                return Optional.empty();
            }
            if (l.retain()) {
                return Optional.of(new Lease(name, l));
            }
            // lost a race with a swap that released l: read the new version
        }
    }

    Optional<String> activeVersion() {
        Loaded l = active.get();
        return l == null ? Optional.empty() : Optional.of(l.version);
    }

    /**
     * Makes {@code next} active. With {@code keepStandby} the version it replaces stays loaded as the
     * standby (until {@link #releaseStandby}); otherwise it closes when its last request finishes. Any
     * earlier standby is released either way.
     */
    void activate(Loaded next, boolean keepStandby) {
        Loaded old = active.getAndSet(next);
        Loaded earlier = standby.getAndSet(keepStandby ? old : null);
        if (earlier != null) {
            earlier.release();
        }
        if (old != null && !keepStandby) {
            old.release();
        }
    }

    /** A lease on the standby version, or empty when none is kept. */
    Optional<Lease> standbyLease() {
        return lease(standby);
    }

    /** Releases the standby if it is {@code version}; a later standby (of a newer activation) stays. */
    void releaseStandby(String version) {
        Loaded l = standby.get();
        if (l != null && l.version.equals(version) && standby.compareAndSet(l, null)) {
            l.release();
        }
    }

    /** Loads {@code next} as the shadow; an earlier shadow closes when its last run ends. */
    void shadow(Loaded next) {
        replace(shadow, next);
    }

    /** A lease on the shadow candidate, or empty when none is loaded. */
    Optional<Lease> shadowLease() {
        return lease(shadow);
    }

    Optional<String> shadowVersion() {
        return version(shadow);
    }

    /** Unloads the shadow, if any (it closes when its last run ends); returns its version. */
    Optional<String> dropShadow() {
        return drop(shadow);
    }

    /** Arm B of an A/B experiment (docs/ab.md): answers the requests the split sends it. */
    private final AtomicReference<Loaded> armB = new AtomicReference<>();

    /** Loads {@code next} as arm B; an earlier arm B closes when its last request ends. */
    void armB(Loaded next) {
        replace(armB, next);
    }

    Optional<Lease> armBLease() {
        return lease(armB);
    }

    Optional<String> armBVersion() {
        return version(armB);
    }

    /** Unloads arm B, if any (it closes when its last request ends); returns its version. */
    Optional<String> dropArmB() {
        return drop(armB);
    }

    /** A candidate reference (shadow, arm B): {@code next} replaces it; the one before closes when its last run ends. */
    private static void replace(AtomicReference<Loaded> ref, Loaded next) {
        Loaded old = ref.getAndSet(next);
        if (old != null) {
            old.release();
        }
    }

    private static Optional<String> version(AtomicReference<Loaded> ref) {
        Loaded l = ref.get();
        return l == null ? Optional.empty() : Optional.of(l.version);
    }

    private static Optional<String> drop(AtomicReference<Loaded> ref) {
        Loaded l = ref.getAndSet(null);
        if (l == null) {
            return Optional.empty();
        }
        l.release();
        return Optional.of(l.version);
    }

    void close() {
        dropArmB();
        dropShadow();
        Loaded old = active.getAndSet(null);
        if (old != null) {
            old.release();
        }
        Loaded kept = standby.getAndSet(null);
        if (kept != null) {
            kept.release();
        }
    }
}
