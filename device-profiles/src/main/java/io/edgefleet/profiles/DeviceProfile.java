package io.edgefleet.profiles;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.Accelerator;
import io.edgefleet.protocols.manifest.Precision;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a class of device can run. Profiles are data: the catalog ships real ones as YAML,
 * operators add their own, and an agent reports the id of its profile in its state.
 *
 * @param id stable id, e.g. {@code raspberry-pi-4-4gb}
 * @param name human name
 * @param arch CPU architecture
 * @param cores CPU cores (logical)
 * @param memoryMb RAM in MiB
 * @param accelerators hardware beside the CPU; empty for CPU-only devices
 * @param runtimes model runtimes installed, with versions; empty on a host where none loads
 * @param precisions precisions the device computes in, <b>fastest first</b>; the selector ranks by this order
 * @param maxModelBytes the largest model file the device accepts
 * @param labels free-form facts (vendor, SoC, TOPS, source of the figures)
 */
public record DeviceProfile(String id, String name, Arch arch, int cores, int memoryMb, List<Accelerator> accelerators,
        List<RuntimeSupport> runtimes, List<Precision> precisions, long maxModelBytes, Map<String, String> labels) {
    public DeviceProfile {
        Checks.id(id, "id");
        Checks.requiredText(name, "name");
        Checks.required(arch, "arch");
        if (cores < 1) {
            throw new ProtocolException("cores", "must be >= 1, got " + cores);
        }
        if (memoryMb < 16) {
            throw new ProtocolException("memoryMb", "must be >= 16, got " + memoryMb);
        }
        accelerators = Checks.optionalList(accelerators, "accelerators");
        runtimes = Checks.optionalList(runtimes, "runtimes");
        Checks.unique(runtimes.stream().map(RuntimeSupport::name).toList(), "runtimes", "name");
        precisions = Checks.list(precisions, "precisions");
        Checks.notEmpty(precisions, "precisions");
        if (precisions.stream().distinct().count() != precisions.size()) {
            throw new ProtocolException("precisions", "lists a precision twice");
        }
        if (maxModelBytes < 1) {
            throw new ProtocolException("maxModelBytes", "must be >= 1, got " + maxModelBytes);
        }
        labels = Checks.optionalMap(labels, "labels");
    }

    /** This profile with only the runtimes named in {@code names} (the others removed); the same profile when all are named. */
    public DeviceProfile withRuntimesOnly(java.util.Collection<String> names) {
        List<RuntimeSupport> kept = runtimes.stream().filter(r -> names.contains(r.name())).toList();
        return kept.size() == runtimes.size() ? this
                : new DeviceProfile(id, name, arch, cores, memoryMb, accelerators, kept, precisions, maxModelBytes, labels);
    }

    public Optional<RuntimeSupport> runtime(String runtimeName) {
        return runtimes.stream().filter(r -> r.name().equals(runtimeName)).findFirst();
    }

    public boolean has(Accelerator accelerator) {
        return accelerators.contains(accelerator);
    }

    /** Rank of a precision: 0 for the fastest; empty when the device does not run it. */
    public Optional<Integer> precisionRank(Precision p) {
        int i = precisions.indexOf(p);
        return i < 0 ? Optional.empty() : Optional.of(i);
    }
}
