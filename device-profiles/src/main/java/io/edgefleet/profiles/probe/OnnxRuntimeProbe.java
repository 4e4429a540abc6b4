package io.edgefleet.profiles.probe;

import java.util.List;
import java.util.Optional;

/**
 * Probes ONNX Runtime: on this JVM's platform loads its native library and lists its execution
 * providers; for another platform checks that the {@code com.microsoft.onnxruntime:onnxruntime} jar
 * carries natives for it ({@code ai/onnxruntime/native/linux-aarch64/...}: the CPU jar has linux-x64,
 * linux-aarch64, osx-x64, osx-aarch64 and win-x64).
 */
final class OnnxRuntimeProbe implements RuntimeProbe {
    @Override
    public String runtime() {
        return "onnxruntime";
    }

    @Override
    public RuntimeStatus probe(ProbeInputs inputs) {
        Class<?> api;
        try {
            api = Class.forName("ai.onnxruntime.OrtEnvironment", false, getClass().getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return RuntimeStatus.unavailable(runtime(), "ONNX Runtime (com.microsoft.onnxruntime:onnxruntime) is not on the class path");
        }
        Platform platform = inputs.platform();
        if (!platform.isCurrent()) {
            String folder = "ai/onnxruntime/native/" + folder(platform) + "/";
            String lib = folder(platform).startsWith("osx") ? "libonnxruntime4j_jni.dylib"
                    : folder(platform).startsWith("win") ? "onnxruntime4j_jni.dll" : "libonnxruntime4j_jni.so";
            if (getClass().getClassLoader().getResource(folder + lib) == null) {
                return RuntimeStatus.unavailable(runtime(), "the ONNX Runtime jar on the class path carries no native library for "
                        + platform + " (looked for " + folder + lib + ")");
            }
            String version = Optional.ofNullable(api.getPackage().getImplementationVersion()).orElse("0");
            return new RuntimeStatus(runtime(), Optional.of(version), "native library for " + platform + " bundled in the ONNX Runtime jar ("
                    + folder + "); not loaded: probed from " + Platform.current(), List.of("CPU"));
        }
        try {
            ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
            List<String> providers = ai.onnxruntime.OrtEnvironment.getAvailableProviders().stream()
                    .map(Enum::name).sorted().toList();
            return new RuntimeStatus(runtime(), Optional.of(env.getVersion()), "native library loaded", providers);
        } catch (LinkageError | RuntimeException e) {
            return RuntimeStatus.unavailable(runtime(), "ONNX Runtime failed to load on " + platform + ": " + e.getMessage());
        }
    }

    /** The jar's folder name: {@code linux-aarch64}, {@code linux-x64}, {@code osx-x64}, {@code win-x64}. */
    static String folder(Platform p) {
        String os = p.isLinux() ? "linux" : p.os().startsWith("mac") ? "osx" : p.os().startsWith("windows") ? "win" : p.os();
        String cpu = p.cpu().equals("x86_64") ? "x64" : p.cpu();
        return os + "-" + cpu;
    }
}
