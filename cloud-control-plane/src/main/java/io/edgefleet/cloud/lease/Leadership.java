package io.edgefleet.cloud.lease;

import io.edgefleet.cloud.store.Fence;
import java.util.OptionalLong;

/**
 * Whether this control-plane process runs the once-per-fleet work (the rollout engine's ticks,
 * the offline-device sweep, retention jobs) and under which fencing token. Any thread.
 */
public interface Leadership {
    /** A single node (SQLite): always the leader, no fencing token on its commands. */
    Leadership SINGLE = new Leadership() {
        @Override
        public boolean isLeader() {
            return true;
        }

        @Override
        public OptionalLong token() {
            return OptionalLong.empty();
        }

        @Override
        public Fence fence() {
            return Fence.NONE;
        }
    };

    /** True while this process holds the lease and its renewal deadline has not passed. */
    boolean isLeader();

    /** The fencing token of the lease held now; empty when not leading, and always on a single node. */
    OptionalLong token();

    /**
     * A fence for writes made as the leader: it passes only while the database's lease still
     * carries the token this process holds now ({@link Fence#NONE} on a single node).
     */
    Fence fence();
}
