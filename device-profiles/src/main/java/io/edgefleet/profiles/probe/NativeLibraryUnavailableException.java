package io.edgefleet.profiles.probe;

/**
 * A native runtime library that cannot be loaded on this platform. The message names the
 * library and the platform ({@code os.name}/{@code os.arch}); final, not retriable.
 */
public final class NativeLibraryUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NativeLibraryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@code linux/x86_64}, the platform as native-library jars name it. */
    public static String platform() {
        return System.getProperty("os.name", "?").toLowerCase(java.util.Locale.ROOT).replace(' ', '-') + "/"
                + System.getProperty("os.arch", "?");
    }
}
