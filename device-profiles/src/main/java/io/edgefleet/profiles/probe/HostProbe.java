package io.edgefleet.profiles.probe;

import io.edgefleet.profiles.Arch;
import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.profiles.RuntimeSupport;
import io.edgefleet.protocols.manifest.Accelerator;
import io.edgefleet.protocols.manifest.Precision;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;

/**
 * Describes this host as a {@link DeviceProfile}: architecture, cores, memory, which runtimes
 * actually load in this JVM (ONNX Runtime and TensorFlow Lite built in, more through
 * {@link ServiceLoader} of {@link RuntimeProbe}), and whether a CUDA GPU is visible. Each runtime
 * is reported loadable or not with the reason ({@link HostReport#runtimes()}); the profile lists
 * only the loadable ones, so the variant selector never picks a variant that cannot load here.
 *
 * <p>Its inputs ({@link ProbeInputs}: the platform and configured native libraries) can name another
 * platform than this JVM's, e.g. {@code os.arch=aarch64}: then the runtimes are judged by the native
 * libraries that ship or are configured for it, without loading anything.
 *
 * <p>Precision order (fastest first): {@code fp16} leads when a CUDA GPU is visible; otherwise
 * {@code int8} leads (quantized CPU kernels), with {@code fp16} second where the CPU has FP16
 * arithmetic ({@code asimdhp} on arm64, {@code avx512_fp16} on x86), then {@code fp32}. The model size
 * limit is a quarter of the memory. Never throws for a missing runtime or GPU.
 */
public final class HostProbe {
    private final Path procRoot;
    private final Path devRoot;
    private final ProbeInputs inputs;

    private HostProbe(Path procRoot, Path devRoot, ProbeInputs inputs) {
        this.procRoot = procRoot;
        this.devRoot = devRoot;
        this.inputs = inputs;
    }

    /** This host: its platform, and the TFLite library configured for this process ({@link TfliteNative#configured()}). */
    public static HostProbe create() {
        return new HostProbe(Path.of("/proc"), Path.of("/dev"), ProbeInputs.current());
    }

    /** For tests: read {@code /proc} and {@code /dev} facts from other folders. */
    static HostProbe withRoots(Path procRoot, Path devRoot) {
        return new HostProbe(procRoot, devRoot, ProbeInputs.current());
    }

    /**
     * The same probe judging the runtimes for {@code inputs}: another platform (an {@code os.arch} of a device,
     * e.g. {@code aarch64}; nothing is loaded then) and other configured native libraries.
     */
    public HostProbe withInputs(ProbeInputs inputs) {
        return new HostProbe(procRoot, devRoot, inputs);
    }

    /** Every runtime probed (ONNX Runtime, TFLite, then those of {@link ServiceLoader}), loaded or not, with the reason. */
    public List<RuntimeStatus> runtimes() {
        List<RuntimeStatus> statuses = new ArrayList<>();
        Map<String, RuntimeProbe> probes = new LinkedHashMap<>();
        for (RuntimeProbe p : List.of(new OnnxRuntimeProbe(), new TfliteProbe())) {
            probes.put(p.runtime(), p);
        }
        for (RuntimeProbe p : ServiceLoader.load(RuntimeProbe.class)) {
            probes.putIfAbsent(p.runtime(), p);
        }
        for (RuntimeProbe p : probes.values()) {
            statuses.add(safely(p, inputs));
        }
        return statuses;
    }

    /**
     * The NVIDIA GPUs visible here (the driver's {@code /proc} entry and device nodes, then {@code nvidia-smi -L}),
     * e.g. {@code GPU 0: NVIDIA H200 (UUID: ...)}; empty when none. Loads no runtime; may take a few seconds.
     */
    public List<String> gpus() {
        return CudaDevices.list(procRoot, devRoot);
    }

    public HostReport probe() {
        List<RuntimeStatus> statuses = runtimes();
        List<RuntimeSupport> runtimes = statuses.stream().filter(RuntimeStatus::loaded)
                .map(s -> new RuntimeSupport(s.runtime(), numericVersion(s.version().get()))).toList();
        List<String> gpus = CudaDevices.list(procRoot, devRoot);
        Set<String> flags = cpuFlags();
        List<String> relevant = flags.stream().filter(f -> f.equals("asimdhp") || f.equals("asimddp")
                || f.equals("avx512_fp16") || f.equals("avx_vnni") || f.equals("avx512_vnni") || f.equals("avx2")).toList();
        List<Precision> precisions = new ArrayList<>();
        if (!gpus.isEmpty()) {
            precisions.add(Precision.FP16);
        }
        precisions.add(Precision.INT8);
        if (gpus.isEmpty() && (flags.contains("asimdhp") || flags.contains("avx512_fp16"))) {
            precisions.add(Precision.FP16);
        }
        precisions.add(Precision.FP32);
        int memoryMb = memoryMb();
        Arch arch = inputs.platform().arch().orElse(Arch.X86_64);
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("os", inputs.platform().isCurrent() ? System.getProperty("os.name") + " " + System.getProperty("os.version")
                : inputs.platform().osName());
        labels.put("os.arch", inputs.platform().osArch());
        if (!inputs.platform().isCurrent()) {
            labels.put("probed-from", Platform.current().toString());
        }
        labels.put("java", System.getProperty("java.version"));
        labels.put("source", "edgefleet host probe");
        DeviceProfile profile = new DeviceProfile(hostId(), "This host (" + hostName() + ")", arch,
                Runtime.getRuntime().availableProcessors(), memoryMb,
                gpus.isEmpty() ? List.of() : List.of(Accelerator.CUDA_GPU),
                runtimes, precisions,
                Math.max(1, (long) memoryMb * 1024 * 1024 / 4), labels);
        return new HostReport(profile, statuses, gpus, relevant);
    }

    private static RuntimeStatus safely(RuntimeProbe p, ProbeInputs inputs) {
        try {
            return p.probe(inputs);
        } catch (RuntimeException | LinkageError e) {
            return RuntimeStatus.unavailable(p.runtime(), "probe failed: " + e);
        }
    }

    /** {@code 1.23.2} stays; {@code 2.6.2-rc1} becomes {@code 2.6.2}. */
    static String numericVersion(String v) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d+(\\.\\d+){0,3}").matcher(v);
        return m.find() ? m.group() : "0";
    }

    private int memoryMb() {
        try {
            for (String line : Files.readAllLines(procRoot.resolve("meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return (int) (Long.parseLong(line.replaceAll("\\D+", "")) / 1024);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // fall back to the JVM's view below
        }
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return (int) (sun.getTotalMemorySize() / (1024 * 1024));
        }
        return (int) (Runtime.getRuntime().maxMemory() / (1024 * 1024));
    }

    private Set<String> cpuFlags() {
        Set<String> flags = new TreeSet<>();
        try {
            for (String line : Files.readAllLines(procRoot.resolve("cpuinfo"))) {
                String l = line.toLowerCase(Locale.ROOT);
                if (l.startsWith("flags") || l.startsWith("features")) {
                    int colon = l.indexOf(':');
                    for (String f : l.substring(colon + 1).trim().split("\\s+")) {
                        flags.add(f);
                    }
                    break;
                }
            }
        } catch (IOException e) {
            // no /proc/cpuinfo (not Linux): no flags, conservative precision order
        }
        return flags;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    private static String hostId() {
        String id = ("host-" + hostName().toLowerCase(Locale.ROOT)).replaceAll("[^a-z0-9._-]", "-");
        return id.length() > 64 ? id.substring(0, 64) : id;
    }
}
