package io.edgefleet.profiles.probe;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What a runtime probe judges: the platform, and the native libraries configured per runtime
 * (e.g. {@code tflite} → {@code /usr/lib/aarch64-linux-gnu/libtensorflowlite_jni.so}). Immutable.
 *
 * @param platform the platform probed; when it is not this JVM's nothing is loaded, only checked
 * @param nativeLibraries runtime id → a native library configured on the device instead of a bundled one
 */
public record ProbeInputs(Platform platform, Map<String, Path> nativeLibraries) {
    public ProbeInputs {
        nativeLibraries = Map.copyOf(nativeLibraries);
    }

    /** This JVM's platform with the TFLite library configured for this process ({@link TfliteNative#configured()}). */
    public static ProbeInputs current() {
        return new ProbeInputs(Platform.current(), TfliteNative.configured().map(p -> Map.of("tflite", p)).orElse(Map.of()));
    }

    public Optional<Path> nativeLibrary(String runtime) {
        return Optional.ofNullable(nativeLibraries.get(runtime));
    }
}
