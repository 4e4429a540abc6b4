package io.edgefleet.cloud.rollout;

import io.edgefleet.sync.chunks.Sha256;
import java.nio.charset.StandardCharsets;

/**
 * Why a rollout commands a device. A rollout sends at most one command id per device and intent
 * ({@code ROLLOUT-HASH16-d} to deploy, {@code ...-r} to roll back), the same id on every retry and
 * from every leader, so the agent applies it once. The intent is read back from a stored command id
 * only here.
 */
public enum Intent {
    /** Install and activate the rollout's version. */
    DEPLOY("d"),
    /** Return to the version the device ran before the rollout. */
    ROLLBACK("r"),
    /** Load the rollout's version in shadow next to the active one (a shadow wave; docs/shadow.md). */
    SHADOW("s");

    private final String suffix;

    Intent(String suffix) {
        this.suffix = suffix;
    }

    /** The command id of this intent for a device ({@code fleet/device}) of a rollout. */
    public String commandId(String rolloutId, String deviceKey) {
        return rolloutId + "-" + Sha256.hex(deviceKey.getBytes(StandardCharsets.UTF_8)).substring(0, 16) + "-" + suffix;
    }

    /** The intent of a command id made by {@link #commandId}. */
    public static Intent of(String commandId) {
        return commandId.endsWith("-" + ROLLBACK.suffix) ? ROLLBACK : commandId.endsWith("-" + SHADOW.suffix) ? SHADOW : DEPLOY;
    }
}
