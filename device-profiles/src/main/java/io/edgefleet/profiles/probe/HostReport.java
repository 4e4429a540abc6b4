package io.edgefleet.profiles.probe;

import io.edgefleet.profiles.DeviceProfile;
import java.util.List;

/**
 * This host as a device profile, with the evidence behind it.
 *
 * @param profile the profile: runtimes lists only those that loaded here
 * @param runtimes every runtime probed, loaded or not, with the reason
 * @param gpus NVIDIA GPUs seen; empty when none is visible
 * @param cpuFlags the CPU features that decided the precision order
 */
public record HostReport(DeviceProfile profile, List<RuntimeStatus> runtimes, List<String> gpus, List<String> cpuFlags) {
    public HostReport {
        runtimes = List.copyOf(runtimes);
        gpus = List.copyOf(gpus);
        cpuFlags = List.copyOf(cpuFlags);
    }
}
