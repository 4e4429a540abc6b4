package io.edgefleet.cloud.rollout;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;

/**
 * A device's state in one rollout: {@code pending → commanded → downloading → activated | failed |
 * timed-out}, and {@code rolling-back → rolled-back} once the rollout is rolled back. {@link #wire}
 * is the name the database column {@code rollout_devices.state} and the API's JSON use; it never
 * changes. {@link #toString} is the wire name too.
 */
public enum DeviceState {
    PENDING("pending"),
    COMMANDED("commanded"),
    DOWNLOADING("downloading"),
    ACTIVATED("activated"),
    FAILED("failed"),
    TIMED_OUT("timed-out"),
    ROLLING_BACK("rolling-back"),
    ROLLED_BACK("rolled-back"),
    /**
     * A shadow wave's device has the candidate loaded next to its active version, running it on sampled requests
     * without it answering (docs/shadow.md): settled for a shadow wave, pending for the normal wave after it.
     */
    SHADOWING("shadowing");

    /** States a wave's device ends in: the wave is installed when all its devices are in one. */
    public static final Set<DeviceState> TERMINAL = EnumSet.of(ACTIVATED, FAILED, TIMED_OUT, ROLLED_BACK);
    /** States a shadow wave's device ends in: the shadow wave is installed when all its devices are in one. */
    public static final Set<DeviceState> SHADOW_TERMINAL = EnumSet.of(SHADOWING, ACTIVATED, FAILED, TIMED_OUT, ROLLED_BACK);
    /** A deploy command is out and not yet answered for good. */
    public static final Set<DeviceState> IN_FLIGHT = EnumSet.of(COMMANDED, DOWNLOADING);

    private final String wire;

    DeviceState(String wire) {
        this.wire = wire;
    }

    /** The stored and API name, e.g. {@code timed-out}. */
    @JsonValue
    public String wire() {
        return wire;
    }

    public boolean terminal() {
        return TERMINAL.contains(this);
    }

    public boolean inFlight() {
        return IN_FLIGHT.contains(this);
    }

    /** An install that did not succeed: failed or timed out (the install-failure gate counts them). */
    public boolean installFailed() {
        return this == FAILED || this == TIMED_OUT;
    }

    /**
     * The state named {@code wire}.
     *
     * @throws IllegalArgumentException an unknown name, listing the known ones
     */
    @JsonCreator
    public static DeviceState of(String wire) {
        for (DeviceState s : values()) {
            if (s.wire.equals(wire)) {
                return s;
            }
        }
        throw new IllegalArgumentException("device state '" + wire + "' is not one of "
                + Arrays.stream(values()).map(DeviceState::wire).toList());
    }

    @Override
    public String toString() {
        return wire;
    }
}
