package io.edgefleet.profiles.probe;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Looks for NVIDIA GPUs without needing CUDA: the driver's {@code /proc} entry and device
 * nodes, then {@code nvidia-smi -L} when it is on the PATH (bounded to a few seconds). Never
 * throws: on a machine without a GPU it says so.
 */
final class CudaDevices {
    private CudaDevices() {
    }

    /** GPU names, e.g. {@code GPU 0: NVIDIA H200 (UUID: ...)}; empty when none is visible. */
    static List<String> list(Path procRoot, Path devRoot) {
        boolean driver = Files.isDirectory(procRoot.resolve("driver/nvidia/gpus"))
                || Files.exists(devRoot.resolve("nvidia0"));
        List<String> gpus = new ArrayList<>();
        if (driver) {
            gpus.addAll(nvidiaSmi());
            if (gpus.isEmpty()) {
                gpus.add("NVIDIA driver present (nvidia-smi unavailable)");
            }
        }
        return gpus;
    }

    private static List<String> nvidiaSmi() {
        try {
            Process p = new ProcessBuilder("nvidia-smi", "-L").redirectErrorStream(true).start();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return List.of();
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.exitValue() == 0 ? out.lines().filter(l -> l.startsWith("GPU ")).toList() : List.of();
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }
}
