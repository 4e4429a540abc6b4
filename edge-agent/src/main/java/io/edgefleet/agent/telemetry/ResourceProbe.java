package io.edgefleet.agent.telemetry;

import io.edgefleet.protocols.messages.ResourceUsage;
import io.edgefleet.protocols.messages.ResourceUsage.AcceleratorUsage;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Reads what the agent process and its host use, for each telemetry window ({@link ResourceUsage}), from
 * Linux's {@code /proc} and the JDK's {@link com.sun.management.OperatingSystemMXBean}; no native code.
 *
 * <ul>
 * <li>process CPU: the process's CPU time ({@code getProcessCpuTime}) spent since the previous reading, over the wall
 * time since then times the cores; host CPU: the non-idle share of {@code /proc/stat}'s first line between the two
 * readings (the bean's {@code getCpuLoad} where {@code /proc} is missing). The first reading covers the time since
 * the probe was made.</li>
 * <li>RSS: {@code VmRSS} of {@code /proc/self/status}; host memory available: {@code MemAvailable} of
 * {@code /proc/meminfo} (the bean's free memory where missing); heap: the heap {@code MemoryMXBean}'s used bytes;
 * disk: usable bytes of the data folder's file store.</li>
 * </ul>
 * A value that cannot be read is {@code -1}. Called from the telemetry loop only (not thread-safe).
 */
public final class ResourceProbe {
    private final Path procRoot;
    private final Path dataDir;
    private final Supplier<List<AcceleratorUsage>> accelerators;
    private final LongSupplier nanoTime;
    private final com.sun.management.OperatingSystemMXBean os;
    private final int cores = Runtime.getRuntime().availableProcessors();
    private long lastNanos;
    private long lastProcessCpuNanos;
    /** The last host CPU share measured over at least one clock tick; -1 before the first. */
    private double lastHostCpu = -1;
    private long[] lastHostTicks;

    /**
     * @param procRoot {@code /proc} (another folder in tests)
     * @param dataDir the agent's data folder, whose file system's free space is reported
     * @param accelerators the accelerators found (called once per reading; the caller caches the probe)
     * @param nanoTime the monotonic clock ({@code System::nanoTime})
     */
    public ResourceProbe(Path procRoot, Path dataDir, Supplier<List<AcceleratorUsage>> accelerators, LongSupplier nanoTime) {
        this.procRoot = procRoot;
        this.dataDir = dataDir;
        this.accelerators = accelerators;
        this.nanoTime = nanoTime;
        this.os = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean sun ? sun : null;
        this.lastNanos = nanoTime.getAsLong();
        this.lastProcessCpuNanos = os == null ? -1 : os.getProcessCpuTime();
        this.lastHostTicks = hostTicks();
    }

    /** This host: {@code /proc}, the GPUs the host probe finds (probed once, on first use). */
    public static ResourceProbe create(Path dataDir) {
        Supplier<List<AcceleratorUsage>> gpus = new Supplier<>() {
            private List<AcceleratorUsage> found;

            @Override
            public synchronized List<AcceleratorUsage> get() {
                if (found == null) {
                    found = io.edgefleet.profiles.probe.HostProbe.create().gpus().stream().limit(ResourceUsage.MAX_ACCELERATORS)
                            .map(g -> new AcceleratorUsage(g.length() > 64 ? g.substring(0, 64) : g, "cuda_gpu")).toList();
                }
                return found;
            }
        };
        return new ResourceProbe(Path.of("/proc"), dataDir, gpus, System::nanoTime);
    }

    /** Reads every figure now; CPU shares cover the time since the previous call. */
    public ResourceUsage read() {
        long now = nanoTime.getAsLong();
        long wall = Math.max(1, now - lastNanos);
        double processCpu = -1;
        if (os != null) {
            long cpu = os.getProcessCpuTime();
            if (cpu >= 0 && lastProcessCpuNanos >= 0) {
                processCpu = clamp((double) (cpu - lastProcessCpuNanos) / ((double) wall * cores));
            }
            lastProcessCpuNanos = cpu;
        }
        lastNanos = now;
        long[] ticks = hostTicks();
        double hostCpu = -1;
        if (ticks != null && lastHostTicks != null && ticks[0] > lastHostTicks[0]) {
            hostCpu = clamp((double) (ticks[1] - lastHostTicks[1]) / (ticks[0] - lastHostTicks[0]));
            lastHostTicks = ticks;
            lastHostCpu = hostCpu;
        } else if (ticks != null && lastHostTicks != null) {
            // less than one clock tick (1/USER_HZ s per core) since the last reading: nothing to measure yet, so the
            // last figure stands (or the JDK's own, or unknown); the ticks are kept for the next, longer interval
            hostCpu = lastHostCpu >= 0 ? lastHostCpu : os != null && os.getCpuLoad() >= 0 ? clamp(os.getCpuLoad()) : -1;
        } else {
            if (ticks == null && os != null && os.getCpuLoad() >= 0) {
                hostCpu = clamp(os.getCpuLoad());
            }
            lastHostTicks = ticks;
        }
        long heap = Math.max(0, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        return new ResourceUsage(processCpu, hostCpu, kibibytes("self/status", "VmRSS:"), heap, memoryAvailable(), diskFree(),
                accelerators.get());
    }

    private static double clamp(double v) {
        return Math.min(1, Math.max(0, v));
    }

    /** {total, busy} jiffies of {@code /proc/stat}'s {@code cpu} line, or null where unreadable. */
    private long[] hostTicks() {
        try (var lines = Files.lines(procRoot.resolve("stat"))) {
            String cpu = lines.filter(l -> l.startsWith("cpu ")).findFirst().orElse(null);
            if (cpu == null) {
                return null;
            }
            String[] f = cpu.trim().split("\\s+");
            long total = 0;
            long idle = 0;
            // user nice system idle iowait irq softirq steal (guest time is already in user)
            for (int i = 1; i < f.length && i <= 8; i++) {
                long v = Long.parseLong(f[i]);
                total += v;
                if (i == 4 || i == 5) {
                    idle += v;
                }
            }
            return new long[] {total, total - idle};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private long memoryAvailable() {
        long kb = kibibytes("meminfo", "MemAvailable:");
        if (kb >= 0) {
            return kb;
        }
        return os == null ? -1 : os.getFreeMemorySize();
    }

    /** The {@code key} line of a {@code /proc} file given in kB, in bytes; -1 when absent. */
    private long kibibytes(String file, String key) {
        try (var lines = Files.lines(procRoot.resolve(file))) {
            return lines.filter(l -> l.startsWith(key)).findFirst()
                    .map(l -> Long.parseLong(l.substring(key.length()).replaceAll("\\D", "")) * 1024).orElse(-1L);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private long diskFree() {
        try {
            return Files.getFileStore(dataDir).getUsableSpace();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
