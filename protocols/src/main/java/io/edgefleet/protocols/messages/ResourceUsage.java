package io.edgefleet.protocols.messages;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.edgefleet.protocols.Checks;
import java.util.List;

/**
 * What one agent process and its host used at the end of a telemetry window: part of a
 * {@link TelemetryBatch} (field {@code resources}). Field names on the wire are snake_case in base
 * units (ratios 0..1, bytes), as Prometheus and OpenTelemetry name them.
 *
 * @param processCpuRatio the agent process's CPU use over the window, as a share of all cores (0..1); -1 when unknown
 * @param hostCpuRatio the whole host's CPU use, as a share of all cores (0..1); -1 when unknown
 * @param processRssBytes the agent process's resident set ({@code VmRSS} of {@code /proc/self/status}); -1 when unknown
 * @param heapUsedBytes the JVM heap in use
 * @param hostMemoryAvailableBytes memory the host can still give without swapping ({@code MemAvailable} of
 *     {@code /proc/meminfo}); -1 when unknown
 * @param dataDiskFreeBytes space usable by the agent on the file system of its data folder
 * @param accelerators the accelerators the host probe found (may be empty)
 */
public record ResourceUsage(
        @JsonProperty("process_cpu_ratio") double processCpuRatio,
        @JsonProperty("host_cpu_ratio") double hostCpuRatio,
        @JsonProperty("process_rss_bytes") long processRssBytes,
        @JsonProperty("heap_used_bytes") long heapUsedBytes,
        @JsonProperty("host_memory_available_bytes") long hostMemoryAvailableBytes,
        @JsonProperty("data_disk_free_bytes") long dataDiskFreeBytes,
        @JsonProperty("accelerators") List<AcceleratorUsage> accelerators) {
    /** The most accelerators one report may list. */
    public static final int MAX_ACCELERATORS = 16;

    public ResourceUsage {
        ratio(processCpuRatio, "process_cpu_ratio");
        ratio(hostCpuRatio, "host_cpu_ratio");
        atLeastMinusOne(processRssBytes, "process_rss_bytes");
        Checks.nonNegative(heapUsedBytes, "heap_used_bytes");
        atLeastMinusOne(hostMemoryAvailableBytes, "host_memory_available_bytes");
        atLeastMinusOne(dataDiskFreeBytes, "data_disk_free_bytes");
        accelerators = Checks.optionalList(accelerators, "accelerators");
        if (accelerators.size() > MAX_ACCELERATORS) {
            throw new io.edgefleet.protocols.ProtocolException("accelerators", "at most " + MAX_ACCELERATORS + " entries, got "
                    + accelerators.size());
        }
    }

    private static void ratio(double v, String field) {
        if (v != -1 && !(v >= 0 && v <= 1)) {
            throw new io.edgefleet.protocols.ProtocolException(field, "must be a ratio in 0..1 (or -1: unknown), got " + v);
        }
    }

    private static void atLeastMinusOne(long v, String field) {
        if (v < -1) {
            throw new io.edgefleet.protocols.ProtocolException(field, "must be >= 0 (or -1: unknown), got " + v);
        }
    }

    /**
     * One accelerator the agent's host probe found.
     *
     * @param name the device as the probe names it, e.g. {@code nvidia0}
     * @param kind {@code cuda_gpu}
     */
    public record AcceleratorUsage(@JsonProperty("name") String name, @JsonProperty("kind") String kind) {
        public AcceleratorUsage {
            Checks.requiredText(name, "name");
            Checks.requiredText(kind, "kind");
            if (name.length() > 64 || kind.length() > 32) {
                throw new io.edgefleet.protocols.ProtocolException("name", "accelerator name at most 64 and kind at most 32 characters");
            }
        }
    }
}
