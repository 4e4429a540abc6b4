package io.edgefleet.transport;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * Reading a configuration file with one clear line when it fails: the file named, "no such file"
 * or "permission denied" before any parsing, and a parser's multi-line complaint (SnakeYAML's
 * excerpt with a caret, Helidon's mapper names) cut to its first sentence and position.
 */
public final class ConfigFiles {
    private ConfigFiles() {
    }

    /**
     * Runs {@code read} on {@code file}.
     *
     * @throws IllegalArgumentException "configuration FILE: reason" when the file is missing or unreadable, or
     *     {@code read} throws anything but an {@code IllegalArgumentException} (a parser's or mapper's failure:
     *     its message reduced to one line); {@code read}'s own {@code IllegalArgumentException}s pass unchanged
     */
    public static <T> T read(Path file, Supplier<T> read) {
        if (!Files.exists(file)) {
            throw new IllegalArgumentException("configuration " + file + ": no such file");
        }
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("configuration " + file + ": permission denied");
        }
        try {
            return read.get();
        } catch (IllegalArgumentException e) {
            throw e; // our own checks: one line naming the key already
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("configuration " + file + ": " + oneLine(e), e);
        }
    }

    /** The most specific message of {@code t}'s chain in one line: no mapper names, no source excerpts. */
    static String oneLine(Throwable t) {
        Throwable deepest = t;
        while (deepest.getCause() != null && deepest.getCause() != deepest && deepest.getCause().getMessage() != null) {
            deepest = deepest.getCause();
        }
        String m = deepest.getMessage() == null ? deepest.getClass().getSimpleName() : deepest.getMessage();
        if (t.getMessage() != null && t.getMessage().startsWith("Mapping of value")) {
            m = t.getMessage(); // Helidon's own words name the key and the value
        }
        m = m.replaceAll(": Invocation of mapper .*", "");
        String[] lines = m.strip().split("\\R");
        StringBuilder out = new StringBuilder(lines[0].strip());
        if (lines.length > 1 && lines[1].strip().startsWith("in ")) { // SnakeYAML: "in 'reader', line 3, column 6:"
            out.append(' ').append(lines[1].strip().replaceAll(":$", ""));
        }
        return out.toString();
    }
}
