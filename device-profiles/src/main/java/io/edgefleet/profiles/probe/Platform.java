package io.edgefleet.profiles.probe;

import io.edgefleet.profiles.Arch;
import java.util.Locale;
import java.util.Optional;

/**
 * An operating system and CPU architecture that native libraries are built for, from a JVM's
 * {@code os.name} and {@code os.arch} ({@code Linux}/{@code amd64}, {@code Linux}/{@code aarch64}).
 * The host probe takes one as its input, so a test or an operator can ask what a device of
 * another architecture would load ({@link #isCurrent()} false: nothing is loaded then, the probe
 * only checks which native libraries ship or are configured for it). Immutable.
 *
 * @param osName as {@code os.name} gives it, e.g. {@code Linux}
 * @param osArch as {@code os.arch} gives it, e.g. {@code aarch64}
 */
public record Platform(String osName, String osArch) {
    public Platform {
        if (osName == null || osName.isBlank() || osArch == null || osArch.isBlank()) {
            throw new IllegalArgumentException("a platform needs an os.name and an os.arch, got '" + osName + "'/'" + osArch + "'");
        }
    }

    /** This JVM's platform. */
    public static Platform current() {
        return new Platform(System.getProperty("os.name", "?"), System.getProperty("os.arch", "?"));
    }

    /** Linux on {@code osArch} (a JVM's name for it: {@code aarch64}, {@code amd64}, ...). */
    public static Platform linux(String osArch) {
        return new Platform("Linux", osArch);
    }

    /** Whether this is the platform of the running JVM, whose natives can really be loaded. */
    public boolean isCurrent() {
        Platform here = current();
        return os().equals(here.os()) && cpu().equals(here.cpu());
    }

    public boolean isLinux() {
        return os().equals("linux");
    }

    public Optional<Arch> arch() {
        return Arch.fromOsArch(osArch);
    }

    /** The OS in lower case without spaces: {@code linux}, {@code mac-os-x}. */
    public String os() {
        return osName.toLowerCase(Locale.ROOT).replace(' ', '-');
    }

    /** The CPU as GNU names it: {@code x86_64}, {@code aarch64}, {@code arm}, {@code riscv64}; else {@code os.arch} itself. */
    public String cpu() {
        return switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64", "x64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            case "arm", "armv7", "armv7l", "armhf" -> "arm";
            default -> osArch.toLowerCase(Locale.ROOT);
        };
    }

    /** {@code linux/aarch64}: how messages name a platform. */
    @Override
    public String toString() {
        return os() + "/" + cpu();
    }
}
