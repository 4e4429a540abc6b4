package io.edgefleet.testkit;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Prometheus's own linter, {@code promtool check metrics} (Debian package {@code prometheus}), run on a scrape: the text is
 * piped to its stdin; it exits 0 and prints nothing when every family follows the exposition format and the naming
 * conventions (HELP text, {@code _total} counters, base units, no abbreviated units ...).
 */
public final class Promtool {
    /** Where Debian installs it; {@code PROMTOOL} in the environment names another. */
    public static final Path PATH = Path.of(System.getenv().getOrDefault("PROMTOOL", "/usr/bin/promtool"));

    private Promtool() {
    }

    /** What one check said. */
    public record Result(int exitCode, String output) {
        /** Clean: exit 0 and no problem printed. */
        public boolean clean() {
            return exitCode == 0 && output.isBlank();
        }
    }

    /** Whether promtool is installed (the tests that need it are skipped with that reason otherwise). */
    public static boolean available() {
        return Files.isExecutable(PATH);
    }

    /** Runs {@code promtool check metrics} on {@code exposition}; waits at most 60 s. */
    public static Result checkMetrics(String exposition) {
        try {
            Process p = new ProcessBuilder(PATH.toString(), "check", "metrics").redirectErrorStream(true).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(exposition.getBytes(StandardCharsets.UTF_8));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("promtool did not finish within 60 s");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + PATH + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
