package io.edgefleet.agent;

import io.edgefleet.profiles.probe.HostProbe;
import io.edgefleet.profiles.probe.RuntimeStatus;
import io.edgefleet.protocols.messages.RuntimeReport;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Which model runtimes load on this device, probed once on first use ({@link HostProbe#runtimes()}: ONNX
 * Runtime and TFLite with the configured {@code agent.engines.tflite.native-library}) and kept: the agent
 * reports them in its state, and deploys never choose a variant whose runtime is not loadable. The probe
 * loads the natives, so standalone agents that never ask pay nothing. Thread-safe.
 */
public final class HostRuntimes {
    private final Supplier<List<RuntimeStatus>> probe;
    private volatile List<RuntimeStatus> statuses;

    public HostRuntimes(Supplier<List<RuntimeStatus>> probe) {
        this.probe = probe;
    }

    /** This host's runtimes as the host probe finds them. */
    public static HostRuntimes probed() {
        return new HostRuntimes(() -> HostProbe.create().runtimes());
    }

    public List<RuntimeStatus> statuses() {
        List<RuntimeStatus> s = statuses;
        if (s == null) {
            synchronized (this) {
                if (statuses == null) {
                    statuses = List.copyOf(probe.get());
                }
                s = statuses;
            }
        }
        return s;
    }

    /** For the device state: each runtime, loadable or not, with the reason. */
    public List<RuntimeReport> reports() {
        return statuses().stream().map(s -> new RuntimeReport(s.runtime(), s.loaded(), s.version(), s.detail())).toList();
    }

    /** Runtime id → why it does not load here; empty when all load. */
    public Map<String, String> notLoadable() {
        Map<String, String> out = new LinkedHashMap<>();
        statuses().stream().filter(s -> !s.loaded()).forEach(s -> out.put(s.runtime(), s.detail()));
        return out;
    }
}
