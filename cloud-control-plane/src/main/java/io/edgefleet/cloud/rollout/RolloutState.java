package io.edgefleet.cloud.rollout;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;

/**
 * A rollout's state: {@code running → paused | succeeded | rolled-back | aborted}, and
 * {@code paused → running}. {@link #wire} is the name the database column {@code rollouts.state},
 * the API's JSON and the rollout log use; it never changes. {@link #toString} is the wire name too,
 * so messages read as before.
 */
public enum RolloutState {
    RUNNING("running"),
    PAUSED("paused"),
    SUCCEEDED("succeeded"),
    ROLLED_BACK("rolled-back"),
    ABORTED("aborted");

    private final String wire;

    RolloutState(String wire) {
        this.wire = wire;
    }

    /** The stored and API name, e.g. {@code rolled-back}. */
    @JsonValue
    public String wire() {
        return wire;
    }

    /** Running or paused: the rollout still owns its model (no second one may start). */
    public boolean active() {
        return this == RUNNING || this == PAUSED;
    }

    /**
     * The state named {@code wire}.
     *
     * @throws IllegalArgumentException an unknown name, listing the known ones
     */
    @JsonCreator
    public static RolloutState of(String wire) {
        for (RolloutState s : values()) {
            if (s.wire.equals(wire)) {
                return s;
            }
        }
        throw new IllegalArgumentException("rollout state '" + wire + "' is not one of "
                + Arrays.stream(values()).map(RolloutState::wire).toList());
    }

    @Override
    public String toString() {
        return wire;
    }
}
