package io.edgefleet.profiles.probe;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * Loads TensorFlow Lite's JNI library ({@code libtensorflowlite_jni.so}): nothing else loads it, and
 * {@code org.tensorflow.lite.Interpreter} must not be touched before this ran.
 *
 * <p>Where the library comes from, first match wins:
 * <ol>
 *   <li>a configured file: {@link #configure} (the agent's {@code agent.engines.tflite.native-library}),
 *       else the system property {@value #PROPERTY}, else the environment variable {@value #ENV}. Use it on
 *       hosts without a bundled build, e.g. linux/aarch64 (a Raspberry Pi): the file must be a TFLite JNI
 *       library built for the host whose Java API matches TFLite 2.6 (the {@code org.tensorflow.lite} classes
 *       of {@code ai.djl.tflite:tflite-engine});</li>
 *   <li>the bundled build: {@value #RESOURCE} from {@code ai.djl.tflite:tflite-native-cpu:2.6.2:linux-x86_64},
 *       the only desktop-Linux build on Maven Central, so on linux/x86_64 only. It is copied to a private
 *       temporary file (a shared library must be a file to be loaded).</li>
 * </ol>
 * When neither fits the host, or the file does not load ({@code dlopen}'s own words), or it loads but is
 * not TFLite's JNI library, {@link #load()} throws {@link NativeLibraryUnavailableException} with the
 * reason: never an {@link UnsatisfiedLinkError}. A library is loaded once per JVM and path. Thread-safe.
 */
public final class TfliteNative {
    /** Where the native jar keeps the library. Only a linux-x86_64 build is published on Maven Central. */
    public static final String RESOURCE = "/native/lib/libtensorflowlite_jni.so";
    /** System property naming a {@code libtensorflowlite_jni.so} to load instead of the bundled one. */
    public static final String PROPERTY = "edgefleet.tflite.native-library";
    /** Environment variable naming a {@code libtensorflowlite_jni.so} to load instead of the bundled one. */
    public static final String ENV = "EDGEFLEET_TFLITE_NATIVE_LIBRARY";
    /** The platform the bundled library is built for. */
    public static final Platform BUNDLED_PLATFORM = Platform.linux("x86_64");
    /** The TFLite version of the bundled library and of the Java API it must match. */
    public static final String BUNDLED_VERSION = "2.6.2";

    private static volatile Optional<Path> configuredByApp = Optional.empty();
    private static Path bundledCopy;
    private static final java.util.Set<Path> LOADED = new java.util.HashSet<>();

    private TfliteNative() {
    }

    /**
     * Sets the library this process loads (the agent's {@code agent.engines.tflite.native-library});
     * wins over {@value #PROPERTY} and {@value #ENV}. Process-wide, since a JNI library belongs to the
     * JVM; set it before the first model loads. Empty: back to the property, the variable, the bundled build.
     */
    public static void configure(Optional<Path> library) {
        configuredByApp = library.map(Path::toAbsolutePath);
    }

    /** The configured library: {@link #configure}, else {@value #PROPERTY}, else {@value #ENV}; empty when none. */
    public static Optional<Path> configured() {
        return configuredByApp
                .or(() -> Optional.ofNullable(System.getProperty(PROPERTY)).filter(s -> !s.isBlank()).map(Path::of))
                .or(() -> Optional.ofNullable(System.getenv(ENV)).filter(s -> !s.isBlank()).map(Path::of));
    }

    /** How a configuration names itself in messages. */
    static String settingNames() {
        return "agent.engines.tflite.native-library, -D" + PROPERTY + " or " + ENV;
    }

    /**
     * Loads the configured library, else the bundled one, if this JVM has not yet.
     *
     * @return the path it was loaded from
     * @throws NativeLibraryUnavailableException naming the platform and the reason when no library fits it or it fails to load
     */
    public static Path load() {
        return load(configured());
    }

    /**
     * Loads {@code library} when given (with {@link System#load}, i.e. {@code dlopen}), else the bundled
     * build, and checks it answers TFLite's JNI call for its version.
     *
     * @throws NativeLibraryUnavailableException with the reason
     */
    public static synchronized Path load(Optional<Path> library) {
        Platform platform = Platform.current();
        Path lib = library.isPresent() ? library.get().toAbsolutePath() : bundled(platform);
        if (!LOADED.contains(lib)) {
            String what = library.isPresent() ? "TensorFlow Lite JNI library " + lib + " (configured by " + settingNames() + ")"
                    : "the bundled TensorFlow Lite JNI library";
            if (library.isPresent() && !Files.exists(lib)) {
                throw new NativeLibraryUnavailableException(what + " does not exist on " + platform, null);
            }
            try {
                System.load(lib.toString());
            } catch (UnsatisfiedLinkError | SecurityException e) {
                throw new NativeLibraryUnavailableException(what + " failed to load on " + platform + ": " + e.getMessage(), e);
            }
            LOADED.add(lib);
        }
        verify(lib);
        return lib;
    }

    /** A library that loads but does not answer TFLite's JNI calls is some other library. */
    private static void verify(Path lib) {
        try {
            Class.forName("org.tensorflow.lite.TensorFlowLite", false, TfliteNative.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            return; // no Java API: nothing to check against (and nothing will call the library)
        }
        try {
            org.tensorflow.lite.TensorFlowLite.runtimeVersion();
        } catch (UnsatisfiedLinkError e) {
            throw new NativeLibraryUnavailableException(lib + " loaded on " + Platform.current()
                    + " but is not TensorFlow Lite's JNI library (it has no Java_org_tensorflow_lite_TensorFlowLite_nativeRuntimeVersion): "
                    + e.getMessage(), e);
        }
    }

    private static Path bundled(Platform platform) {
        if (bundledCopy != null) {
            return bundledCopy;
        }
        if (!platform.toString().equals(BUNDLED_PLATFORM.toString())) {
            throw new NativeLibraryUnavailableException(noBundledBuild(platform), null);
        }
        try (InputStream in = TfliteNative.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new NativeLibraryUnavailableException("TensorFlow Lite JNI library " + RESOURCE
                        + " is not on the class path; add ai.djl.tflite:tflite-native-cpu (classifier linux-x86_64) "
                        + "for " + platform + ", or configure one with " + settingNames(), null);
            }
            Path dir = Files.createTempDirectory("edgefleet-tflite-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path lib = dir.resolve("libtensorflowlite_jni.so");
            Files.copy(in, lib, StandardCopyOption.REPLACE_EXISTING);
            // deleteOnExit runs in reverse order of registration: the file goes before its folder.
            dir.toFile().deleteOnExit();
            lib.toFile().deleteOnExit();
            bundledCopy = lib;
            return lib;
        } catch (IOException e) {
            throw new NativeLibraryUnavailableException("the bundled TensorFlow Lite JNI library could not be copied out on "
                    + platform + ": " + e.getMessage(), e);
        }
    }

    /** Why nothing loads on {@code platform} without a configured library. */
    static String noBundledBuild(Platform platform) {
        return "no TensorFlow Lite JNI library is bundled for " + platform + " (ai.djl.tflite:tflite-native-cpu:"
                + BUNDLED_VERSION + " is built for " + BUNDLED_PLATFORM + " only) and none is configured: set " + settingNames()
                + " to a libtensorflowlite_jni.so built for " + platform;
    }

    /** Whether the bundled build is on the class path and built for {@code platform}. */
    static boolean bundledFor(Platform platform) {
        return platform.toString().equals(BUNDLED_PLATFORM.toString()) && TfliteNative.class.getResource(RESOURCE) != null;
    }
}
