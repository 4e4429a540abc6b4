package io.edgefleet.sync.client;

import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.profiles.select.Selection;
import io.edgefleet.profiles.select.Variant;
import io.edgefleet.profiles.select.VariantSelector;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.ChunkRef;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.ManifestVariant;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.sync.chunks.ChunkMismatchException;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.chunks.Sha256;
import io.edgefleet.sync.signing.ManifestRejectedException;
import io.edgefleet.sync.signing.ManifestSigning;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Downloads a model version the way a device should: fetch the manifest, verify its Ed25519
 * signature, choose the variant for the device's profile, fetch only the chunks the local store
 * lacks (in parallel, bounded), resume a chunk cut mid-way with a {@code Range} request, verify
 * each chunk's hash as it is written, retry with exponential backoff and jitter, honour a byte-rate limit, then
 * assemble the file in staging (every byte lies in a chunk whose SHA-256 the signed manifest lists and that was
 * verified, and the size is checked, so the file is not hashed a second time), fsync and rename it into place. Chunks and
 * partial chunks live on disk, so a process killed at any point resumes where it was.
 *
 * <p>Blocking; call from a worker thread. Thread-safe: downloads share the store and the limit.
 */
public final class SyncClient {
    /**
     * @param parallelism chunks fetched at once
     * @param bytesPerSecond shared download limit; 0 for none
     * @param maxAttempts tries per chunk before giving up
     * @param requestTimeout per HTTP request
     * @param backoff base delay between tries (doubled each time, plus jitter)
     */
    public record Options(int parallelism, long bytesPerSecond, int maxAttempts, Duration requestTimeout, Duration backoff) {
        public static Options defaults() {
            return new Options(4, 0, 6, Duration.ofSeconds(30), Duration.ofMillis(200));
        }
    }

    /** Progress of one download: bytes of the variant present locally so far, of the total. */
    public interface Progress {
        void update(long bytesDone, long bytesTotal, int chunksReused, int chunksTotal);
    }

    /**
     * What a download did.
     *
     * @param file the verified file in place
     * @param variant the variant chosen for the profile
     * @param bytesFetched payload bytes that came over the network
     * @param bytesReused bytes of chunks the store already had
     * @param chunksFetched chunks fetched
     * @param chunksReused chunks reused
     */
    public record Result(Path file, ManifestVariant variant, long bytesFetched, long bytesReused, int chunksFetched, int chunksReused,
            Timings timings) {
        public Result(Path file, ManifestVariant variant, long bytesFetched, long bytesReused, int chunksFetched, int chunksReused) {
            this(file, variant, bytesFetched, bytesReused, chunksFetched, chunksReused, new Timings(0, 0, 0));
        }
    }

    /**
     * Where a download's time went, in nanoseconds (wall clock of the calling thread).
     *
     * @param fetchNanos manifest aside: from the start of the transfer to the last run received (receive, hash, write, index)
     * @param finishNanos filling in reused and repeated chunks, the rename and the index, without the fsync
     * @param fsyncNanos the one fsync of the file
     */
    public record Timings(long fetchNanos, long finishNanos, long fsyncNanos) {
    }

    private final URI base;
    private final ChunkStore store;
    private final Path partials;
    private final Map<String, PublicKey> trust;
    private final Options options;
    private final Clock clock;
    private final io.edgefleet.transport.http.HttpCredentials credentials;
    private final java.util.function.Consumer<HttpClient.Builder> httpSettings;
    private final RateLimiter limiter;
    /**
     * One settings instance per timeout, so that clients made with the same options (a client per
     * command) share the JDK {@link HttpClient} that {@link io.edgefleet.transport.http.HttpCredentials#client}
     * caches per settings instance: a fresh one per client cost ~25 ms of wall time per download
     * (its selector thread, a new connection for the manifest).
     */
    private static final Map<Duration, java.util.function.Consumer<HttpClient.Builder>> HTTP_SETTINGS =
            new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * One codec for every client of the process: its Jackson mapper is built on first use and then
     * keeps its deserializers. A codec per client built a fresh mapper per {@code SyncClient} (the
     * agent and the CLI make one per command), and decoding a manifest of ~900 chunks on a cold
     * mapper cost 20-40 ms of a 64 MiB download (sync-bench, issue 19, fourth round).
     */
    private static final MessageCodec JSON = MessageCodec.json();

    public SyncClient(URI base, ChunkStore store, Map<String, PublicKey> trust, Options options, Clock clock) {
        this(base, store, trust, options, io.edgefleet.transport.http.HttpCredentials.none(), clock);
    }

    /**
     * @param credentials the device's TLS context (trust of the server, its client certificate for
     *     mTLS) and/or bearer token; the server refuses {@code /sync/v1} without one of them
     */
    public SyncClient(URI base, ChunkStore store, Map<String, PublicKey> trust, Options options,
            io.edgefleet.transport.http.HttpCredentials credentials, Clock clock) {
        this.base = base;
        this.credentials = java.util.Objects.requireNonNull(credentials, "credentials");
        this.store = store;
        this.partials = store.root().resolve("partial");
        this.trust = Map.copyOf(trust);
        this.options = options;
        this.clock = clock;
        this.httpSettings = HTTP_SETTINGS.computeIfAbsent(options.requestTimeout(),
                t -> b -> b.connectTimeout(t).version(HttpClient.Version.HTTP_1_1));
        this.limiter = new RateLimiter(options.bytesPerSecond());
        try {
            Files.createDirectories(partials);
        } catch (IOException e) {
            throw new SyncException("cannot create " + partials, false, e);
        }
    }

    /**
     * Fetches a manifest, verifies its signature and binds it to the request: a validly signed
     * manifest of another model or version (a stale cache, a wrong path on the server, a replay)
     * is refused, or its bytes would be stored under the version that was asked for.
     *
     * @throws ManifestRejectedException unsigned, unknown key, bad signature, expired, or
     *     {@link ManifestRejectedException.Kind#NOT_REQUESTED} when it names another model or version
     * @throws SyncException when it cannot be fetched (retriable) or is malformed (final)
     */
    public Manifest manifest(String model, String version) {
        URI uri = base.resolve("/sync/v1/manifests/" + model + "/" + version);
        HttpResponse<byte[]> r = withRetries("manifest " + model + "/" + version, () -> {
            HttpResponse<byte[]> resp = credentials.client(httpSettings).send(
                    credentials.authorize(HttpRequest.newBuilder(uri).timeout(options.requestTimeout())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (resp.statusCode() >= 500) {
                throw new IOException("server answered " + resp.statusCode());
            }
            return resp;
        });
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw new SyncUnauthorizedException("manifest " + model + "/" + version + ": the sync server refused this device's credentials (HTTP "
                    + r.statusCode() + "): an enrolled device uses its certificate; else configure agent.cloud (certificate and key, or a token)");
        }
        if (r.statusCode() != 200) {
            throw new SyncException("manifest " + model + "/" + version + ": server answered " + r.statusCode(), r.statusCode() == 429, null);
        }
        Manifest m;
        try {
            m = JSON.decode(r.body(), Manifest.class);
        } catch (ProtocolException e) {
            throw new SyncException("manifest " + model + "/" + version + " is malformed: " + e.getMessage(), false, e);
        }
        Manifest verified = ManifestSigning.verify(m, trust, clock.instant());
        if (!verified.model().equals(model) || !verified.version().equals(version)) {
            throw new ManifestRejectedException(ManifestRejectedException.Kind.NOT_REQUESTED, "asked for manifest " + model + "/" + version
                    + ", the server sent the manifest of " + verified.model() + "/" + verified.version() + "; refusing it");
        }
        return verified;
    }

    /** Downloads the variant of {@code model}/{@code version} that fits {@code profile} to {@code target}. */
    public Result download(String model, String version, DeviceProfile profile, Path target, Progress progress) {
        return download(model, version, profile, v -> target, progress);
    }

    /**
     * Downloads the variant of {@code model}/{@code version} that fits {@code profile} to the path
     * {@code targetFor} gives for it (the file name may depend on the variant's runtime). A file
     * already at that path is kept only when its SHA-256 is the variant's: then nothing is fetched
     * ({@link Result#chunksFetched()} 0). Any other file there is replaced by a verified download.
     */
    public Result download(String model, String version, DeviceProfile profile, java.util.function.Function<ManifestVariant, Path> targetFor,
            Progress progress) {
        return download(model, version, profile, Map.of(), profile.id(), targetFor, progress);
    }

    /**
     * As {@link #download(String, String, DeviceProfile, java.util.function.Function, Progress)}, never choosing a
     * variant whose runtime is a key of {@code notLoadable} (runtime → why it does not load on this device): when
     * no variant fits, {@link NoVariantException} "no variant of model M runs on DEVICE ..." with the reasons,
     * before anything is downloaded or activated.
     */
    public Result download(String model, String version, DeviceProfile profile, Map<String, String> notLoadable, String device,
            java.util.function.Function<ManifestVariant, Path> targetFor, Progress progress) {
        Manifest m = manifest(model, version);
        ManifestVariant v = choose(m, profile, notLoadable, device);
        Path target = targetFor.apply(v);
        if (holds(target, v)) {
            progress.update(v.sizeBytes(), v.sizeBytes(), v.chunks().size(), v.chunks().size());
            return new Result(target, v, 0, v.sizeBytes(), 0, (int) v.chunks().stream().map(ChunkRef::sha256).distinct().count());
        }
        return download(Optional.of(variantUri(model, version, v)), v, target, progress);
    }

    /** The variant of a verified manifest that fits {@code profile}. */
    public static ManifestVariant choose(Manifest m, DeviceProfile profile) {
        Selection s = VariantSelector.select(profile, m.variants().stream().map(Variant::of).toList());
        if (s.chosen().isEmpty()) {
            throw new SyncException("no variant of " + m.model() + "/" + m.version() + " fits profile " + profile.id() + ":\n" + s.explain(),
                    false, null);
        }
        return m.variant(s.chosen().get().id()).orElseThrow();
    }

    /**
     * The variant of a verified manifest that fits {@code profile} and whose runtime loads on {@code device}.
     *
     * @param notLoadable runtime id → why it cannot load on the device (the agent's host probe)
     * @throws NoVariantException {@code no variant of model M/V runs on DEVICE (profile P): VARIANT: tflite not loadable on the device (...)}
     */
    public static ManifestVariant choose(Manifest m, DeviceProfile profile, Map<String, String> notLoadable, String device) {
        Selection s = VariantSelector.select(profile, m.variants().stream().map(Variant::of).toList(), notLoadable);
        if (s.chosen().isEmpty()) {
            throw new NoVariantException(s.refusal(m.model() + "/" + m.version(), device));
        }
        return m.variant(s.chosen().get().id()).orElseThrow();
    }

    /** Whether {@code file} exists with the variant's size and SHA-256 (read in full: a file on disk is never trusted by name). */
    static boolean holds(Path file, ManifestVariant v) {
        try {
            return Files.isRegularFile(file) && Files.size(file) == v.sizeBytes() && Sha256.hex(file).equals(v.sha256());
        } catch (IOException e) {
            return false;
        }
    }

    /** Downloads one variant of a verified manifest, chunk by chunk (sync protocol 1.0: the variant's name on the server is unknown here). */
    public Result download(ManifestVariant v, Path target, Progress progress) {
        return download(Optional.empty(), v, target, progress);
    }

    /** Where the sync server serves a variant's whole file (sync protocol 1.1). */
    private URI variantUri(String model, String version, ManifestVariant v) {
        return base.resolve("/sync/v1/variants/" + enc(model) + "/" + enc(version) + "/" + enc(v.id()));
    }

    private static String enc(String segment) {
        return java.net.URLEncoder.encode(segment, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    /**
     * The missing chunks go as runs: consecutive missing chunks (in file order) in one ranged
     * request over the variant's file, the runs split into about {@code parallelism} requests
     * of at least {@link #MIN_RUN_BYTES}, fetched at once. Without {@code variantUri}, or from a
     * server without the variants resource, one request per chunk.
     *
     * <p>Fetched bytes are written once, straight into a staging file beside the target at their
     * offsets ({@link RunFetcher}), and indexed in the store as they verify; {@link #finish} then
     * fills in the chunks that came from elsewhere (reused from the store or other files, a chunk
     * found twice, a chunk fetched alone), fsyncs once and renames the file into place.
     */
    private Result download(Optional<URI> variantUri, ManifestVariant v, Path target, Progress progress) {
        long started = System.nanoTime();
        Map<String, Long> unique = new LinkedHashMap<>();
        for (ChunkRef c : v.chunks()) {
            unique.putIfAbsent(c.sha256(), c.sizeBytes());
        }
        Path abs = target.toAbsolutePath().normalize();
        Path staging = abs.resolveSibling("." + abs.getFileName() + "." + v.sha256().substring(0, 16) + ".sync");
        try {
            Files.createDirectories(abs.getParent());
        } catch (IOException e) {
            throw new SyncException("cannot create " + abs.getParent() + ": " + e.getMessage(), true, e);
        }
        // one download per staging file at a time, in this process and across processes: two writing one staging
        // file (a retried command, the CLI beside the agent) installed an empty file when the first renamed it away
        try (StagingLock lock = StagingLock.acquire(staging)) {
            return downloadLocked(variantUri, v, target, abs, staging, unique, started, progress);
        }
    }

    private Result downloadLocked(Optional<URI> variantUri, ManifestVariant v, Path target, Path abs, Path staging, Map<String, Long> unique,
            long started, Progress progress) {
        try {
            if (Files.isSymbolicLink(staging)) { // never ours: writing through it would put the model elsewhere, then install the link
                Files.delete(staging);
            }
        } catch (IOException e) {
            throw new SyncException("cannot remove the link at " + staging + ": " + e.getMessage(), true, e);
        }
        ChunkStore.Seed seed = store.openSeed(staging);
        Flusher flusher;
        try {
            flusher = new Flusher(staging);
        } catch (IOException e) {
            seed.close();
            throw new SyncException("cannot write " + staging + ": " + e.getMessage(), true, e);
        }
        try {
            // one store look-up per chunk (each is a stat or two): asking twice cost ~900 extra stats per 64 MiB download
            List<String> missing = new ArrayList<>();
            long reusedBytes = 0;
            for (Map.Entry<String, Long> e : unique.entrySet()) {
                if (store.has(e.getKey())) {
                    reusedBytes += e.getValue();
                } else {
                    missing.add(e.getKey());
                }
            }
            int reused = unique.size() - missing.size();
            AtomicLong done = new AtomicLong(reusedBytes);
            AtomicLong fetched = new AtomicLong();
            long total = unique.values().stream().mapToLong(Long::longValue).sum();
            progress.update(done.get(), total, reused, unique.size());
            java.util.Set<String> missingSet = new java.util.HashSet<>(missing);
            List<RunFetcher.Piece> pieces = new ArrayList<>();
            long offset = 0;
            for (ChunkRef c : v.chunks()) {
                if (missingSet.remove(c.sha256())) {
                    pieces.add(new RunFetcher.Piece(c.sha256(), offset, c.sizeBytes()));
                }
                offset += c.sizeBytes();
            }
            long missingBytes = pieces.stream().mapToLong(RunFetcher.Piece::sizeBytes).sum();
            long runBytes = Math.max(MIN_RUN_BYTES, -Math.floorDiv(-missingBytes, Math.max(1, options.parallelism())));
            List<List<RunFetcher.Piece>> runs = variantUri.isPresent() ? RunFetcher.runs(pieces, runBytes)
                    : pieces.stream().map(List::of).toList();
            RunFetcher.Done onChunk = n -> progress.update(done.addAndGet(n), total, reused, unique.size());
            java.util.concurrent.atomic.AtomicBoolean noVariants = new java.util.concurrent.atomic.AtomicBoolean(variantUri.isEmpty());
            // chunks whose bytes this download hashed to their id: in the staging file (at the offset) or in a chunk file (-1)
            Map<String, Long> verified = new java.util.concurrent.ConcurrentHashMap<>();
            if (!runs.isEmpty()) {
                ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(options.parallelism(), runs.size())),
                        Thread.ofPlatform().name("sync-fetch-", 0).daemon().factory());
                try {
                    List<Future<?>> futures = new ArrayList<>();
                    for (List<RunFetcher.Piece> run : runs) {
                        futures.add(pool.submit(() -> {
                            fetchRun(variantUri, v.sha256(), run, noVariants, fetched, onChunk, seed, staging, verified, flusher);
                            return null;
                        }));
                    }
                    for (Future<?> f : futures) {
                        try {
                            f.get();
                        } catch (ExecutionException e) {
                            futures.forEach(x -> x.cancel(true));
                            if (e.getCause() instanceof SyncException se) {
                                throw se;
                            }
                            throw new SyncException("download failed: " + e.getCause(), true, e.getCause());
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new SyncException("download interrupted", true, e);
                        }
                    }
                } finally {
                    pool.shutdownNow();
                }
            }
            long fetchedAt = System.nanoTime();
            long fsync = finish(v, staging, abs, verified, unique, fetched);
            long end = System.nanoTime();
            return new Result(target, v, fetched.get(), reusedBytes, missing.size(), reused,
                    new Timings(fetchedAt - started, end - fetchedAt - fsync, fsync));
        } finally {
            flusher.close();
            seed.close();
        }
    }

    /**
     * Completes the staging file and puts it in place: every chunk not written there by this
     * download's runs is copied in (read and hashed first, unless this download hashed it: a chunk
     * reused from the store or another file, or from a staging file a cut left, may have been
     * changed or torn since); a chunk that does not verify is dropped from the store and fetched
     * again alone. Then one fsync, an atomic rename, and the file's chunks indexed in the store.
     * Every byte of the file is then a byte of a chunk checked against the signed manifest's digest,
     * in the signed order (and {@link ManifestVariant} holds that they add up to its size), so the
     * whole file is not hashed again.
     *
     * @return the nanoseconds spent in fsync
     */
    private long finish(ManifestVariant v, Path staging, Path target, Map<String, Long> verified, Map<String, Long> unique, AtomicLong fetched) {
        try (FileChannel out = FileChannel.open(staging, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ,
                java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            long pos = 0;
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(RunFetcher.BUFFER_BYTES);
            for (ChunkRef c : v.chunks()) {
                Long at = verified.get(c.sha256());
                if (at == null || at != pos) {
                    if (!place(c, pos, at, staging, out, buf, verified)) {
                        store.delete(c.sha256()); // damaged or gone: fetched again alone, then copied in
                        fetchChunk(c.sha256(), c.sizeBytes(), fetched);
                        verified.put(c.sha256(), -1L);
                        if (!place(c, pos, -1L, staging, out, buf, verified)) {
                            throw new SyncException("chunk " + c.sha256() + " does not verify after being fetched again", false, null);
                        }
                    }
                }
                pos += c.sizeBytes();
            }
            out.truncate(v.sizeBytes());
            if (out.size() != v.sizeBytes()) { // the file lost bytes under us (removed, replaced): never install it
                throw new SyncException("the staging file " + staging + " has " + out.size() + " bytes where the manifest says "
                        + v.sizeBytes() + ": not installed; the next try fetches what is missing", true, null);
            }
            long t = System.nanoTime();
            out.force(true);
            long fsync = System.nanoTime() - t;
            out.close();
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try {
                store.seal(staging, target, v.chunks().stream().map(c -> new ChunkStore.ChunkInfo(c.sha256(), c.sizeBytes())).toList());
            } catch (RuntimeException e) {
                // the file is installed; only the index for later deltas was not written (a full disk): those fetch more
                System.getLogger(SyncClient.class.getName()).log(System.Logger.Level.WARNING,
                        "{0} installed, but its chunks were not indexed for later deltas: {1}", target, e.toString());
            }
            return fsync;
        } catch (IOException e) {
            throw new SyncException("cannot write " + target + ": " + e.getMessage(), true, e);
        }
    }

    /**
     * Puts chunk {@code c} at {@code pos} of the staging file: from the staging file itself (another
     * place, or this place left by an earlier process), a chunk file, or another indexed file.
     * Hashed unless this download verified those bytes ({@code at} is their offset in the staging
     * file, -1 for a chunk file; null when not verified here). False when it is missing or does not verify.
     */
    private boolean place(ChunkRef c, long pos, Long at, Path staging, FileChannel out, java.nio.ByteBuffer buf, Map<String, Long> verified)
            throws IOException {
        int size = Math.toIntExact(c.sizeBytes());
        java.nio.ByteBuffer b = size <= buf.capacity() ? buf.clear().limit(size) : java.nio.ByteBuffer.allocate(size);
        if (at != null && at >= 0) { // verified here, at another offset: a chunk found twice in the file
            readFully(out, b, at);
        } else {
            Optional<ChunkStore.Location> l = store.locate(c.sha256());
            if (l.isEmpty()) {
                return false;
            }
            boolean same = l.get().file().equals(staging);
            if (same) {
                readFully(out, b, l.get().offset());
            } else {
                try (FileChannel in = FileChannel.open(l.get().file(), StandardOpenOption.READ)) {
                    if (l.get().chunkFile() && in.size() != size) {
                        return false;
                    }
                    readFully(in, b, l.get().offset());
                }
            }
            if (b.hasRemaining()) {
                return false;
            }
            if (at == null) {
                MessageDigest d = Sha256.digest();
                d.update(b.duplicate().flip());
                if (!HexFormat.of().formatHex(d.digest()).equals(c.sha256())) {
                    return false;
                }
            }
            if (same && l.get().offset() == pos) {
                verified.put(c.sha256(), pos);
                return true; // already in place
            }
        }
        b.flip();
        long p = pos;
        while (b.hasRemaining()) {
            p += out.write(b, p);
        }
        verified.putIfAbsent(c.sha256(), pos);
        return true;
    }

    private static void readFully(FileChannel in, java.nio.ByteBuffer b, long from) throws IOException {
        long p = from;
        while (b.hasRemaining()) {
            int n = in.read(b, p);
            if (n < 0) {
                return;
            }
            p += n;
        }
    }

    /** Smallest run worth its own request when splitting a download across connections. */
    static final long MIN_RUN_BYTES = 4L << 20;

    /**
     * One run: ranged requests until every chunk of it is stored, retried with backoff on network
     * errors (each try asks only for what is still missing). Chunks whose bytes did not verify in
     * a run are then fetched alone ({@link #fetchChunk}: a tampered or damaged chunk costs its own
     * bytes again, not the run's; one that never verifies fails the download, naming it).
     */
    private void fetchRun(Optional<URI> variantUri, String fileSha, List<RunFetcher.Piece> run, java.util.concurrent.atomic.AtomicBoolean noVariants,
            AtomicLong fetched, RunFetcher.Done onChunk, ChunkStore.Seed seed, Path staging, Map<String, Long> verified, Flusher flusher) {
        java.util.Set<String> failed = new java.util.LinkedHashSet<>();
        if (!noVariants.get()) {
            RunFetcher runs = new RunFetcher(seed, staging, credentials, options.requestTimeout(),
                    limiter, fetched, verified::put, flusher);
            for (int attempt = 1;; attempt++) {
                List<RunFetcher.Piece> todo = run.stream().filter(p -> !failed.contains(p.sha256()) && !verified.containsKey(p.sha256())).toList();
                if (todo.isEmpty() || noVariants.get()) {
                    break;
                }
                try {
                    for (List<RunFetcher.Piece> sub : RunFetcher.runs(todo, Long.MAX_VALUE)) {
                        if (!runs.fetch(variantUri.orElseThrow(), fileSha, sub, failed, onChunk)) {
                            noVariants.set(true); // a sync 1.0 server: chunk by chunk from here on
                            break;
                        }
                    }
                } catch (IOException e) {
                    if (attempt >= options.maxAttempts()) {
                        throw new SyncException("chunks " + todo.get(0).sha256() + " and " + (todo.size() - 1) + " after it not fetched after "
                                + attempt + " tries: " + e.getMessage(), true, e);
                    }
                    sleep(attempt);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SyncException("interrupted", true, e);
                }
            }
        }
        for (RunFetcher.Piece p : run) {
            if (!verified.containsKey(p.sha256())) { // failed in a run, or never asked for (no variants resource)
                fetchChunk(p.sha256(), p.sizeBytes(), fetched);
                verified.put(p.sha256(), -1L);
                onChunk.chunk(p.sizeBytes());
            }
        }
    }

    /**
     * Fetches one chunk into the store, resuming a partial download; returns its size. The bytes
     * are hashed as they arrive (after the bytes already on disk, when resuming) and the finished
     * partial file is moved into the store: one write, no copy.
     */
    private long fetchChunk(String sha, long size, AtomicLong fetched) {
        Path part = partials.resolve(sha + ".part");
        for (int attempt = 1;; attempt++) {
            try {
                long have = Files.exists(part) ? Files.size(part) : 0;
                if (have > size) {
                    Files.delete(part);
                    have = 0;
                }
                MessageDigest digest = Sha256.digest();
                if (have > 0) {
                    try (InputStream in = Files.newInputStream(part)) {
                        byte[] buf = new byte[64 * 1024];
                        int n;
                        while ((n = in.read(buf)) > 0) {
                            digest.update(buf, 0, n);
                        }
                    }
                }
                if (have < size) {
                    HttpRequest.Builder req = HttpRequest.newBuilder(base.resolve("/sync/v1/chunks/" + sha)).timeout(options.requestTimeout());
                    if (have > 0) {
                        req.header("Range", "bytes=" + have + "-");
                    }
                    HttpResponse<InputStream> r = credentials.client(httpSettings).send(credentials.authorize(req).build(),
                            WindowedBody.handler(options.requestTimeout())); // a stalled body fails the try instead of hanging
                    try (InputStream in = r.body()) {
                        if (r.statusCode() == 200) {
                            have = 0; // the server sent it all: start the partial file over
                            digest.reset();
                        } else if (r.statusCode() != 206) {
                            throw new IOException("chunk " + sha + ": server answered " + r.statusCode());
                        }
                        try (OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                                have == 0 ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND)) {
                            byte[] buf = new byte[64 * 1024];
                            int n;
                            while ((n = in.read(buf)) > 0) {
                                limiter.acquire(n);
                                out.write(buf, 0, n); // unbuffered: what arrived survives a cut, the next try resumes here
                                digest.update(buf, 0, n);
                                fetched.addAndGet(n);
                            }
                        }
                    }
                }
                long got = Files.size(part);
                if (got != size) {
                    throw new IOException("chunk " + sha + ": " + got + " of " + size + " bytes arrived");
                }
                String actual = HexFormat.of().formatHex(digest.digest());
                if (!actual.equals(sha)) {
                    Files.deleteIfExists(part);
                    ChunkMismatchException e = new ChunkMismatchException(sha, actual);
                    if (attempt >= options.maxAttempts()) {
                        throw new SyncException(e.getMessage() + " after " + attempt + " tries; refusing it", false, e);
                    }
                    sleep(attempt);
                    continue;
                }
                store.adopt(part, sha);
                return size;
            } catch (IOException e) {
                if (attempt >= options.maxAttempts()) {
                    throw new SyncException("chunk " + sha + " not fetched after " + attempt + " tries: " + e.getMessage(), true, e);
                }
                sleep(attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SyncException("interrupted", true, e);
            }
        }
    }

    private void sleep(int attempt) {
        long baseMillis = options.backoff().toMillis();
        long delay = baseMillis * (1L << Math.min(attempt - 1, 6)) + ThreadLocalRandom.current().nextLong(baseMillis + 1);
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SyncException("interrupted", true, e);
        }
    }

    private interface Io<T> {
        T call() throws IOException, InterruptedException;
    }

    private <T> T withRetries(String what, Io<T> call) {
        for (int attempt = 1;; attempt++) {
            try {
                return call.call();
            } catch (IOException e) {
                if (attempt >= options.maxAttempts()) {
                    throw new SyncException(what + " not fetched after " + attempt + " tries: " + e.getMessage(), true, e);
                }
                sleep(attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SyncException("interrupted", true, e);
            }
        }
    }
}
