package io.edgefleet.profiles.probe;

import java.util.List;
import java.util.Optional;

/** Probes ONNX Runtime: loads its native library and lists its execution providers. */
final class OnnxRuntimeProbe implements RuntimeProbe {
    @Override
    public String runtime() {
        return "onnxruntime";
    }

    @Override
    public RuntimeStatus probe() {
        try {
            Class.forName("ai.onnxruntime.OrtEnvironment", false, getClass().getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return RuntimeStatus.unavailable(runtime(), "ONNX Runtime (com.microsoft.onnxruntime:onnxruntime) is not on the class path");
        }
        try {
            ai.onnxruntime.OrtEnvironment env = ai.onnxruntime.OrtEnvironment.getEnvironment();
            List<String> providers = ai.onnxruntime.OrtEnvironment.getAvailableProviders().stream()
                    .map(Enum::name).sorted().toList();
            return new RuntimeStatus(runtime(), Optional.of(env.getVersion()), "native library loaded", providers);
        } catch (LinkageError | RuntimeException e) {
            return RuntimeStatus.unavailable(runtime(), "ONNX Runtime failed to load on "
                    + NativeLibraryUnavailableException.platform() + ": " + e.getMessage());
        }
    }
}
