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
import io.helidon.webserver.WebServer;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fetched bytes written once, into the file being downloaded, and the chunk store indexing the
 * chunks inside installed files (seeds) instead of a chunk file each: a delta reuses them, a later
 * process finds them, and an installed file changed under the index is not trusted. Real HTTP
 * server, real files.
 */
class SyncSeedsTest {
    static final int SIZE = 2 * 1024 * 1024;
    static final DeviceProfile PI = DeviceCatalog.builtIn().get("raspberry-pi-4-4gb");

    @TempDir
    Path dir;
    KeyPair key;
    byte[] v1;
    byte[] v2;
    ManifestVariant variant1;
    ManifestVariant variant2;
    WebServer server;
    final Queue<String> requests = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void setUp() throws IOException {
        v1 = new byte[SIZE];
        new Random(11).nextBytes(v1);
        v2 = v1.clone();
        byte[] tail = new byte[256 * 1024];
        new Random(12).nextBytes(tail);
        System.arraycopy(tail, 0, v2, SIZE - tail.length, tail.length);
        ChunkStore serverStore = new ChunkStore(dir.resolve("server"));
        DirectoryManifests manifests = new DirectoryManifests(dir.resolve("manifests"));
        key = Keys.generate();
        int i = 1;
        for (byte[] w : List.of(v1, v2)) {
            Path file = Files.write(dir.resolve("m" + i + ".tflite"), w);
            Manifest m = new ManifestBuilder(serverStore, "kws", String.valueOf(i), "k1")
                    .variant("tflite-int8", file, "tflite", Optional.of("2.6"), Precision.INT8, Optional.empty(), List.of(), List.of(), List.of())
                    .build(Instant.parse("2026-11-29T08:00:00Z"), Optional.empty());
            manifests.put("kws", String.valueOf(i), MessageCodec.json().encode(ManifestSigning.sign(m, key.getPrivate())));
            if (i == 1) {
                variant1 = m.variants().get(0);
            } else {
                variant2 = m.variants().get(0);
            }
            i++;
        }
        server = WebServer.builder().connectionOptions(o -> o.tcpNoDelay(true)).host("127.0.0.1").port(0)
                .routing(r -> {
                    r.addFilter((chain, req, res) -> {
                        requests.add(req.path().path());
                        chain.proceed();
                    });
                    new SyncRoutes(manifests, serverStore, 16).routing(r);
                }).build().start();
    }

    @AfterEach
    void stop() {
        server.stop();
    }

    private SyncClient client() {
        return new SyncClient(URI.create("http://127.0.0.1:" + server.port()), new ChunkStore(dir.resolve("device")), Map.of("k1", key.getPublic()),
                new SyncClient.Options(4, 0, 3, Duration.ofSeconds(10), Duration.ofMillis(20)), Clock.systemUTC());
    }

    /** Bytes of v2's distinct chunks that v1 does not have. */
    private long newBytes() {
        Set<String> old = variant1.chunks().stream().map(ChunkRef::sha256).collect(Collectors.toSet());
        return variant2.chunks().stream().filter(c -> !old.contains(c.sha256())).collect(Collectors.toMap(ChunkRef::sha256, ChunkRef::sizeBytes, (a, b) -> a))
                .values().stream().mapToLong(Long::longValue).sum();
    }

    private long chunkFiles() throws IOException {
        try (var files = Files.walk(dir.resolve("device/chunks"))) {
            return files.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void fetched_bytes_live_only_in_the_installed_file_and_a_delta_reuses_them_from_it() throws IOException {
        Path t1 = dir.resolve("models/kws/1.tflite");
        SyncClient.Result r1 = client().download("kws", "1", PI, t1, (d, t, re, ch) -> { });
        assertThat(Files.readAllBytes(t1)).isEqualTo(v1);
        assertThat(r1.bytesFetched()).isEqualTo(SIZE);
        assertThat(chunkFiles()).as("no second copy of the bytes: no chunk files").isZero();
        try (var left = Files.list(t1.getParent())) {
            // what stays besides the model: the empty lock file of its staging path (StagingLock keeps it on purpose)
            List<Path> files = left.toList();
            assertThat(files.stream().map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".sync.lock")).toList())
                    .as("no staging file left").containsExactly("1.tflite");
            assertThat(files.stream().filter(p -> p.getFileName().toString().endsWith(".sync.lock")))
                    .allSatisfy(p -> assertThat(Files.size(p)).as("lock file %s holds no bytes", p).isZero());
        }
        ChunkStore later = new ChunkStore(dir.resolve("device")); // another process: the index is on disk
        assertThat(variant1.chunks()).allMatch(c -> later.has(c.sha256()));
        assertThat(later.read(variant1.chunks().get(3).sha256())).hasSize((int) variant1.chunks().get(3).sizeBytes());

        requests.clear();
        Path t2 = dir.resolve("models/kws/2.tflite");
        SyncClient.Result r2 = client().download("kws", "2", PI, t2, (d, t, re, ch) -> { });
        assertThat(Files.readAllBytes(t2)).isEqualTo(v2);
        assertThat(r2.bytesFetched()).as("only the chunks v1 lacks").isEqualTo(newBytes()).isLessThan(SIZE / 4);
        assertThat(requests.stream().filter(p -> p.startsWith("/sync/v1/chunks/"))).isEmpty();
        assertThat(Files.readAllBytes(t1)).as("the seed is read, not changed").isEqualTo(v1);
    }

    @Test
    void an_installed_file_changed_under_the_index_is_not_trusted() throws IOException {
        Path t1 = dir.resolve("models/kws/1.tflite");
        client().download("kws", "1", PI, t1, (d, t, re, ch) -> { });
        // change a byte of the first chunk in place and put the time back: the index's size and time checks cannot see it
        FileTime time = Files.getLastModifiedTime(t1);
        try (RandomAccessFile f = new RandomAccessFile(t1.toFile(), "rw")) {
            f.seek(100);
            int b = f.read();
            f.seek(100);
            f.write(b ^ 0xff);
        }
        Files.setLastModifiedTime(t1, time);
        ChunkRef first = variant2.chunks().get(0);
        requests.clear();
        SyncClient.Result r2 = client().download("kws", "2", PI, dir.resolve("models/kws/2.tflite"), (d, t, re, ch) -> { });
        assertThat(Files.readAllBytes(r2.file())).as("the changed chunk was hashed, refused and fetched again").isEqualTo(v2);
        assertThat(r2.bytesFetched()).isEqualTo(newBytes() + first.sizeBytes());
        assertThat(requests).contains("/sync/v1/chunks/" + first.sha256());

        // a change the index sees (the size): none of that file's chunks is offered any more
        Path t3 = dir.resolve("models/kws/3.tflite");
        Files.copy(r2.file(), t3);
        Files.write(r2.file(), new byte[] {1}, java.nio.file.StandardOpenOption.APPEND);
        ChunkStore store = new ChunkStore(dir.resolve("device"));
        Set<String> only2 = variant2.chunks().stream().map(ChunkRef::sha256).collect(Collectors.toSet());
        variant1.chunks().forEach(c -> only2.remove(c.sha256()));
        assertThat(only2).isNotEmpty().noneMatch(store::has);
    }
}
