package io.edgefleet.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server from Debian's {@code postgresql} package for tests: {@code initdb} and
 * {@code pg_ctl} (from {@code /usr/lib/postgresql/VERSION/bin}, the newest version there) in a temp
 * folder under {@code /tmp} (system property {@code edgefleet.postgres.tmp} to change it), listening on a free port of 127.0.0.1 only, its Unix socket in that folder, trust
 * authentication for the superuser {@code postgres} (loopback only, throwaway data), and fsync off
 * (a test never survives a power cut). When the JVM runs as root the server runs as the
 * {@code postgres} user ({@code runuser}), since {@code initdb} refuses to run as root.
 *
 * <p>{@link #shared()} starts one server per JVM (about 1–2 s) and stops it when the JVM exits; test
 * classes take a database each through {@link PostgresExtension}. Not thread-safe apart from
 * {@link #shared()} and {@link #createDatabase}.
 */
public final class PostgresServer implements AutoCloseable {
    /** The superuser every test connects as. */
    public static final String USER = "postgres";
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static PostgresServer shared;

    private final Path bin;
    private final Path dir;
    private final int port;
    private final boolean asPostgresUser;
    private boolean running;

    private PostgresServer(Path bin, Path dir, int port, boolean asPostgresUser) {
        this.bin = bin;
        this.dir = dir;
        this.port = port;
        this.asPostgresUser = asPostgresUser;
    }

    /** The server of this JVM, started on first use and stopped at JVM exit. */
    public static synchronized PostgresServer shared() {
        if (shared == null || !shared.running) {
            stopOrphans();
            shared = start();
            PostgresServer s = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(s::close, "postgres-stop"));
        }
        return shared;
    }

    /**
     * Starts a new server in a new temp folder.
     *
     * @throws IllegalStateException the binaries are missing (the message names the Debian package) or the server did not start
     */
    public static PostgresServer start() {
        Path bin = binaries().orElseThrow(() -> new IllegalStateException("PostgreSQL server binaries (initdb, pg_ctl) not found under "
                + "/usr/lib/postgresql/*/bin: install Debian's package: apt-get install postgresql"));
        boolean root = "root".equals(System.getProperty("user.name"));
        try {
            // Under /tmp, not java.io.tmpdir (surefire points it into target/): the postgres user must reach the folder
            // (a checkout under /root is closed to it) and the socket path must stay under the 107 bytes Unix allows.
            Path dir = Files.createTempDirectory(Path.of(System.getProperty("edgefleet.postgres.tmp", "/tmp")), "edgefleet-pg-");
            // whose server this is: a later JVM stops it if this one dies without its shutdown hook (kill -9, a fork timeout)
            Files.writeString(dir.resolve("owner.pid"), Long.toString(ProcessHandle.current().pid()));
            if (root) {
                own(dir, USER);
            }
            IllegalStateException last = null;
            for (int attempt = 0; attempt < 3; attempt++) { // a free port can be taken between the probe and the bind
                PostgresServer s = new PostgresServer(bin, dir, Ports.freePort(), root);
                try {
                    s.init(attempt == 0);
                    s.running = true;
                    return s;
                } catch (IllegalStateException e) {
                    last = e;
                }
            }
            throw last;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare a PostgreSQL data folder", e);
        }
    }

    /** Stops the servers of test JVMs that died without stopping them (their {@code owner.pid} is gone) and deletes their folders. */
    static void stopOrphans() {
        Optional<Path> bin = binaries();
        Path tmp = Path.of(System.getProperty("edgefleet.postgres.tmp", "/tmp"));
        if (bin.isEmpty() || !Files.isDirectory(tmp)) {
            return;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, "edgefleet-pg-*")) {
            for (Path d : dirs) {
                Path owner = d.resolve("owner.pid");
                try {
                    long pid = Long.parseLong(Files.readString(owner).strip());
                    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                        continue;
                    }
                } catch (IOException | NumberFormatException e) {
                    continue; // not ours, or still being written
                }
                boolean root = "root".equals(System.getProperty("user.name"));
                PostgresServer orphan = new PostgresServer(bin.get(), d, 0, root);
                orphan.running = Files.exists(d.resolve("data/postmaster.pid"));
                orphan.close();
            }
        } catch (IOException e) {
            // nothing to clean
        }
    }

    /** {@code /usr/lib/postgresql/N/bin} of the newest N that has {@code pg_ctl}. */
    static Optional<Path> binaries() {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(root)) {
            return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("pg_ctl")) && Files.isExecutable(b.resolve("initdb")))
                    .max(Comparator.comparingInt(b -> parseVersion(b.getParent().getFileName().toString())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int parseVersion(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void init(boolean initdb) {
        Path data = dir.resolve("data");
        if (initdb) {
            run(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", USER, "--auth=trust", "-E", "UTF8", "--locale=C",
                    "--no-sync"), 120);
        }
        run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", dir.resolve("server.log").toString(), "-w", "-t", "60",
                "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                        + "-c full_page_writes=off -c max_connections=200", "start"), 90);
    }

    /** Creates an empty database (owned by {@link #USER}) and returns its name. */
    public String createDatabase(String prefix) {
        String name = (prefix.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_") + "_" + DATABASES.incrementAndGet());
        name = name.length() > 60 ? name.substring(name.length() - 60).replaceFirst("^[^a-z]+", "d") : name;
        psql("CREATE DATABASE " + name);
        return name;
    }

    /** Drops a database; connections still open to it are closed by the server. */
    public void dropDatabase(String name) {
        psql("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    /** Runs one SQL statement as the superuser through {@code psql} (on database {@code postgres}). */
    public String psql(String sql) {
        return run(List.of(bin.resolve("psql").toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", USER, "-d", "postgres",
                "-v", "ON_ERROR_STOP=1", "-At", "-c", sql), 60);
    }

    /** {@code jdbc:postgresql://127.0.0.1:PORT/DATABASE}. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public int port() {
        return port;
    }

    public boolean isRunning() {
        return running;
    }

    /** Stops the server (immediately: its data is thrown away) and deletes its folder. */
    @Override
    public synchronized void close() {
        if (running) {
            running = false;
            try {
                run(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate", "-w", "stop"), 60);
            } catch (IllegalStateException e) {
                System.err.println("postgres: " + e.getMessage());
            }
        }
        deleteTree(dir);
    }

    private String run(List<String> command, int timeoutSeconds) {
        List<String> cmd = new ArrayList<>();
        if (asPostgresUser) {
            cmd.addAll(List.of("runuser", "-u", USER, "--"));
        }
        cmd.addAll(command);
        try {
            Path out = Files.createTempFile("edgefleet-pg-cmd-", ".log");
            try {
                Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                        .redirectOutput(out.toFile()).start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s" + log());
                }
                String text = Files.readString(out, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new IllegalStateException(String.join(" ", command) + " exited " + p.exitValue() + ": " + text.strip() + log());
                }
                return text.strip();
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command.get(0), e);
        }
    }

    private String log() {
        try {
            Path l = dir.resolve("server.log");
            if (!Files.exists(l)) {
                return "";
            }
            List<String> lines = Files.readAllLines(l, StandardCharsets.UTF_8);
            return "\nserver.log (tail):\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    private static void own(Path dir, String user) throws IOException {
        UserPrincipalLookupService users = FileSystems.getDefault().getUserPrincipalLookupService();
        UserPrincipal u = users.lookupPrincipalByName(user);
        PosixFileAttributeView view = Files.getFileAttributeView(dir, PosixFileAttributeView.class);
        view.setOwner(u);
        try {
            GroupPrincipal g = users.lookupPrincipalByGroupName(user);
            view.setGroup(g);
        } catch (IOException ignored) {
            // the owner is what initdb checks
        }
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try {
            if (Files.isDirectory(p) && !Files.isSymbolicLink(p)) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                    for (Path c : ds) {
                        deleteTree(c);
                    }
                }
            }
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a temp folder left behind
        }
    }
}
