package io.edgefleet.profiles.probe;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Loads TensorFlow Lite's JNI library ({@code libtensorflowlite_jni.so}) from the
 * {@code ai.djl.tflite:tflite-native-cpu} jar on the class path: nothing else loads it, and
 * {@code org.tensorflow.lite.Interpreter} must not be touched before this ran.
 *
 * <p>The library is copied to a private temporary file (a shared library must be a file to be
 * loaded) and loaded once per JVM. Thread-safe.
 */
public final class TfliteNative {
    /** Where the native jar keeps the library. Only a linux-x86_64 build is published on Maven Central. */
    public static final String RESOURCE = "/native/lib/libtensorflowlite_jni.so";

    private static volatile Path loaded;

    private TfliteNative() {
    }

    /**
     * Loads the library if this JVM has not yet.
     *
     * @return the path it was loaded from
     * @throws NativeLibraryUnavailableException naming the platform when no build for it is on the class path or it fails to load
     */
    public static synchronized Path load() {
        if (loaded != null) {
            return loaded;
        }
        String platform = NativeLibraryUnavailableException.platform();
        if (!platform.equals("linux/amd64") && !platform.equals("linux/x86_64")) {
            throw new NativeLibraryUnavailableException("TensorFlow Lite JNI is only available for linux/x86_64 "
                    + "(ai.djl.tflite:tflite-native-cpu:2.6.2:linux-x86_64); this platform is " + platform, null);
        }
        try (InputStream in = TfliteNative.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new NativeLibraryUnavailableException("TensorFlow Lite JNI library " + RESOURCE
                        + " is not on the class path; add ai.djl.tflite:tflite-native-cpu (classifier linux-x86_64) "
                        + "for " + platform, null);
            }
            Path dir = Files.createTempDirectory("edgefleet-tflite-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path lib = dir.resolve("libtensorflowlite_jni.so");
            Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
            // deleteOnExit runs in reverse order of registration: the file goes before its folder.
            dir.toFile().deleteOnExit();
            lib.toFile().deleteOnExit();
            System.load(lib.toAbsolutePath().toString());
            loaded = lib;
            return lib;
        } catch (IOException | UnsatisfiedLinkError e) {
            throw new NativeLibraryUnavailableException("TensorFlow Lite JNI library failed to load on " + platform
                    + ": " + e.getMessage(), e);
        }
    }
}
