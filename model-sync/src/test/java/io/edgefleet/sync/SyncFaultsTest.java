package io.edgefleet.sync;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.protocols.manifest.ChunkRef;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.ManifestVariant;
import io.edgefleet.protocols.manifest.Precision;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.client.SyncClient;
import io.edgefleet.sync.server.DirectoryManifests;
import io.edgefleet.sync.server.SyncRoutes;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.sync.signing.ManifestSigning;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults against the sync client found by an attack on its second round (issue 19): two downloads of
 * one file at once (one process, and two stores on one folder as two processes would have), a symlink
 * at the staging path, a body that stalls mid-chunk, a staging file shorter than its partial record,
 * corrupt or hostile seed journals, files changed under the index, hostile servers, cuts at many
 * positions. Each test asserts the correct outcome: the right bytes installed, or a clear failure.
 */
class SyncFaultsTest {
    static final int SIZE = 2 * 1024 * 1024;
    static final DeviceProfile PI = DeviceCatalog.builtIn().get("raspberry-pi-4-4gb");

    @TempDir
    Path dir;
    ChunkStore serverStore;
    DirectoryManifests manifests;
    KeyPair key;
    byte[] weights;
    ManifestVariant variant;
    WebServer server;
    static final java.util.concurrent.ExecutorService POOL = java.util.concurrent.Executors.newCachedThreadPool();
    final java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);

    @BeforeEach
    void setUp() throws IOException {
        weights = new byte[SIZE];
        new Random(7).nextBytes(weights);
        Path file = Files.write(dir.resolve("m.tflite"), weights);
        serverStore = new ChunkStore(dir.resolve("server"));
        manifests = new DirectoryManifests(dir.resolve("manifests"));
        key = Keys.generate();
        Manifest m = new ManifestBuilder(serverStore, "kws", "1", "k1")
                .variant("tflite-int8", file, "tflite", Optional.of("2.6"), Precision.INT8, Optional.empty(), List.of(), List.of(), List.of())
                .build(Instant.parse("2026-11-29T08:00:00Z"), Optional.empty());
        manifests.put("kws", "1", MessageCodec.json().encode(ManifestSigning.sign(m, key.getPrivate())));
        variant = m.variants().get(0);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop();
        }
    }

    private int serve(Consumer<HttpRouting.Builder> before) {
        server = WebServer.builder().host("127.0.0.1").port(0)
                .routing(r -> {
                    before.accept(r);
                    new SyncRoutes(manifests, serverStore, 16).routing(r);
                }).build().start();
        return server.port();
    }

    private SyncClient client(String store, int port, int attempts, Duration timeout) {
        return new SyncClient(URI.create("http://127.0.0.1:" + port), new ChunkStore(dir.resolve(store)), Map.of("k1", key.getPublic()),
                new SyncClient.Options(4, 0, attempts, timeout, Duration.ofMillis(20)), Clock.systemUTC());
    }

    private SyncClient client(SyncClient.Options o, ChunkStore store, int port) {
        return new SyncClient(URI.create("http://127.0.0.1:" + port), store, Map.of("k1", key.getPublic()), o, Clock.systemUTC());
    }

    private Path staging(Path target) {
        Path abs = target.toAbsolutePath().normalize();
        return abs.resolveSibling("." + abs.getFileName() + "." + variant.sha256().substring(0, 16) + ".sync");
    }

    /** 206 for the asked range; slow (sleep per 64 KiB) for requests after the first. */
    private void rangedSlowAfterFirst(HttpRouting.Builder r, AtomicInteger n, int sleepMs) {
        r.get("/sync/v1/variants/{name}/{version}/{variant}", (req, res) -> {
            int i = n.getAndIncrement();
            String range = req.headers().first(HeaderNames.RANGE).orElse("bytes=0-" + (SIZE - 1));
            String[] ab = range.substring("bytes=".length()).split("-");
            int a = Integer.parseInt(ab[0]);
            int b = Integer.parseInt(ab[1]);
            res.status(Status.PARTIAL_CONTENT_206).header(HeaderNames.CONTENT_RANGE, "bytes " + a + "-" + b + "/" + SIZE)
                    .header(HeaderNames.CONTENT_LENGTH, String.valueOf(b - a + 1));
            try (OutputStream out = res.outputStream()) {
                for (int p = a; p <= b; p += 65536) {
                    out.write(weights, p, Math.min(65536, b + 1 - p));
                    out.flush();
                    Thread.sleep(i == 0 ? 5 : sleepMs);
                    if (i > 0 && true && p > a + (b - a) / 2) {
                        gate.await(30, TimeUnit.SECONDS);
                    }
                }
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
    }

    // 1a. two downloads of the same model/version/target at once, one process, one store
    @Test
    void two_concurrent_downloads_same_target_one_process() throws Exception {
        AtomicInteger n = new AtomicInteger();
        int port = serve(r -> rangedSlowAfterFirst(r, n, 30));
        SyncClient c = client("device", port, 3, Duration.ofSeconds(10));
        Path target = dir.resolve("out/m.tflite");
        CompletableFuture<Object> fa = CompletableFuture.supplyAsync(() -> {
            try {
                return c.download("kws", "1", PI, target, (d, t, re, ch) -> { });
            } catch (Exception e) {
                return e;
            }
        }, POOL);
        Thread.sleep(150);
        CompletableFuture<Object> fb = CompletableFuture.supplyAsync(() -> {
            try {
                return c.download("kws", "1", PI, target, (d, t, re, ch) -> { });
            } catch (Exception e) {
                return e;
            }
        }, POOL);
        Object a = fa.get(60, TimeUnit.SECONDS);
        gate.countDown();
        System.out.println("fault: concurrent A: " + (a instanceof SyncClient.Result ra ? "ok fetched=" + ra.bytesFetched() : a) + " installed ok after A: " + java.util.Arrays.equals(Files.readAllBytes(target), weights));
        Object b = fb.get(60, TimeUnit.SECONDS);
        byte[] got = Files.readAllBytes(target);
        int zeros = 0;
        for (byte x : got) {
            if (x == 0) {
                zeros++;
            }
        }
        System.out.println("fault: concurrent B: " + (b instanceof SyncClient.Result rb ? "ok fetched=" + rb.bytesFetched() : b) + " size=" + got.length + " zeros=" + zeros + " equal=" + java.util.Arrays.equals(got, weights)
                + " sha-ok=" + io.edgefleet.sync.chunks.Sha256.hex(target).equals(variant.sha256()));
        assertThat(got).as("installed file after two concurrent downloads").isEqualTo(weights);
        assertThat(a).as("the first download").isInstanceOf(SyncClient.Result.class);
        assertThat(b).as("the second download (it waited for the first)").isInstanceOf(SyncClient.Result.class);
    }

    // 1b. hostile / corrupt seed journals
    @Test
    void seed_journal_non_numeric_sealed_line() throws Exception {
        Files.createDirectories(dir.resolve("device/seeds"));
        Files.writeString(dir.resolve("device/seeds/0000.seed"), "file\t/etc/hostname\nsealed\tabc\t1\n");
        try {
            new ChunkStore(dir.resolve("device"));
            System.out.println("fault: journal sealed-nonnumeric: store opened");
        } catch (Throwable t) {
            System.out.println("fault: journal sealed-nonnumeric: " + t);
            throw t;
        }
    }

    @Test
    void seed_journal_non_numeric_offset() throws Exception {
        Files.createDirectories(dir.resolve("device/seeds"));
        Files.writeString(dir.resolve("device/seeds/0000.seed"), "file\t/etc/hostname\nc\t" + "a".repeat(64) + "\tx1\t10\n");
        try {
            new ChunkStore(dir.resolve("device"));
            System.out.println("fault: journal offset-nonnumeric: store opened");
        } catch (Throwable t) {
            System.out.println("fault: journal offset-nonnumeric: " + t);
            throw t;
        }
    }

    @Test
    void seed_journal_binary_garbage() throws Exception {
        Files.createDirectories(dir.resolve("device/seeds"));
        Files.write(dir.resolve("device/seeds/0000.seed"), new byte[] {'f', 'i', (byte) 0xff, (byte) 0xfe, '\n'});
        try {
            new ChunkStore(dir.resolve("device"));
            System.out.println("fault: journal binary: store opened");
        } catch (Throwable t) {
            System.out.println("fault: journal binary: " + t);
            throw t;
        }
    }

    @Test
    void seed_journal_negative_offset_for_a_needed_chunk() throws Exception {
        int port = serve(r -> { });
        Path victim = dir.resolve("m.tflite");
        ChunkRef c0 = variant.chunks().get(0);
        Files.createDirectories(dir.resolve("device/seeds"));
        Files.writeString(dir.resolve("device/seeds/0000.seed"), "file\t" + victim.toAbsolutePath() + "\nsealed\t" + Files.size(victim) + "\t"
                + Files.getLastModifiedTime(victim).toMillis() + "\nc\t" + c0.sha256() + "\t-5\t" + c0.sizeBytes() + "\n");
        Path target = dir.resolve("out/m.tflite");
        for (int i = 0; i < 2; i++) {
            try {
                SyncClient.Result r = client("device", port, 3, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
                System.out.println("fault: negative offset try " + i + ": ok fetched=" + r.bytesFetched() + " equal="
                        + java.util.Arrays.equals(Files.readAllBytes(target), weights));
            } catch (Throwable t) {
                System.out.println("fault: negative offset try " + i + ": " + t);
            }
        }
        assertThat(Files.readAllBytes(target)).isEqualTo(weights);
    }

    @Test
    void seed_pointing_at_same_size_same_mtime_modified_file() throws Exception {
        int port = serve(r -> { });
        Path target = dir.resolve("out/m.tflite");
        client("device", port, 3, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
        // install the same thing somewhere else so the seed is another file: copy target into other, seal it, then tamper other
        Path target2 = dir.resolve("out2/m.tflite");
        // tamper installed file in place keeping size and mtime, then download to another target (reuse path)
        var mtime = Files.getLastModifiedTime(target);
        byte[] bad = weights.clone();
        for (int i = 0; i < bad.length; i += 4096) {
            bad[i] ^= 1;
        }
        Files.write(target, bad);
        Files.setLastModifiedTime(target, mtime);
        SyncClient.Result r = client("device", port, 3, Duration.ofSeconds(5)).download("kws", "1", PI, target2, (d, t, re, ch) -> { });
        System.out.println("fault: tampered seed: fetched=" + r.bytesFetched() + " reused=" + r.bytesReused());
        assertThat(Files.readAllBytes(target2)).isEqualTo(weights);
    }

    // staging modified between runs: cut, then truncate the staging file (partial record beyond its end)
    @Test
    void staging_truncated_after_a_cut() throws Exception {
        int port = serve(r -> { });
        Path target = dir.resolve("out/m.tflite");
        try (CuttingProxy proxy = new CuttingProxy(port, SIZE / 2)) {
            try {
                client("device", proxy.port(), 1, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
            } catch (Exception e) {
                System.out.println("fault: cut: " + e);
            }
        }
        Path st = staging(target);
        System.out.println("fault: staging size after cut " + Files.size(st));
        try (var ch = java.nio.channels.FileChannel.open(st, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(SIZE / 4);
        }
        for (int i = 0; i < 2; i++) {
            try {
                SyncClient.Result r = client("device", port, 3, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
                System.out.println("fault: truncated staging try " + i + ": ok fetched=" + r.bytesFetched());
            } catch (Throwable t) {
                System.out.println("fault: truncated staging try " + i + ": " + t);
            }
        }
        assertThat(Files.readAllBytes(target)).isEqualTo(weights);
    }

    // staging modified in place between runs (bytes flipped in verified region)
    @Test
    void staging_flipped_after_a_cut() throws Exception {
        int port = serve(r -> { });
        Path target = dir.resolve("out/m.tflite");
        try (CuttingProxy proxy = new CuttingProxy(port, SIZE / 2)) {
            try {
                client("device", proxy.port(), 1, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
            } catch (Exception e) {
                System.out.println("fault: cut: " + e);
            }
        }
        Path st = staging(target);
        byte[] s = Files.readAllBytes(st);
        for (int i = 0; i < s.length; i += 1000) {
            s[i] ^= 1;
        }
        Files.write(st, s);
        SyncClient.Result r = client("device", port, 3, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
        System.out.println("fault: flipped staging: fetched=" + r.bytesFetched());
        assertThat(Files.readAllBytes(target)).isEqualTo(weights);
    }

    // symlink at the staging path pointing outside
    @Test
    void symlink_at_staging_path() throws Exception {
        int port = serve(r -> { });
        Path target = dir.resolve("out/m.tflite");
        Files.createDirectories(target.getParent());
        Path outside = dir.resolve("outside/victim");
        Files.createDirectories(outside.getParent());
        Files.writeString(outside, "precious");
        Files.createSymbolicLink(staging(target), outside);
        try {
            client("device", port, 3, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
        } catch (Throwable t) {
            System.out.println("fault: symlink staging: " + t);
        }
        System.out.println("fault: symlink staging: target symlink=" + Files.isSymbolicLink(target) + " victim size=" + Files.size(outside)
                + " victim==model " + java.util.Arrays.equals(Files.readAllBytes(outside), weights));
        assertThat(Files.isSymbolicLink(target)).isFalse();
        assertThat(Files.readString(outside)).isEqualTo("precious");
    }

    // symlink at the journal path in seeds/ pointing outside
    @Test
    void symlink_at_journal_path() throws Exception {
        int port = serve(r -> { });
        Path target = dir.resolve("out/m.tflite");
        Files.createDirectories(target.getParent());
        Path outside = dir.resolve("outside/victim2");
        Files.createDirectories(outside.getParent());
        Files.writeString(outside, "precious");
        Files.createDirectories(dir.resolve("device/seeds"));
        String name = io.edgefleet.sync.chunks.Sha256.hex(staging(target).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 32)
                + ".seed";
        Files.createSymbolicLink(dir.resolve("device/seeds").resolve(name), outside);
        try {
            client("device", port, 3, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
        } catch (Throwable t) {
            System.out.println("fault: symlink journal: " + t);
        }
        System.out.println("fault: symlink journal: victim now '" + Files.readString(outside).replace("\n", "|") + "'");
        assertThat(Files.readString(outside)).isEqualTo("precious");
    }

    // 2. body stalls forever mid-chunk
    @Test
    void stalled_body_times_out() throws Exception {
        int port = serve(r -> r.get("/sync/v1/variants/{name}/{version}/{variant}", (req, res) -> {
            res.status(Status.PARTIAL_CONTENT_206).header(HeaderNames.CONTENT_RANGE, "bytes 0-" + (SIZE - 1) + "/" + SIZE)
                    .header(HeaderNames.CONTENT_LENGTH, String.valueOf(SIZE));
            try (OutputStream out = res.outputStream()) {
                out.write(weights, 0, SIZE / 2 + 100);
                out.flush();
                Thread.sleep(30_000);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        }));
        SyncClient c = client("device", port, 2, Duration.ofSeconds(2));
        long t0 = System.nanoTime();
        CompletableFuture<Object> f = CompletableFuture.supplyAsync(() -> {
            try {
                return c.download("kws", "1", PI, dir.resolve("out/m.tflite"), (d, t, re, ch) -> { });
            } catch (Exception e) {
                return e;
            }
        }, POOL);
        Object o;
        try {
            o = f.get(40, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            o = "STILL RUNNING after 40 s (request timeout 2 s, 2 attempts)";
        }
        System.out.println("fault: stall: " + o + " after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        assertThat(o).isNotInstanceOf(String.class);
    }

    // 2. 200 with a shorter file
    @Test
    void ok_200_with_shorter_file() throws Exception {
        int port = serve(r -> r.get("/sync/v1/variants/{name}/{version}/{variant}", (req, res) -> {
            res.status(Status.OK_200).send(java.util.Arrays.copyOf(weights, SIZE / 2));
        }));
        Path target = dir.resolve("out/m.tflite");
        try {
            SyncClient.Result r = client("device", port, 3, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
            System.out.println("fault: short 200: ok fetched=" + r.bytesFetched() + " equal=" + java.util.Arrays.equals(Files.readAllBytes(target), weights));
        } catch (Throwable t) {
            System.out.println("fault: short 200: " + t + " target exists=" + Files.exists(target));
        }
    }

    // 2. 206 claiming the asked range but carrying bytes of another range; and more bytes than asked
    @Test
    void wrong_range_body_and_extra_bytes() throws Exception {
        AtomicInteger n = new AtomicInteger();
        int port = serve(r -> r.get("/sync/v1/variants/{name}/{version}/{variant}", (req, res) -> {
            String range = req.headers().first(HeaderNames.RANGE).orElseThrow();
            String[] ab = range.substring("bytes=".length()).split("-");
            int a = Integer.parseInt(ab[0]);
            int b = Integer.parseInt(ab[1]);
            int shift = n.getAndIncrement() == 0 ? 1000 : 0;
            byte[] body = new byte[b - a + 1 + 5000];
            System.arraycopy(weights, Math.min(a + shift, SIZE - 1), body, 0, Math.min(b - a + 1, SIZE - a - shift));
            res.status(Status.PARTIAL_CONTENT_206).header(HeaderNames.CONTENT_RANGE, "bytes " + a + "-" + b + "/" + SIZE).send(body);
        }));
        Path target = dir.resolve("out/m.tflite");
        try {
            SyncClient.Result r = client("device", port, 3, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
            System.out.println("fault: wrong range: ok fetched=" + r.bytesFetched() + " equal=" + java.util.Arrays.equals(Files.readAllBytes(target), weights));
        } catch (Throwable t) {
            System.out.println("fault: wrong range: " + t + " target exists=" + Files.exists(target));
        }
        assertThat(!Files.exists(target) || java.util.Arrays.equals(Files.readAllBytes(target), weights)).isTrue();
    }

    // 2. reset at many positions, one try each, then resume
    @Test
    void reset_at_many_positions_then_resume() throws Exception {
        int port = serve(r -> { });
        int bad = 0;
        long[] cuts = {1, 100, 500, 1000, 2000, 3000, 4000, 5000, 8000, 20000, 65536, 300001, 700000, SIZE / 2, SIZE - 100000, SIZE - 1, SIZE + 300,
                SIZE + 1000};
        for (long cut : cuts) {
            Path target = dir.resolve("out" + cut + "/m.tflite");
            String store = "dev" + cut;
            try (CuttingProxy proxy = new CuttingProxy(port, cut)) {
                try {
                    client(store, proxy.port(), 1, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
                } catch (Exception e) {
                    // expected mostly
                }
            }
            try {
                SyncClient.Result r = client(store, port, 3, Duration.ofSeconds(5)).download("kws", "1", PI, target, (d, t, re, ch) -> { });
                boolean ok = java.util.Arrays.equals(Files.readAllBytes(target), weights);
                if (!ok) {
                    bad++;
                }
                System.out.println("fault: cut at " + cut + ": resume fetched=" + r.bytesFetched() + " ok=" + ok);
            } catch (Throwable t) {
                bad++;
                System.out.println("fault: cut at " + cut + ": resume failed " + t);
            }
        }
        assertThat(bad).isZero();
    }

    // 3. disk full (tmpfs of 3 MiB at /tmp/tfs27, prepared by the tester)
    @Test
    void two_concurrent_downloads_same_target_two_stores_same_dir() throws Exception {
        AtomicInteger n = new AtomicInteger();
        int port = serve(r -> rangedSlowAfterFirst(r, n, 30));
        Path target = dir.resolve("out/m.tflite");
        SyncClient c1 = client("device", port, 3, Duration.ofSeconds(10));
        SyncClient c2 = client("device", port, 3, Duration.ofSeconds(10));
        CompletableFuture<Object> fa = CompletableFuture.supplyAsync(() -> {
            try {
                return c1.download("kws", "1", PI, target, (d, t, re, ch) -> { });
            } catch (Exception e) {
                return e;
            }
        }, POOL);
        Thread.sleep(150);
        CompletableFuture<Object> fb = CompletableFuture.supplyAsync(() -> {
            try {
                return c2.download("kws", "1", PI, target, (d, t, re, ch) -> { });
            } catch (Exception e) {
                return e;
            }
        }, POOL);
        Object a = fa.get(60, TimeUnit.SECONDS);
        gate.countDown();
        Object b = fb.get(60, TimeUnit.SECONDS);
        byte[] got = Files.readAllBytes(target);
        int zeros = 0;
        for (byte x : got) {
            if (x == 0) {
                zeros++;
            }
        }
        System.out.println("fault: two-stores A " + (a instanceof SyncClient.Result ra ? "ok fetched=" + ra.bytesFetched() : a) + " B=" + (b instanceof SyncClient.Result rb ? "ok fetched=" + rb.bytesFetched() : b)
                + " size=" + got.length + " zeros=" + zeros + " equal=" + java.util.Arrays.equals(got, weights));
        assertThat(got).isEqualTo(weights);
        assertThat(a).isInstanceOf(SyncClient.Result.class);
        assertThat(b).isInstanceOf(SyncClient.Result.class);
    }
}
