package io.edgefleet.profiles.probe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Probes TensorFlow Lite through JNI: the Java API class, the native library ({@link TfliteNative}:
 * the configured one, else the bundled linux/x86_64 build), the runtime version. For another
 * platform than this JVM's nothing is loaded: a configured library is judged by its ELF header
 * (exists, is an ELF shared library, built for that CPU), and without one TFLite is not loadable.
 */
final class TfliteProbe implements RuntimeProbe {
    @Override
    public String runtime() {
        return "tflite";
    }

    @Override
    public RuntimeStatus probe(ProbeInputs inputs) {
        try {
            Class.forName("org.tensorflow.lite.TensorFlowLite", false, getClass().getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return RuntimeStatus.unavailable(runtime(), "the TensorFlow Lite Java API (ai.djl.tflite:tflite-engine) is not on the class path");
        }
        Optional<Path> configured = inputs.nativeLibrary(runtime());
        Platform platform = inputs.platform();
        if (!platform.isCurrent()) {
            return configured.map(p -> judge(p, platform)).orElseGet(() -> TfliteNative.bundledFor(platform)
                    ? new RuntimeStatus(runtime(), Optional.of(TfliteNative.BUNDLED_VERSION), "JNI library for " + platform
                            + " bundled (tflite-native-cpu); not loaded: probed from " + Platform.current(), List.of("CPU"))
                    : RuntimeStatus.unavailable(runtime(), TfliteNative.noBundledBuild(platform)));
        }
        try {
            Path lib = TfliteNative.load(configured);
            String version = org.tensorflow.lite.TensorFlowLite.runtimeVersion();
            return new RuntimeStatus(runtime(), Optional.of(version), "JNI library loaded from "
                    + (configured.isPresent() ? lib : "the bundled build (tflite-native-cpu)"), List.of("CPU"));
        } catch (NativeLibraryUnavailableException e) {
            return RuntimeStatus.unavailable(runtime(), e.getMessage());
        } catch (LinkageError | RuntimeException e) {
            return RuntimeStatus.unavailable(runtime(), "TensorFlow Lite failed to start: " + e);
        }
    }

    /** A configured library for another platform: what can be known without loading it. */
    private RuntimeStatus judge(Path lib, Platform platform) {
        String what = "TensorFlow Lite JNI library " + lib + " (configured)";
        if (!Files.isRegularFile(lib)) {
            return RuntimeStatus.unavailable(runtime(), what + " does not exist");
        }
        try {
            Optional<String> cpu = ElfHeader.cpu(lib);
            if (cpu.isEmpty()) {
                return RuntimeStatus.unavailable(runtime(), what + " is not a shared library (no ELF header)");
            }
            if (!cpu.get().equals(platform.cpu())) {
                return RuntimeStatus.unavailable(runtime(), what + " is built for " + cpu.get() + ", not for " + platform);
            }
        } catch (IOException e) {
            return RuntimeStatus.unavailable(runtime(), what + " cannot be read: " + e.getMessage());
        }
        return new RuntimeStatus(runtime(), Optional.of(TfliteNative.BUNDLED_VERSION), what + " is an ELF library for " + platform.cpu()
                + "; not loaded: probed from " + Platform.current() + " (version assumed: the Java API's)", List.of("CPU"));
    }
}
