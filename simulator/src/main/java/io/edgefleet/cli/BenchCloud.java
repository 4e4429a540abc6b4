package io.edgefleet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * The control planes of a rollout bench, each its own {@code edgefleet cloud} process (so its CPU can
 * be read from {@code /proc}): one node on SQLite, or N replicas on one PostgreSQL database sharing the
 * first replica's signing key (docs/control-plane.md "Replicas"). Replica {@code i} is instance
 * {@code r<i>} with its own data folder {@code cloud-r<i>}; the first keeps the folder name
 * {@code cloud} (its tokens, its CA). Not thread-safe: the bench's main thread drives it.
 */
final class BenchCloud implements AutoCloseable {
    /** A PostgreSQL database for the replicas. */
    record Database(String jdbcUrl, String user) {
    }

    /** One control-plane process. */
    static final class Node {
        final String instance;
        final Process process;
        final CloudClient api;
        final URI base;
        final Path log;
        long cpuMillis; // last sample: a process killed with SIGKILL keeps its last reading
        boolean killed;

        Node(String instance, Process process, CloudClient api, URI base, Path log) {
            this.instance = instance;
            this.process = process;
            this.api = api;
            this.base = base;
            this.log = log;
        }

        long sampleCpuMillis() {
            if (!killed) {
                cpuMillis = process.toHandle().info().totalCpuDuration().map(Duration::toMillis).orElse(cpuMillis);
            }
            return cpuMillis;
        }
    }

    final List<Node> nodes = new ArrayList<>();

    /**
     * Starts {@code replicas} processes one after the other (the first creates the signing key, tokens and
     * schema the others use) and waits until each answers {@code /api/v1}.
     *
     * @param db        the shared database; empty: one node on its own SQLite file ({@code replicas} must be 1)
     * @param lease     lease duration, renew deadline and retry in milliseconds (PostgreSQL only)
     * @param staleAfter the fleet's {@code stale-after}: set from the devices' heartbeat
     */
    static BenchCloud start(Path tmp, int replicas, Optional<Database> db, long[] lease, Duration staleAfter, String mqttUrl, boolean secured,
            Optional<SSLContext> operatorTls) throws Exception {
        if (db.isEmpty() && replicas != 1) {
            throw new IllegalArgumentException("--replicas " + replicas + " needs PostgreSQL (--store postgresql --database-url ...)");
        }
        BenchCloud cloud = new BenchCloud();
        try {
            for (int i = 0; i < replicas; i++) {
                Path data = tmp.resolve(i == 0 ? "cloud" : "cloud-r" + i);
                int port = freePort();
                List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "--enable-native-access=ALL-UNNAMED", "-Xmx2g", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "cloud",
                        "--data-dir", data.toString(), "--http-port", Integer.toString(port), "--mqtt", mqttUrl, "--rollout-tick-ms", "200"));
                if (!secured) {
                    cmd.add("--plain-http");
                }
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
                Map<String, String> env = pb.environment();
                env.put("CLOUD_INSTANCE", "r" + i);
                env.put("CLOUD_FLEET_STALE_DASH_AFTER_DASH_MS", Long.toString(staleAfter.toMillis()));
                if (db.isPresent()) {
                    env.put("CLOUD_DATABASE_URL", db.get().jdbcUrl());
                    env.put("CLOUD_DATABASE_USER", db.get().user());
                    env.put("CLOUD_DATABASE_LEASE_DURATION_DASH_MS", Long.toString(lease[0]));
                    env.put("CLOUD_DATABASE_LEASE_RENEW_DASH_DEADLINE_DASH_MS", Long.toString(lease[1]));
                    env.put("CLOUD_DATABASE_LEASE_RETRY_DASH_MS", Long.toString(lease[2]));
                    if (i > 0) {
                        env.put("CLOUD_SIGNING_KEY_DASH_DIR", tmp.resolve("cloud/keys").toString());
                    }
                }
                Path log = tmp.resolve("cloud-r" + i + ".log");
                Process p = pb.redirectOutput(log.toFile()).start();
                URI base = URI.create((secured ? "https" : "http") + "://127.0.0.1:" + port);
                CloudClient api = awaitUp(p, log, tmp.resolve("cloud/tokens/operator.token"), base, operatorTls);
                cloud.nodes.add(new Node("r" + i, p, api, base, log));
            }
            return cloud;
        } catch (Exception e) {
            cloud.close();
            throw e;
        }
    }

    /** The API of a live replica (the first one alive). */
    CloudClient api() {
        return nodes.stream().filter(n -> !n.killed && n.process.isAlive()).findFirst()
                .orElseThrow(() -> new IllegalStateException("no control plane alive")).api;
    }

    /** The live replica that says it leads, if one does now. */
    Optional<Node> leader() {
        for (Node n : nodes) {
            if (n.killed || !n.process.isAlive()) {
                continue;
            }
            try {
                JsonNode l = n.api.get("/api/v1").json().get("leader");
                if (l != null && l.get("leader").asBoolean()) {
                    return Optional.of(n);
                }
            } catch (RuntimeException e) {
                // busy or going: ask the next
            }
        }
        return Optional.empty();
    }

    /** The leader's fencing token as a live replica reports it (0 on SQLite). */
    long leaderToken() {
        JsonNode l = api().get("/api/v1").json().get("leader");
        return l == null ? 0 : l.path("token").asLong(0);
    }

    /** SIGKILL: no release of the lease, no shutdown hook; its CPU is sampled just before. */
    void kill(Node n) throws InterruptedException {
        n.sampleCpuMillis();
        n.killed = true;
        n.process.destroyForcibly();
        n.process.waitFor(30, TimeUnit.SECONDS);
    }

    /** CPU milliseconds of every process, live or killed (their last reading), by instance. */
    Map<String, Long> cpuMillis() {
        Map<String, Long> m = new HashMap<>();
        nodes.forEach(n -> m.put(n.instance, n.sampleCpuMillis()));
        return m;
    }

    long totalCpuMillis() {
        return cpuMillis().values().stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public void close() {
        for (Node n : nodes) {
            n.process.destroy();
        }
        for (Node n : nodes) {
            try {
                if (!n.process.waitFor(20, TimeUnit.SECONDS)) {
                    n.process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                n.process.destroyForcibly();
            }
        }
    }

    private static CloudClient awaitUp(Process p, Path log, Path token, URI base, Optional<SSLContext> tls) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new IllegalStateException("the control plane exited: " + Files.readString(log));
            }
            if (Files.exists(token)) {
                CloudClient c = new CloudClient(base, Optional.of(Files.readString(token).strip()), tls);
                try {
                    if (c.get("/api/v1").status() == 200) {
                        return c;
                    }
                } catch (RuntimeException e) {
                    // not yet
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the control plane did not start within 120 s; log: " + log);
    }

    static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
