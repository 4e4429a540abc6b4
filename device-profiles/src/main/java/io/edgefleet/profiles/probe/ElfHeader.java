package io.edgefleet.profiles.probe;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The CPU a shared library is built for, from its ELF header (System V ABI, ELF-64/32 {@code e_machine}
 * at offset 18). Used only to judge a library for <em>another</em> platform than this JVM's, which
 * cannot be loaded here; for this platform the real {@code dlopen} ({@link System#load}) decides.
 */
final class ElfHeader {
    private ElfHeader() {
    }

    /**
     * The library's CPU as {@link Platform#cpu()} names it ({@code x86_64}, {@code aarch64}, {@code arm},
     * {@code riscv64}, or {@code machine N}); empty when the file is not an ELF file.
     *
     * @throws IOException when the file cannot be read
     */
    static Optional<String> cpu(Path file) throws IOException {
        byte[] h = new byte[20];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(h, 0, h.length);
        }
        if (n < h.length || h[0] != 0x7f || h[1] != 'E' || h[2] != 'L' || h[3] != 'F') {
            return Optional.empty();
        }
        boolean little = h[5] == 1;
        int machine = little ? (h[18] & 0xff) | (h[19] & 0xff) << 8 : (h[19] & 0xff) | (h[18] & 0xff) << 8;
        return Optional.of(switch (machine) {
            case 62 -> "x86_64";
            case 183 -> "aarch64";
            case 40 -> "arm";
            case 243 -> "riscv64";
            case 3 -> "x86";
            default -> "machine " + machine;
        });
    }
}
