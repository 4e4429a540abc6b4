package io.edgefleet.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.Precision;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.chunks.FastCdc;
import io.edgefleet.sync.client.SyncClient;
import io.edgefleet.sync.client.SyncException;
import io.edgefleet.sync.server.DirectoryManifests;
import io.edgefleet.sync.server.SyncRoutes;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.sync.signing.ManifestRejectedException;
import io.edgefleet.sync.signing.ManifestSigning;
import io.helidon.webserver.WebServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model sync over a real HTTP server with real files: signatures, deltas, resume, refusals. */
class SyncTest {
    static final int SIZE = 2 * 1024 * 1024;

    @TempDir
    Path dir;
    ChunkStore serverStore;
    DirectoryManifests manifests;
    WebServer server;
    KeyPair key;
    Path v1;
    Path v2;
    final HttpClient http = HttpClient.newHttpClient();

    /** A "model": 2 MiB of seeded bytes; version 2 changes only the last 96 KiB ("the last layer's weights"). */
    @BeforeEach
    void setUp() throws IOException {
        byte[] weights = new byte[SIZE];
        new Random(1).nextBytes(weights);
        v1 = Files.write(dir.resolve("v1.tflite"), weights);
        byte[] changed = weights.clone();
        byte[] last = new byte[96 * 1024];
        new Random(2).nextBytes(last);
        System.arraycopy(last, 0, changed, SIZE - last.length, last.length);
        v2 = Files.write(dir.resolve("v2.tflite"), changed);
        serverStore = new ChunkStore(dir.resolve("server"));
        manifests = new DirectoryManifests(dir.resolve("manifests"));
        key = Keys.generate();
        publish("1", v1, key, "k1", Optional.empty());
        publish("2", v2, key, "k1", Optional.empty());
        server = WebServer.builder()
                .connectionOptions(o -> o.tcpNoDelay(true)) // small responses otherwise wait on Nagle + delayed ACK: 25 ms per chunk measured
                .host("127.0.0.1").port(0)
                .routing(new SyncRoutes(manifests, serverStore, 16)::routing).build().start();
    }

    @AfterEach
    void stop() {
        server.stop();
    }

    private Manifest publish(String version, Path file, KeyPair k, String keyId, Optional<Instant> expires) {
        Manifest m = new ManifestBuilder(serverStore, "kws", version, keyId)
                .variant("tflite-int8", file, "tflite", Optional.of("2.6"), Precision.INT8, Optional.empty(), List.of(), List.of(), List.of())
                .build(Instant.parse("2026-11-29T08:00:00Z"), expires);
        Manifest signed = ManifestSigning.sign(m, k.getPrivate());
        manifests.put("kws", version, MessageCodec.json().encode(signed));
        return signed;
    }

    private SyncClient client(String storeName, int port) {
        return new SyncClient(URI.create("http://127.0.0.1:" + port), new ChunkStore(dir.resolve(storeName)), Map.of("k1", key.getPublic()),
                new SyncClient.Options(4, 0, 4, Duration.ofSeconds(10), Duration.ofMillis(20)), Clock.systemUTC());
    }

    private static final io.edgefleet.profiles.DeviceProfile PI = DeviceCatalog.builtIn().get("raspberry-pi-4-4gb");

    @Test
    void a_full_download_is_verified_and_placed_and_a_second_version_fetches_only_changed_chunks() throws IOException {
        SyncClient c = client("device", server.port());
        long[] last = new long[2];
        SyncClient.Result r1 = c.download("kws", "1", PI, dir.resolve("out/v1.tflite"), (done, total, reused, chunks) -> {
            last[0] = done;
            last[1] = total;
        });
        assertThat(Files.readAllBytes(r1.file())).isEqualTo(Files.readAllBytes(v1));
        assertThat(r1.bytesFetched()).isEqualTo(SIZE);
        assertThat(r1.chunksReused()).isZero();
        assertThat(last[0]).isEqualTo(last[1]).isEqualTo(SIZE);

        SyncClient.Result r2 = c.download("kws", "2", PI, dir.resolve("out/v2.tflite"), (d, t, re, ch) -> { });
        assertThat(Files.readAllBytes(r2.file())).isEqualTo(Files.readAllBytes(v2));
        int chunks = r2.variant().chunks().size();
        assertThat(r2.chunksReused()).as("chunks of v2 reused from v1").isGreaterThanOrEqualTo(chunks - 3);
        assertThat(r2.bytesFetched()).as("bytes fetched for v2").isLessThan(SIZE / 4);
        System.out.printf("delta: %d of %d chunks fetched, %d of %d bytes (%.1f %%)%n", r2.chunksFetched(), chunks, r2.bytesFetched(),
                SIZE, 100.0 * r2.bytesFetched() / SIZE);
    }

    @Test
    void a_connection_cut_at_half_resumes_and_fetches_only_the_rest() throws Exception {
        try (CuttingProxy proxy = new CuttingProxy(server.port(), SIZE / 2)) {
            SyncClient c = client("device", proxy.port());
            SyncClient.Result r = c.download("kws", "1", PI, dir.resolve("out/v1.tflite"), (d, t, re, ch) -> { });
            assertThat(proxy.cuts.get()).isEqualTo(1);
            assertThat(Files.readAllBytes(r.file())).isEqualTo(Files.readAllBytes(v1));
            assertThat(r.bytesFetched()).as("payload bytes over the network").isEqualTo(SIZE);
        }
    }

    @Test
    void an_offline_bundle_installs_with_no_network_and_is_still_verified() throws IOException {
        Manifest m = MessageCodec.json().decode(manifests.manifest("kws", "1").orElseThrow(), Manifest.class);
        Path bundle = dir.resolve("kws-1.efb");
        Bundles.write(m, serverStore, bundle);
        server.stop(); // no network from here on
        Bundles.Installed i = Bundles.install(bundle, new ChunkStore(dir.resolve("offline")), Map.of("k1", key.getPublic()), PI,
                v -> dir.resolve("offline-out/" + v.id() + ".tflite"), Instant.now());
        assertThat(Files.readAllBytes(i.file())).isEqualTo(Files.readAllBytes(v1));
        assertThatThrownBy(() -> Bundles.install(bundle, new ChunkStore(dir.resolve("offline2")), Map.of("k9", Keys.generate().getPublic()), PI,
                v -> dir.resolve("offline-out2/x.tflite"), Instant.now()))
                .isInstanceOf(ManifestRejectedException.class).hasMessageContaining("does not trust");
        // a bundle whose chunk was altered is refused
        Path tampered = dir.resolve("tampered.efb");
        byte[] zip = Files.readAllBytes(bundle);
        zip[zip.length / 2] ^= 1;
        Files.write(tampered, zip);
        assertThatThrownBy(() -> Bundles.install(tampered, new ChunkStore(dir.resolve("offline3")), Map.of("k1", key.getPublic()), PI,
                v -> dir.resolve("offline-out3/x.tflite"), Instant.now()))
                .isInstanceOf(SyncException.class).hasMessageContaining("bundle " + tampered)
                .satisfies(e -> assertThat(((SyncException) e).retriable()).isFalse());
        assertThat(dir.resolve("offline-out3/x.tflite")).doesNotExist();
    }

    @Test
    void the_bandwidth_limit_is_honoured() {
        // A lower bound only: a slow machine can make the download slower, never faster than the limit allows.
        SyncClient slow = new SyncClient(URI.create("http://127.0.0.1:" + server.port()), new ChunkStore(dir.resolve("slow")),
                Map.of("k1", key.getPublic()), new SyncClient.Options(4, 1 << 20, 4, Duration.ofSeconds(10), Duration.ofMillis(20)),
                Clock.systemUTC());
        long t0 = System.nanoTime();
        slow.download("kws", "1", PI, dir.resolve("out/slow.tflite"), (d, t, re, ch) -> { });
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(seconds).as("2 MiB at 1 MiB/s").isGreaterThanOrEqualTo(1.5);
    }

    @Test
    void a_tampered_chunk_is_refused_and_nothing_is_placed() throws IOException {
        Manifest m = MessageCodec.json().decode(manifests.manifest("kws", "1").orElseThrow(), Manifest.class);
        String first = m.variants().get(0).chunks().get(0).sha256();
        Path chunk = serverStore.file(first).orElseThrow();
        byte[] bytes = Files.readAllBytes(chunk);
        bytes[100] ^= 1;
        Files.write(chunk, bytes);
        SyncClient c = client("device", server.port());
        Path target = dir.resolve("out/v1.tflite");
        assertThatThrownBy(() -> c.download("kws", "1", PI, target, (d, t, re, ch) -> { }))
                .isInstanceOf(SyncException.class)
                .hasMessageStartingWith("chunk " + first + " does not verify")
                .satisfies(e -> assertThat(((SyncException) e).retriable()).isFalse());
        assertThat(target).doesNotExist();
    }

    @Test
    void tampered_unknown_key_unsigned_and_expired_manifests_get_distinct_refusals() {
        Manifest good = MessageCodec.json().decode(manifests.manifest("kws", "1").orElseThrow(), Manifest.class);
        Manifest tampered = new Manifest(good.schemaVersion(), good.model(), good.version(), good.createdAt().plusSeconds(1), good.keyId(),
                good.expiresAt(), good.variants(), good.signature());
        manifests.put("kws", "t", MessageCodec.json().encode(tampered).clone());
        // a tampered manifest keeps version "1" inside; the server path is just where it sits
        publish("other", v1, Keys.generate(), "k2", Optional.empty());
        manifests.put("kws", "unsigned", MessageCodec.json().encode(good.unsigned()));
        publish("expired", v1, key, "k1", Optional.of(Instant.parse("2026-01-01T00:00:00Z")));
        SyncClient c = client("device", server.port());
        assertThatThrownBy(() -> c.manifest("kws", "t")).isInstanceOf(ManifestRejectedException.class)
                .hasMessageContaining("the signature does not verify with key 'k1'")
                .satisfies(e -> assertThat(((ManifestRejectedException) e).kind()).isEqualTo(ManifestRejectedException.Kind.BAD_SIGNATURE));
        assertThatThrownBy(() -> c.manifest("kws", "other")).isInstanceOf(ManifestRejectedException.class)
                .hasMessageContaining("is signed with key 'k2', which this host does not trust (trusted: k1)")
                .satisfies(e -> assertThat(((ManifestRejectedException) e).kind()).isEqualTo(ManifestRejectedException.Kind.UNKNOWN_KEY));
        assertThatThrownBy(() -> c.manifest("kws", "unsigned")).isInstanceOf(ManifestRejectedException.class)
                .hasMessage("manifest kws/1 is not signed")
                .satisfies(e -> assertThat(((ManifestRejectedException) e).kind()).isEqualTo(ManifestRejectedException.Kind.UNSIGNED));
        assertThatThrownBy(() -> c.manifest("kws", "expired")).isInstanceOf(ManifestRejectedException.class)
                .hasMessage("manifest kws/expired expired at 2026-01-01T00:00:00Z")
                .satisfies(e -> assertThat(((ManifestRejectedException) e).kind()).isEqualTo(ManifestRejectedException.Kind.EXPIRED));
        // several trusted keys: rotation
        SyncClient rotated = new SyncClient(URI.create("http://127.0.0.1:" + server.port()), new ChunkStore(dir.resolve("d2")),
                Map.of("k1", key.getPublic()), SyncClient.Options.defaults(), Clock.systemUTC());
        assertThat(rotated.manifest("kws", "1").version()).isEqualTo("1");
    }

    @Test
    void a_whole_file_that_does_not_match_its_manifest_is_refused_where_a_file_is_judged_whole() throws IOException {
        Manifest good = MessageCodec.json().decode(manifests.manifest("kws", "1").orElseThrow(), Manifest.class);
        var v = good.variants().get(0);
        var wrong = new io.edgefleet.protocols.manifest.ManifestVariant(v.id(), v.runtime(), v.runtimeVersion(), v.precision(),
                v.accelerator(), v.targetProfiles(), v.inputs(), v.outputs(), v.sizeBytes(), "0".repeat(64), v.chunks());
        Path target = dir.resolve("out/v9.tflite");
        // the cloud's assembly (and a bundle's) hashes the whole file
        assertThatThrownBy(() -> io.edgefleet.sync.client.Assembler.assemble(serverStore, wrong, target))
                .isInstanceOf(SyncException.class).hasMessageContaining("the assembled file hashes to " + v.sha256());
        assertThat(target).doesNotExist();
        // the download path verifies every chunk against the signed list instead (one hash pass, design in docs/model-sync.md):
        // what it places is exactly the signed chunks in the signed order, and a file judged whole later (a file already at
        // the target, the agent's activation) is hashed against the manifest's SHA-256 and not trusted
        Manifest bad = ManifestSigning.sign(new Manifest(good.schemaVersion(), good.model(), "9", good.createdAt(), "k1", Optional.empty(),
                List.of(wrong), Optional.empty()), key.getPrivate());
        manifests.put("kws", "9", MessageCodec.json().encode(bad));
        SyncClient c = client("device", server.port());
        SyncClient.Result r = c.download("kws", "9", PI, target, (d, t, re, ch) -> { });
        assertThat(Files.readAllBytes(r.file())).isEqualTo(Files.readAllBytes(v1));
        SyncClient.Result again = c.download("kws", "9", PI, target, (d, t, re, ch) -> { });
        assertThat(again.bytesReused()).as("not taken as held: assembled again from verified chunks").isEqualTo(SIZE);
    }

    @Test
    void chunks_are_served_with_ranges_etags_and_immutable_caching() throws Exception {
        Manifest m = MessageCodec.json().decode(manifests.manifest("kws", "1").orElseThrow(), Manifest.class);
        var ref = m.variants().get(0).chunks().get(0);
        URI uri = URI.create("http://127.0.0.1:" + server.port() + "/sync/v1/chunks/" + ref.sha256());
        HttpResponse<byte[]> full = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(full.statusCode()).isEqualTo(200);
        assertThat(full.body()).hasSize((int) ref.sizeBytes());
        assertThat(full.headers().firstValue("ETag")).contains("\"" + ref.sha256() + "\"");
        assertThat(full.headers().firstValue("Accept-Ranges")).contains("bytes");
        assertThat(full.headers().firstValue("Cache-Control")).hasValueSatisfying(v -> assertThat(v).contains("immutable"));
        HttpResponse<byte[]> part = http.send(HttpRequest.newBuilder(uri).header("Range", "bytes=10-19").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.headers().firstValue("Content-Range")).contains("bytes 10-19/" + ref.sizeBytes());
        assertThat(part.body()).isEqualTo(java.util.Arrays.copyOfRange(full.body(), 10, 20));
        HttpResponse<byte[]> suffix = http.send(HttpRequest.newBuilder(uri).header("Range", "bytes=-5").build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(suffix.body()).isEqualTo(java.util.Arrays.copyOfRange(full.body(), full.body().length - 5, full.body().length));
        HttpResponse<String> unsatisfiable = http.send(HttpRequest.newBuilder(uri).header("Range", "bytes=" + ref.sizeBytes() + "-").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(unsatisfiable.statusCode()).isEqualTo(416);
        assertThat(unsatisfiable.headers().firstValue("Content-Range")).contains("bytes */" + ref.sizeBytes());
        assertThat(http.send(HttpRequest.newBuilder(uri).header("If-None-Match", "\"" + ref.sha256() + "\"").build(),
                HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(304);
        assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/sync/v1/chunks/nothex")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);
        assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/sync/v1/manifests/kws/404")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
    }

    @Test
    void a_validly_signed_manifest_of_another_version_is_refused_with_the_reason() {
        // the server (a stale cache, a wrong path, a replay) answers the request for kws/2 with v1's signed manifest
        manifests.put("kws", "2", manifests.manifest("kws", "1").orElseThrow());
        SyncClient c = client("device", server.port());
        assertThatThrownBy(() -> c.manifest("kws", "2")).isInstanceOf(ManifestRejectedException.class)
                .hasMessage("asked for manifest kws/2, the server sent the manifest of kws/1; refusing it")
                .satisfies(e -> assertThat(((ManifestRejectedException) e).kind()).isEqualTo(ManifestRejectedException.Kind.NOT_REQUESTED));
        Path target = dir.resolve("out/v2.tflite");
        assertThatThrownBy(() -> c.download("kws", "2", PI, target, (d, t, re, ch) -> { }))
                .isInstanceOf(ManifestRejectedException.class).hasMessageContaining("the manifest of kws/1");
        assertThat(target).as("nothing stored under the version asked for").doesNotExist();
        // another model's manifest under this model's path: refused the same way
        manifests.put("vad", "1", manifests.manifest("kws", "1").orElseThrow());
        assertThatThrownBy(() -> c.manifest("vad", "1")).isInstanceOf(ManifestRejectedException.class)
                .hasMessage("asked for manifest vad/1, the server sent the manifest of kws/1; refusing it");
    }

    @Test
    void a_file_already_at_the_target_is_trusted_only_when_its_hash_is_the_manifests() throws IOException {
        SyncClient c = client("device", server.port());
        Path target = dir.resolve("out/v2.tflite");
        Files.createDirectories(target.getParent());
        Files.copy(v1, target); // v1's bytes under v2's name: what the unbound manifest used to leave behind
        SyncClient.Result r = c.download("kws", "2", PI, v -> target, (d, t, re, ch) -> { });
        assertThat(Files.readAllBytes(target)).as("replaced by v2").isEqualTo(Files.readAllBytes(v2));
        assertThat(r.chunksFetched()).as("v2's chunks were fetched").isPositive();
        // a bit flipped on disk: fetched and assembled again
        byte[] damaged = Files.readAllBytes(target);
        damaged[damaged.length / 2] ^= 1;
        Files.write(target, damaged);
        SyncClient.Result again = c.download("kws", "2", PI, v -> target, (d, t, re, ch) -> { });
        assertThat(Files.readAllBytes(target)).isEqualTo(Files.readAllBytes(v2));
        assertThat(again.file()).isEqualTo(target);
        // the right bytes already there: kept, nothing fetched
        SyncClient.Result kept = c.download("kws", "2", PI, v -> target, (d, t, re, ch) -> { });
        assertThat(kept.chunksFetched()).isZero();
        assertThat(kept.bytesFetched()).isZero();
        assertThat(Files.readAllBytes(target)).isEqualTo(Files.readAllBytes(v2));
    }

    /** One GET of the first chunk of kws/1 with the given headers (name, value, ...). */
    private HttpResponse<byte[]> getChunk(String... headers) throws Exception {
        Manifest m = MessageCodec.json().decode(manifests.manifest("kws", "1").orElseThrow(), Manifest.class);
        var ref = m.variants().get(0).chunks().get(0);
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/sync/v1/chunks/" + ref.sha256()));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void ranges_follow_rfc_9110_if_range_invalid_unsatisfiable_and_multiple() throws Exception {
        HttpResponse<byte[]> full = getChunk();
        byte[] all = full.body();
        int len = all.length;
        String etag = full.headers().firstValue("ETag").orElseThrow();
        String lastModified = full.headers().firstValue("Last-Modified").orElseThrow();
        java.time.ZonedDateTime modified = java.time.ZonedDateTime.parse(lastModified, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);

        // If-Range with the current strong ETag, or the exact Last-Modified date: the range is served
        HttpResponse<byte[]> tagMatch = getChunk("Range", "bytes=10-19", "If-Range", etag);
        assertThat(tagMatch.statusCode()).isEqualTo(206);
        assertThat(tagMatch.body()).isEqualTo(java.util.Arrays.copyOfRange(all, 10, 20));
        HttpResponse<byte[]> dateMatch = getChunk("Range", "bytes=10-19", "If-Range", lastModified);
        assertThat(dateMatch.statusCode()).isEqualTo(206);
        assertThat(dateMatch.headers().firstValue("Content-Range")).contains("bytes 10-19/" + len);
        // the obsolete RFC 850 form of the same date is accepted too
        String rfc850 = io.helidon.http.DateTime.RFC_850_DATE_TIME.format(modified);
        assertThat(getChunk("Range", "bytes=10-19", "If-Range", rfc850).statusCode()).as(rfc850).isEqualTo(206);

        // If-Range that does not hold: another tag, the same tag weak, another date, garbage -> 200 with everything
        for (String v : List.of("\"" + "0".repeat(64) + "\"", "W/" + etag, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(modified.plusSeconds(1)), "not a validator")) {
            HttpResponse<byte[]> r = getChunk("Range", "bytes=10-19", "If-Range", v);
            assertThat(r.statusCode()).as("If-Range: %s", v).isEqualTo(200);
            assertThat(r.body()).as("If-Range: %s", v).isEqualTo(all);
            assertThat(r.headers().firstValue("Content-Range")).as("If-Range: %s", v).isEmpty();
        }

        // an invalid range is ignored: 200 with everything
        for (String v : List.of("bytes=50-10", "bytes=abc", "bytes=-", "bytes=1-2-3", "lines=0-9", "bytes 0-9")) {
            HttpResponse<byte[]> r = getChunk("Range", v);
            assertThat(r.statusCode()).as("Range: %s", v).isEqualTo(200);
            assertThat(r.body()).as("Range: %s", v).isEqualTo(all);
        }

        // several ranges: this server sends the whole representation (documented in docs/model-sync.md)
        HttpResponse<byte[]> multi = getChunk("Range", "bytes=0-9,20-29");
        assertThat(multi.statusCode()).isEqualTo(200);
        assertThat(multi.body()).isEqualTo(all);

        // unsatisfiable: 416 with the length, whatever the start beyond it
        for (String v : List.of("bytes=" + len + "-", "bytes=" + (len + 100) + "-" + (len + 200), "bytes=-0",
                "bytes=99999999999999999999999-")) {
            HttpResponse<byte[]> r = getChunk("Range", v);
            assertThat(r.statusCode()).as("Range: %s", v).isEqualTo(416);
            assertThat(r.headers().firstValue("Content-Range")).as("Range: %s", v).contains("bytes */" + len);
            assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        }

        // satisfiable edges: a last position past the end is clipped; a suffix longer than the chunk is all of it
        HttpResponse<byte[]> clipped = getChunk("Range", "bytes=" + (len - 3) + "-" + (len + 1000));
        assertThat(clipped.statusCode()).isEqualTo(206);
        assertThat(clipped.headers().firstValue("Content-Range")).contains("bytes " + (len - 3) + "-" + (len - 1) + "/" + len);
        assertThat(clipped.body()).isEqualTo(java.util.Arrays.copyOfRange(all, len - 3, len));
        HttpResponse<byte[]> longSuffix = getChunk("Range", "bytes=-" + (len * 2));
        assertThat(longSuffix.statusCode()).isEqualTo(206);
        assertThat(longSuffix.body()).isEqualTo(all);
        HttpResponse<byte[]> unitCase = getChunk("Range", "Bytes=0-0");
        assertThat(unitCase.statusCode()).as("the range unit is case-insensitive").isEqualTo(206);
        assertThat(unitCase.body()).containsExactly(all[0]);

        // If-None-Match with a list, or W/ on the tag (weak comparison): 304
        assertThat(getChunk("If-None-Match", "\"x\", W/" + etag).statusCode()).isEqualTo(304);
        assertThat(getChunk("If-None-Match", "*").statusCode()).isEqualTo(304);
    }

    @Test
    void beyond_the_transfer_cap_the_server_answers_503_with_retry_after() throws Exception {
        WebServer capped = WebServer.builder()
                .connectionOptions(o -> o.tcpNoDelay(true)) // small responses otherwise wait on Nagle + delayed ACK: 25 ms per chunk measured
                .host("127.0.0.1").port(0)
                .routing(new SyncRoutes(manifests, serverStore, 0)::routing).build().start();
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + capped.port()
                    + "/sync/v1/manifests/kws/1")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.headers().firstValue("Retry-After")).contains("1");
            assertThat(r.body()).contains("too many transfers");
        } finally {
            capped.stop();
        }
    }

    @Test
    void garbage_collection_keeps_only_chunks_of_retained_versions() {
        Manifest m1 = MessageCodec.json().decode(manifests.manifest("kws", "1").orElseThrow(), Manifest.class);
        Manifest m2 = MessageCodec.json().decode(manifests.manifest("kws", "2").orElseThrow(), Manifest.class);
        List<String> keep = m2.variants().get(0).chunks().stream().map(c -> c.sha256()).toList();
        long onlyV1 = m1.variants().get(0).chunks().stream().map(c -> c.sha256()).filter(h -> !keep.contains(h)).distinct().count();
        assertThat(serverStore.gc(keep)).isEqualTo((int) onlyV1);
        assertThat(keep).allMatch(serverStore::has);
    }

    @Test
    void chunking_is_deterministic_bounded_and_local_to_edits() {
        byte[] data = new byte[3 * 1024 * 1024];
        new Random(3).nextBytes(data);
        List<Integer> cuts = FastCdc.cuts(data);
        assertThat(FastCdc.cuts(data.clone())).isEqualTo(cuts);
        int prev = 0;
        for (int i = 0; i < cuts.size(); i++) {
            int len = cuts.get(i) - prev;
            assertThat(len).isLessThanOrEqualTo(FastCdc.MAX_SIZE);
            if (i < cuts.size() - 1) {
                assertThat(len).isGreaterThanOrEqualTo(FastCdc.MIN_SIZE);
            }
            prev = cuts.get(i);
        }
        double avg = (double) data.length / cuts.size();
        assertThat(avg).isBetween(FastCdc.AVG_SIZE * 0.5, FastCdc.AVG_SIZE * 2.0);
        // one byte inserted near the start shifts everything after it: the boundaries resynchronise
        byte[] shifted = new byte[data.length + 1];
        shifted[0] = 42;
        System.arraycopy(data, 0, shifted, 1, data.length);
        java.util.Set<String> a = hashes(data, cuts);
        java.util.Set<String> b = hashes(shifted, FastCdc.cuts(shifted));
        long shared = a.stream().filter(b::contains).count();
        assertThat(shared).isGreaterThanOrEqualTo(a.size() - 2);
    }

    private static java.util.Set<String> hashes(byte[] data, List<Integer> cuts) {
        java.util.Set<String> out = new java.util.HashSet<>();
        int start = 0;
        for (int end : cuts) {
            out.add(io.edgefleet.sync.chunks.Sha256.hex(data, start, end - start));
            start = end;
        }
        return out;
    }
}
