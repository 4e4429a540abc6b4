package io.edgefleet.profiles.probe;

import java.util.List;
import java.util.Optional;

/** Probes TensorFlow Lite through JNI: the Java API class, the native library, the runtime version. */
final class TfliteProbe implements RuntimeProbe {
    @Override
    public String runtime() {
        return "tflite";
    }

    @Override
    public RuntimeStatus probe() {
        try {
            Class.forName("org.tensorflow.lite.TensorFlowLite", false, getClass().getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return RuntimeStatus.unavailable(runtime(), "the TensorFlow Lite Java API (ai.djl.tflite:tflite-engine) is not on the class path");
        }
        try {
            TfliteNative.load();
            String version = org.tensorflow.lite.TensorFlowLite.runtimeVersion();
            return new RuntimeStatus(runtime(), Optional.of(version), "JNI library loaded", List.of("CPU"));
        } catch (NativeLibraryUnavailableException e) {
            return RuntimeStatus.unavailable(runtime(), e.getMessage());
        } catch (LinkageError | RuntimeException e) {
            return RuntimeStatus.unavailable(runtime(), "TensorFlow Lite failed to start: " + e);
        }
    }
}
