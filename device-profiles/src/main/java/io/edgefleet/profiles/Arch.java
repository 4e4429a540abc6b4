package io.edgefleet.profiles;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.edgefleet.protocols.ProtocolException;
import java.util.Locale;
import java.util.Optional;

/** CPU architecture of a device. Wire names never change. */
public enum Arch {
    X86_64("x86_64"),
    ARM64("arm64"),
    ARMV7("armv7"),
    RISCV64("riscv64");

    private final String wire;

    Arch(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    @JsonCreator
    public static Arch fromWire(String wire) {
        for (Arch a : values()) {
            if (a.wire.equals(wire)) {
                return a;
            }
        }
        throw new ProtocolException("$", "'" + wire + "' is not one of x86_64, arm64, armv7, riscv64");
    }

    /** The architecture of a JVM's {@code os.arch}, e.g. {@code amd64} → {@link #X86_64}. */
    public static Optional<Arch> fromOsArch(String osArch) {
        return switch (osArch == null ? "" : osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64", "x64" -> Optional.of(X86_64);
            case "aarch64", "arm64" -> Optional.of(ARM64);
            case "arm", "armv7", "armv7l", "armhf" -> Optional.of(ARMV7);
            case "riscv64" -> Optional.of(RISCV64);
            default -> Optional.empty();
        };
    }
}
