package io.edgefleet.cli;

import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.Precision;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.sync.ManifestBuilder;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.client.SyncClient;
import io.edgefleet.sync.server.DirectoryManifests;
import io.edgefleet.sync.server.SyncRoutes;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.sync.signing.ManifestSigning;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code edgefleet model sync-bench}: model sync against curl of the same bytes from the same server, in one run. */
@Command(name = "sync-bench", mixinStandardHelpOptions = true,
        description = {"Benchmark model sync on loopback: a full download versus curl fetching the same bytes from the same server",
            "(the variant resource the client uses, and a plain in-memory response), after a warm-up run of each, sides alternating;",
            "the bytes a device fetches when only the last layer changed; the bytes after a cut at 50 %%."})
final class SyncBench implements Callable<Integer> {
    @Option(names = "--size-mib", defaultValue = "64", description = "Model size in MiB (default ${DEFAULT-VALUE}).")
    int sizeMib;
    @Option(names = "--runs", defaultValue = "5", description = "Runs of each after a warm-up run, the median reported (default ${DEFAULT-VALUE}).")
    int runs;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path tmp = Files.createTempDirectory("edgefleet-sync-bench-");
        try {
            int size = sizeMib << 20;
            byte[] weights = new byte[size];
            new Random(1).nextBytes(weights);
            Path v1 = Files.write(tmp.resolve("v1.tflite"), weights);
            byte[] last = new byte[Math.max(64 * 1024, size / 32)];
            new Random(2).nextBytes(last);
            System.arraycopy(last, 0, weights, size - last.length, last.length);
            Path v2 = Files.write(tmp.resolve("v2.tflite"), weights);
            ChunkStore chunks = new ChunkStore(tmp.resolve("repo/chunks"));
            DirectoryManifests manifests = new DirectoryManifests(tmp.resolve("repo/manifests"));
            KeyPair key = Keys.generate();
            for (String v : List.of("1", "2")) {
                Manifest m = new ManifestBuilder(chunks, "bench", v, "k1").variant("tflite-int8", v.equals("1") ? v1 : v2, "tflite",
                        Optional.empty(), Precision.INT8, Optional.empty(), List.of(), List.of(), List.of()).build(Instant.now(), Optional.empty());
                manifests.put("bench", v, MessageCodec.json().encode(ManifestSigning.sign(m, key.getPrivate())));
            }
            SyncRoutes routes = new SyncRoutes(manifests, chunks, 64);
            WebServer server = WebServer.builder()
                .connectionOptions(o -> o.tcpNoDelay(true)) // small responses otherwise wait on Nagle + delayed ACK: 25 ms per chunk measured
                .host("127.0.0.1").port(0).routing(r -> {
                routes.routing(r);
                // the same bytes as one plain file, for curl
                r.get("/plain/v1", (req, res) -> {
                    res.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
                    res.send(Files.readAllBytes(v1));
                });
            }).build().start();
            try {
                URI base = URI.create("http://127.0.0.1:" + server.port());
                var profile = DeviceCatalog.builtIn().get("intel-nuc-13-pro-i5");
                double load0 = java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
                String variantPath = "/sync/v1/variants/bench/1/tflite-int8";
                List<Double> sync = new ArrayList<>();
                List<Double> syncNoFsync = new ArrayList<>();
                List<Double> curlVariant = new ArrayList<>();
                List<Double> curlPlain = new ArrayList<>();
                List<Double> perChunk = new ArrayList<>();
                List<Double> fetchMs = new ArrayList<>();
                List<Double> finishMs = new ArrayList<>();
                List<Double> fsyncMs = new ArrayList<>();
                List<Double> syncCpu = new ArrayList<>();
                List<Double> curlCpu = new ArrayList<>();
                // run 0 is a warm-up of every side (JIT, page cache, connection setup code), not counted
                for (int i = 0; i <= runs; i++) {
                    boolean counted = i > 0;
                    List<Runnable> sides = new ArrayList<>();
                    int run = i;
                    sides.add(() -> {
                        Path store = tmp.resolve("device-" + run);
                        SyncClient c = new SyncClient(base, new ChunkStore(store), Map.of("k1", key.getPublic()), SyncClient.Options.defaults(),
                                Clock.systemUTC());
                        long cpu0 = cpuNanos();
                        long t0 = System.nanoTime();
                        SyncClient.Result r = c.download("bench", "1", profile, store.resolve("v1.tflite"), (d, t, x, n) -> { });
                        double secs = (System.nanoTime() - t0) / 1e9;
                        if (counted) {
                            syncCpu.add((cpuNanos() - cpu0) / 1e6);
                            sync.add(secs);
                            syncNoFsync.add(secs - r.timings().fsyncNanos() / 1e9);
                            fetchMs.add(r.timings().fetchNanos() / 1e6);
                            finishMs.add(r.timings().finishNanos() / 1e6);
                            fsyncMs.add(r.timings().fsyncNanos() / 1e6);
                        }
                    });
                    sides.add(() -> {
                        long cpu0 = cpuNanos();
                        double secs = curl(base + variantPath, tmp.resolve("curl-variant-" + run));
                        if (counted) {
                            curlCpu.add((cpuNanos() - cpu0) / 1e6);
                            curlVariant.add(secs);
                        }
                    });
                    sides.add(() -> {
                        double secs = curl(base + "/plain/v1", tmp.resolve("curl-plain-" + run));
                        if (counted) {
                            curlPlain.add(secs);
                        }
                    });
                    if (i % 2 == 1) {
                        java.util.Collections.reverse(sides); // alternate which side goes first
                    }
                    sides.forEach(Runnable::run);
                    // the sync 1.0 request pattern, same client otherwise: one GET per chunk
                    Path oldStore = tmp.resolve("device-1.0-" + i);
                    SyncClient old = new SyncClient(base, new ChunkStore(oldStore), Map.of("k1", key.getPublic()), SyncClient.Options.defaults(),
                            Clock.systemUTC());
                    var variant = SyncClient.choose(old.manifest("bench", "1"), profile);
                    long t2 = System.nanoTime();
                    old.download(variant, oldStore.resolve("v1.tflite"), (d, t, r, n) -> { });
                    if (counted) {
                        perChunk.add((System.nanoTime() - t2) / 1e9);
                    }
                    for (String d : List.of("device-" + i, "device-1.0-" + i, "curl-variant-" + i, "curl-plain-" + i)) {
                        delete(tmp.resolve(d)); // keep the page cache and the disk from filling up over the runs
                    }
                }
                double s = median(sync);
                double cv = median(curlVariant);
                double cp = median(curlPlain);
                List<Double> ratioVariant = new ArrayList<>();
                List<Double> ratioPlain = new ArrayList<>();
                List<Double> ratioNoFsync = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    ratioVariant.add(curlVariant.get(i) / sync.get(i));
                    ratioPlain.add(curlPlain.get(i) / sync.get(i));
                    ratioNoFsync.add(curlVariant.get(i) / syncNoFsync.get(i));
                }
                double rv = median(ratioVariant);
                double rp = median(ratioPlain);
                out.printf(Locale.ROOT, "# %d MiB model, %d runs of each side after one warm-up run of each (not counted), the order of the sides "
                        + "alternating; medians of speeds and of per-run ratios (speed of sync / speed of curl); loopback, %d cores, load average "
                        + "%.2f at the start (other processes share the CPU: ratios, not absolute times)%n", sizeMib, runs,
                        Runtime.getRuntime().availableProcessors(), load0);
                out.printf(Locale.ROOT, "full download: model sync %.0f MiB/s (manifest, signature, runs of chunks in ranged requests written "
                        + "straight into the file, one SHA-256 pass, fsync)%n", sizeMib / s);
                out.printf(Locale.ROOT, "  curl of the same resource (GET %s, one request): %.0f MiB/s; model sync %.2fx of it (per-run ratios %s)%n",
                        variantPath, sizeMib / cv, rv, fmt(ratioVariant));
                out.printf(Locale.ROOT, "  curl of the same bytes as a plain in-memory response (GET /plain/v1): %.0f MiB/s; model sync %.2fx of it "
                        + "(per-run ratios %s)%n", sizeMib / cp, rp, fmt(ratioPlain));
                out.printf(Locale.ROOT, "  model sync's time (median ms): transfer %.0f (receive, hash, write, index), finish %.0f, fsync %.0f; curl "
                        + "does not fsync: without its fsync model sync is %.2fx of curl of the same resource%n", median(fetchMs), median(finishMs),
                        median(fsyncMs), median(ratioNoFsync));
                if (median(syncCpu) > 0) {
                    out.printf(Locale.ROOT, "  CPU time (median ms, user + system, the server's share included on both sides; steadier than wall time "
                            + "on a loaded machine): model sync %.0f, curl of the same resource %.0f (curl's own and the server's): %.2fx%n",
                            median(syncCpu), median(curlCpu), median(curlCpu) / median(syncCpu));
                }
                double pc = median(perChunk);
                out.printf(Locale.ROOT, "the same client with one request per chunk (the sync 1.0 pattern): %.0f MiB/s, %.2fx of curl of the same "
                        + "resource%n", sizeMib / pc, cv / pc);
                Path store = tmp.resolve("device-delta");
                SyncClient c = new SyncClient(base, new ChunkStore(store), Map.of("k1", key.getPublic()), SyncClient.Options.defaults(), Clock.systemUTC());
                c.download("bench", "1", profile, store.resolve("v1.tflite"), (d, t, r, n) -> { });
                SyncClient.Result r2 = c.download("bench", "2", profile, store.resolve("v2.tflite"), (d, t, r, n) -> { });
                out.printf(Locale.ROOT, "last layer changed (%s): fetched %d bytes = %.2f %% of the file (%d of %d chunks)%n",
                        io.edgefleet.profiles.select.Bytes.human(last.length), r2.bytesFetched(), 100.0 * r2.bytesFetched() / size,
                        r2.chunksFetched(), r2.chunksFetched() + r2.chunksReused());
                Path cutStore = tmp.resolve("device-cut");
                SyncClient first = new SyncClient(base, new ChunkStore(cutStore), Map.of("k1", key.getPublic()), SyncClient.Options.defaults(),
                        Clock.systemUTC());
                try {
                    first.download("bench", "1", profile, cutStore.resolve("v1.tflite"), (d, t, r, n) -> {
                        if (d >= t / 2) {
                            throw new IllegalStateException("link cut"); // the transfer dies here, mid-download
                        }
                    });
                } catch (RuntimeException expected) {
                    // the cut
                }
                SyncClient resumed = new SyncClient(base, new ChunkStore(cutStore), Map.of("k1", key.getPublic()), SyncClient.Options.defaults(),
                        Clock.systemUTC());
                SyncClient.Result r3 = resumed.download("bench", "1", profile, cutStore.resolve("v1.tflite"), (d, t, r, n) -> { });
                out.printf(Locale.ROOT, "after a cut at 50 %%: the resumed download fetched %.1f %% of the file (%d chunks reused)%n",
                        100.0 * r3.bytesFetched() / size, r3.chunksReused());
                out.printf(Locale.ROOT, "ratios: full download %.2fx of curl of the same resource (%.2fx of curl of /plain/v1; one request per chunk: "
                        + "%.2fx) | delta fetched %.2f %% | resume fetched %.1f %% | load average %.2f at the end%n", rv, rp, cv / pc,
                        100.0 * r2.bytesFetched() / size, 100.0 * r3.bytesFetched() / size,
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            } finally {
                server.stop();
            }
            return Main.OK;
        } finally {
            delete(tmp);
        }
    }

    private static void delete(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var w = Files.walk(dir)) {
            w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Seconds for curl to fetch {@code url} into {@code file} (a fresh process, as a user would run it). */
    private static double curl(String url, Path file) {
        try {
            long t = System.nanoTime();
            Process p = new ProcessBuilder("curl", "-s", "-f", "-o", file.toString(), url).redirectErrorStream(true).start();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("curl " + url + " failed: " + new String(p.getInputStream().readAllBytes()));
            }
            return (System.nanoTime() - t) / 1e9;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * CPU time of this process (every thread: client and server) plus that of its reaped children
     * (curl), in nanoseconds, from {@code /proc/self/stat} (Linux; 0 elsewhere: the CPU row is then not printed).
     */
    private static long cpuNanos() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // after the command: state(0) ... utime(11) stime(12) cutime(13) cstime(14), in clock ticks (USER_HZ, 100 on Linux)
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
            return ticks * 10_000_000L;
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
    }

    private static String fmt(List<Double> xs) {
        return xs.stream().map(x -> String.format(Locale.ROOT, "%.2f", x)).collect(java.util.stream.Collectors.joining(" "));
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        return s.get(s.size() / 2);
    }
}
