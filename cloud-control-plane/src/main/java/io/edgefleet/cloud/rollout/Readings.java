package io.edgefleet.cloud.rollout;

import io.edgefleet.cloud.store.Aggregate;
import java.util.List;
import java.util.Optional;

/**
 * What the gates of one wave are judged on, read by {@link ReadingsSource} (the only part that
 * touches the database) and handed to the pure {@link Gates#evaluate}. Immutable.
 *
 * @param installFailures failed or timed-out installs in the whole rollout so far
 * @param firstInstallError the first such device and its error, for the reason text
 * @param updatedDevices devices of the current and earlier waves that activated the new version coming from another one
 * @param staleAfterUpdate updated devices now stale or offline
 * @param wave telemetry of the updated devices on the new version since the rollout began
 * @param baselineVersion the version most not-yet-updated devices of the rollout still run
 * @param baseline telemetry of those devices on that version over the same window; empty when no device is left on an old version
 * @param otherDevices devices of the rollout not updated (yet), whose reachability is the stale gate's baseline
 * @param staleOthers of those, how many are stale or offline now (a broker restart makes every device offline at once)
 * @param memory per updated device with a resource report from before its command and one from after its activation had
 *     settled, the agent's RSS then and now (for {@code maxMemoryGrowthRatio}); empty when none has both
 * @param drift the new version's input drift (for {@code noDriftAlarm}); empty when the gate is off or no drift monitor runs
 */
public record Readings(long installFailures, Optional<String> firstInstallError, int updatedDevices, long staleAfterUpdate, Aggregate wave,
        Optional<String> baselineVersion, Optional<Aggregate> baseline, int otherDevices, long staleOthers, List<MemoryPair> memory,
        Optional<DriftReading> drift) {

    /** One device's agent RSS before its update (its last report before the command) and after (its last report). */
    public record MemoryPair(String device, long beforeBytes, long afterBytes) {
    }

    public Readings {
        memory = memory == null ? List.of() : List.copyOf(memory);
        drift = drift == null ? Optional.empty() : drift;
    }

    /** Readings without drift (the drift gate off, or a test). */
    public Readings(long installFailures, Optional<String> firstInstallError, int updatedDevices, long staleAfterUpdate, Aggregate wave,
            Optional<String> baselineVersion, Optional<Aggregate> baseline, int otherDevices, long staleOthers, List<MemoryPair> memory) {
        this(installFailures, firstInstallError, updatedDevices, staleAfterUpdate, wave, baselineVersion, baseline, otherDevices, staleOthers,
                memory, Optional.empty());
    }

    /** These readings with the new version's drift. */
    public Readings withDrift(Optional<DriftReading> d) {
        return new Readings(installFailures, firstInstallError, updatedDevices, staleAfterUpdate, wave, baselineVersion, baseline, otherDevices,
                staleOthers, memory, d);
    }

    public Readings(long installFailures, Optional<String> firstInstallError, int updatedDevices, long staleAfterUpdate, Aggregate wave,
            Optional<String> baselineVersion, Optional<Aggregate> baseline, int otherDevices, long staleOthers) {
        this(installFailures, firstInstallError, updatedDevices, staleAfterUpdate, wave, baselineVersion, baseline, otherDevices, staleOthers,
                List.of());
    }

    /** Readings without a reachability baseline (every device of the rollout updated, or a test). */
    public Readings(long installFailures, Optional<String> firstInstallError, int updatedDevices, long staleAfterUpdate, Aggregate wave,
            Optional<String> baselineVersion, Optional<Aggregate> baseline) {
        this(installFailures, firstInstallError, updatedDevices, staleAfterUpdate, wave, baselineVersion, baseline, 0, 0);
    }
}
