package io.edgefleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Mosquitto as a child process of the test JVM, from the {@code mosquitto} binary (Debian:
 * {@code apt-get install mosquitto}), with a generated config in its own temporary folder.
 * The process is a child of this JVM: it is ended in {@link #close()} and, should the JVM
 * exit without that, by a shutdown hook.
 */
final class MosquittoProcess implements MosquittoBroker {
    private static final List<String> CANDIDATES = List.of("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto",
            "/usr/bin/mosquitto", "/usr/local/bin/mosquitto", "/opt/homebrew/sbin/mosquitto");

    private final Path binary;
    private final Path dir;
    private final int port;
    private final Thread hook;
    private final java.util.function.BiFunction<Integer, Path, String> listener;
    private Process process;

    MosquittoProcess(Path binary) {
        this(binary, (port, dir) -> "listener " + port + " 127.0.0.1\nallow_anonymous true\n");
    }

    /**
     * @param listener the listener and security lines, given the port and the broker's own folder
     *     (e.g. {@code listener PORT 127.0.0.1}, {@code cafile}, {@code require_certificate},
     *     {@code plugin}); the rest (persistence, logging) is added here
     */
    MosquittoProcess(Path binary, java.util.function.BiFunction<Integer, Path, String> listener) {
        this.binary = binary;
        this.listener = listener;
        this.port = Ports.freePort();
        try {
            this.dir = Files.createTempDirectory("edgefleet-mosquitto-");
            Files.writeString(dir.resolve("mosquitto.conf"), config(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.hook = new Thread(this::destroyNow, "mosquitto-" + port + "-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** The mosquitto binary on this machine: a well-known location or the PATH. */
    static Optional<Path> findBinary() {
        for (String c : CANDIDATES) {
            Path p = Path.of(c);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(java.io.File.pathSeparator)) {
                Path p = Path.of(d, "mosquitto");
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    private String config() {
        StringBuilder c = new StringBuilder()
                .append(listener.apply(port, dir))
                .append("set_tcp_nodelay true\n")
                .append("persistence true\n")
                .append("persistence_location ").append(dir).append("/\n")
                .append("autosave_interval 1\n")
                .append("max_queued_messages 100000\n")
                .append("log_dest file ").append(dir.resolve("mosquitto.log")).append('\n')
                .append("log_type error\nlog_type warning\nlog_type notice\nlog_type information\n");
        if ("root".equals(System.getProperty("user.name"))) {
            // Started as root, mosquitto drops to user 'mosquitto', which cannot write our temp folder.
            c.append("user root\n");
        }
        return c.toString();
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public synchronized boolean isRunning() {
        return process != null && process.isAlive() && Ports.accepts(port);
    }

    @Override
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        try {
            process = new ProcessBuilder(binary.toString(), "-c", dir.resolve("mosquitto.conf").toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("stdout.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + binary + ": " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("mosquitto exited with code " + process.exitValue()
                        + " on port " + port + ":\n" + logTail());
            }
            if (Ports.accepts(port)) {
                return;
            }
            Ports.sleep(25);
        }
        destroyNow();
        throw new IllegalStateException("mosquitto did not accept connections on port " + port + " within 15 s:\n" + logTail());
    }

    @Override
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
        Ports.awaitClosed(port, Duration.ofSeconds(5));
    }

    @Override
    public synchronized void kill() {
        destroyNow();
        Ports.awaitClosed(port, Duration.ofSeconds(5));
    }

    private synchronized void destroyNow() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }

    @Override
    public String describe() {
        return "mosquitto binary " + binary + " on 127.0.0.1:" + port + " (files in " + dir + ")";
    }

    /** The broker's own folder (config, persistence, logs), where a test may put certificate files before starting it. */
    @Override
    public Path folder() {
        return dir;
    }

    /** The last lines of the broker's log, for failure messages. */
    @Override
    public String logTail() {
        StringBuilder sb = new StringBuilder();
        for (String f : List.of("mosquitto.log", "stdout.log")) {
            try {
                List<String> lines = Files.readAllLines(dir.resolve(f));
                lines.subList(Math.max(0, lines.size() - 20), lines.size()).forEach(l -> sb.append(l).append('\n'));
            } catch (IOException e) {
                // the file does not exist yet
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook runs anyway
        }
        deleteTree(dir);
    }

    static void deleteTree(Path root) {
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: it lives in the temp folder
        }
    }
}
