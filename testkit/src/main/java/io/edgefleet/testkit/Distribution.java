package io.edgefleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A distribution tarball ({@code edgefleet-agent-VERSION.tar.gz}, {@code edgefleet-cloud-...})
 * unpacked with the system's {@code tar} into a folder, and its launchers run as real processes
 * under the JDK running the test ({@code JAVA_HOME} set to {@code java.home}). Output of each run
 * (stdout and stderr together) goes to a log file. Not thread-safe: one test thread.
 */
public final class Distribution {
    private final Path home;

    private Distribution(Path home) {
        this.home = home;
    }

    /** The tarball named by the system property {@code edgefleet.dist.tarball} (the dist modules' failsafe sets it). */
    public static Path tarball() {
        String p = System.getProperty("edgefleet.dist.tarball");
        if (p == null || !Files.isRegularFile(Path.of(p))) {
            throw new IllegalStateException("no distribution tarball (system property edgefleet.dist.tarball=" + p
                    + "): run the module's tests with `./mvnw verify`, which packages it first");
        }
        return Path.of(p);
    }

    /** Unpacks {@code tarball} into {@code dir}; the distribution is its one top folder. */
    public static Distribution unpack(Path tarball, Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Process tar = new ProcessBuilder("tar", "-xzf", tarball.toString(), "-C", dir.toString()).redirectErrorStream(true).start();
        String out = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!tar.waitFor(2, TimeUnit.MINUTES) || tar.exitValue() != 0) {
            throw new IOException("tar -xzf " + tarball + " failed: " + out);
        }
        try (var top = Files.list(dir)) {
            List<Path> folders = top.filter(Files::isDirectory).toList();
            if (folders.size() != 1) {
                throw new IOException("expected one top folder in " + tarball + ", found " + folders);
            }
            return new Distribution(folders.get(0));
        }
    }

    /** The installation's folder ({@code edgefleet-agent-VERSION}). */
    public Path home() {
        return home;
    }

    /**
     * Starts {@code bin/LAUNCHER args...} in {@code workDir} with {@code JAVA_HOME} set to the test's
     * JDK and {@code env} added (a {@code null} value removes a variable).
     */
    public Run start(Path workDir, Map<String, String> env, String launcher, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(home.resolve("bin").resolve(launcher).toString());
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile(workDir, launcher + "-", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("EDGEFLEET_JAVA_OPTS");
        env.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        return new Run(pb.start(), log);
    }

    /** One launcher process. {@link #close} sends SIGTERM, then kills after 30 s. */
    public static final class Run implements AutoCloseable {
        private final Process process;
        private final Path log;

        Run(Process process, Path log) {
            this.process = process;
            this.log = log;
        }

        public Process process() {
            return process;
        }

        /** Everything it printed so far. */
        public String output() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /**
         * Waits until its output matches {@code regex} and returns the match (group 1 when the
         * pattern has a group); fails with the output when it exits first or {@code timeout} passes.
         */
        public String await(String regex, Duration timeout) throws InterruptedException {
            Pattern p = Pattern.compile(regex);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                Matcher m = p.matcher(output());
                if (m.find()) {
                    return m.groupCount() > 0 ? m.group(1) : m.group();
                }
                if (!process.isAlive()) {
                    throw new AssertionError("exited with " + process.exitValue() + " before printing /" + regex + "/:\n" + output());
                }
                Thread.sleep(50);
            }
            throw new AssertionError("no /" + regex + "/ within " + timeout + ":\n" + output());
        }

        /** Waits for it to exit by itself; its exit code. */
        public int exitCode(Duration timeout) throws InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("still running after " + timeout + ":\n" + output());
            }
            return process.exitValue();
        }

        /** SIGTERM, and its exit code once it ended (within {@code timeout}). */
        public int terminate(Duration timeout) throws InterruptedException {
            process.destroy();
            return exitCode(timeout);
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        }
    }
}
