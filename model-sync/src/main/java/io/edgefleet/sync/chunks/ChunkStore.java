package io.edgefleet.sync.chunks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Chunks on disk by their SHA-256 ({@code chunks/ab/abcdef...}), shared by every model and
 * version on a host. A chunk is written to a temporary file, fsynced, renamed: a crash leaves a
 * whole chunk or none. Reads check nothing (the name is the hash; writers verify before renaming).
 * Garbage collection keeps the chunks that the retained manifests list. Thread-safe.
 *
 * <p>With a {@link Backing} (the control plane's replicas on one PostgreSQL database, issue 18)
 * the backing is the store of record and the folder a read-through cache: {@link #put} writes
 * both, and a chunk missing from the folder ({@link #has}, {@link #file}, {@link #read}) is
 * fetched from the backing, checked against its hash and cached. So every replica serves every
 * chunk any replica stored. {@link #adopt}, {@link #delete} and {@link #gc} touch the folder only.
 *
 * <p>Chunks inside files (sync 1.1 downloads, after zsync's and casync's "seed" files): a
 * download writes fetched bytes once, straight into its staging file, and the store indexes the
 * chunks in it ({@link #openSeed}: a journal under {@code seeds/}, a line per verified chunk, and the
 * partial bytes of a chunk a cut split); once the file is installed, {@link #seal} indexes it at
 * its final path with its size and modification time. {@link #has} and {@link #locate} then
 * answer from chunk files first, then from seed files that still exist unchanged (size and time);
 * readers hash those bytes before relying on them, so a file changed under the index (even
 * keeping its size and time) costs a fetch, never a wrong byte. No second copy of a model is kept.
 */
public final class ChunkStore {
    private final Path root;
    private final Optional<Backing> backing;
    /** Chunks found inside seed files (sync 1.1 downloads: installed files and staging files), by hash. */
    private final java.util.concurrent.ConcurrentHashMap<String, Location> seeded = new java.util.concurrent.ConcurrentHashMap<>();
    /** Seed files by path: their sealed size and time (or none while open), and their journal. */
    private final java.util.concurrent.ConcurrentHashMap<Path, Seed> seeds = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Where a chunk's bytes are: bytes {@code offset..offset+size} of {@code file}, a chunk file of
     * this store (offset 0) or a seed file. Nothing is promised about those bytes: a reader hashes
     * them before relying on them (a seed file may have been changed or torn since it was indexed).
     */
    public record Location(Path file, long offset, boolean chunkFile) {
    }

    /**
     * A partial chunk inside a seed file: its first {@code have} bytes were written at {@code offset}
     * before a cut (not verified: a reader hashes them again).
     */
    public record Partial(long offset, long have) {
    }

    /**
     * Where chunks live for every process that reads them (a database table); the folder caches them.
     * Implementations are thread-safe.
     */
    public interface Backing {
        /** Stores a chunk under its hash; storing one that is there already does nothing. */
        void write(String sha256, byte[] data, int offset, int length);

        /** The chunk's bytes, or empty when no process stored it. */
        Optional<byte[]> read(String sha256);
    }

    public ChunkStore(Path root) {
        this(root, Optional.empty());
    }

    /** A store over the folder {@code root}, caching the chunks of {@code backing} when there is one. */
    public ChunkStore(Path root, Optional<Backing> backing) {
        this.root = root;
        this.backing = backing;
        try {
            Files.createDirectories(root.resolve("chunks"));
            Files.createDirectories(root.resolve("tmp"));
            Files.createDirectories(root.resolve("seeds"));
            try (var list = Files.list(root.resolve("seeds"))) {
                for (Path f : list.filter(f -> f.getFileName().toString().endsWith(".seed")).toList()) {
                    try {
                        loadSeed(f).ifPresent(this::register);
                    } catch (IOException | RuntimeException e) {
                        // a journal that cannot be read (not UTF-8, torn, hostile) is an index only: dropped, its chunks fetched again
                        System.getLogger(ChunkStore.class.getName()).log(System.Logger.Level.WARNING,
                                "seed index {0} dropped (unreadable: {1}); its chunks are fetched again when needed", f, e.toString());
                        Files.deleteIfExists(f);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create chunk store " + root, e);
        }
    }

    /** Reads a seed journal (a malformed or torn line is skipped); empty when it names no file. */
    private Optional<Seed> loadSeed(Path journal) throws IOException {
        List<String> lines = Files.readAllLines(journal, java.nio.charset.StandardCharsets.UTF_8);
        Path file = null;
        long size = -1;
        long time = 0;
        List<String[]> rest = new java.util.ArrayList<>();
        for (String line : lines) {
            String[] f = line.split("\t");
            if (f[0].equals("file") && f.length == 2) {
                file = Path.of(f[1]);
            } else if (f[0].equals("sealed") && f.length == 3 && f[1].matches("[0-9]{1,18}") && f[2].matches("-?[0-9]{1,18}")) {
                size = Long.parseLong(f[1]);
                time = Long.parseLong(f[2]);
            } else if ((f[0].equals("c") || f[0].equals("p")) && f.length == 4 && f[1].matches("[0-9a-f]{64}") && f[2].matches("[0-9]{1,18}")
                    && f[3].matches("[0-9]{1,10}") && Long.parseLong(f[3]) <= Integer.MAX_VALUE) {
                rest.add(f);
            }
        }
        if (file == null) {
            Files.deleteIfExists(journal);
            return Optional.empty();
        }
        Seed s = new Seed(file, size, time, journal);
        for (String[] f : rest) {
            long offset = Long.parseLong(f[2]);
            long n = Long.parseLong(f[3]);
            if (f[0].equals("c")) {
                s.sizes.put(f[1], n);
                s.offsets.put(f[1], offset);
                s.partials.remove(f[1]);
            } else {
                s.partials.put(f[1], new Partial(offset, n));
            }
        }
        return Optional.of(s);
    }

    private void register(Seed s) {
        seeds.put(s.file, s);
        s.sizes.forEach((sha, size) -> seeded.put(sha, new Location(s.file, s.offsets.get(sha), false)));
    }

    private void forget(Path file) {
        Seed old = seeds.remove(file);
        if (old != null) {
            old.close();
        }
        seeded.values().removeIf(l -> l.file().equals(file));
    }

    private Path journal(Path file) {
        return root.resolve("seeds").resolve(Sha256.hex(file.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 32) + ".seed");
    }

    /**
     * Opens the index of chunks written inside {@code file}, a download's staging file (the sync
     * client writes fetched bytes straight into it), creating it, or continuing the one a cut left
     * when that file still exists. Chunks added to it are then found by {@link #has} and
     * {@link #locate} while the file exists (by this and later processes: the index is a journal
     * under {@code seeds/}, one line per chunk, appended unbuffered).
     */
    public Seed openSeed(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        synchronized (seeds) {
            Seed s = seeds.get(abs);
            if (s != null && s.sealedSize < 0 && Files.exists(abs)) {
                return s;
            }
            forget(abs);
            try {
                Seed fresh = new Seed(abs, -1, 0, journal(abs));
                fresh.append("file\t" + abs + "\n", true);
                seeds.put(abs, fresh);
                return fresh;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot index " + abs, e);
            }
        }
    }

    /**
     * After a staging file was renamed to {@code target}: indexes the chunks of {@code target}
     * (listed in file order; a chunk found twice is indexed at its first place), sealed with its
     * size and modification time, and forgets {@code staging} and whatever was indexed at
     * {@code target} before. A sealed file whose size or time changes later is no longer used.
     */
    public void seal(Path staging, Path target, List<ChunkInfo> chunks) {
        Path from = staging.toAbsolutePath().normalize();
        Path to = target.toAbsolutePath().normalize();
        synchronized (seeds) {
            try {
                Path oldJournal = journal(from);
                forget(from);
                forget(to);
                Files.deleteIfExists(oldJournal);
                long size = Files.size(to);
                long time = Files.getLastModifiedTime(to).toMillis();
                StringBuilder b = new StringBuilder("file\t" + to + "\nsealed\t" + size + "\t" + time + "\n");
                long offset = 0;
                java.util.Set<String> seen = new HashSet<>();
                for (ChunkInfo c : chunks) {
                    if (seen.add(c.sha256())) {
                        b.append("c\t").append(c.sha256()).append('\t').append(offset).append('\t').append(c.sizeBytes()).append('\n');
                    }
                    offset += c.sizeBytes();
                }
                Path tmp = root.resolve("tmp").resolve("seed-" + UUID.randomUUID());
                Files.writeString(tmp, b);
                Files.move(tmp, journal(to), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                loadSeed(journal(to)).ifPresent(this::register);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot index " + to, e);
            }
        }
    }

    /**
     * The index of the chunks inside one file (a download's staging file while open, an installed
     * file once sealed). Thread-safe.
     */
    public final class Seed implements java.io.Closeable {
        private final Path file;
        private final long sealedSize;
        private final long sealedTime;
        private final Path journalPath;
        private final java.util.Map<String, Long> sizes = new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.Map<String, Long> offsets = new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.Map<String, Partial> partials = new java.util.concurrent.ConcurrentHashMap<>();
        private FileChannel journal;

        private Seed(Path file, long sealedSize, long sealedTime, Path journalPath) {
            this.file = file;
            this.sealedSize = sealedSize;
            this.sealedTime = sealedTime;
            this.journalPath = journalPath;
        }

        boolean unchanged() {
            try {
                if (sealedSize < 0) {
                    return Files.exists(file);
                }
                return Files.size(file) == sealedSize && Files.getLastModifiedTime(file).toMillis() == sealedTime;
            } catch (IOException e) {
                return false;
            }
        }

        /** Records that bytes {@code offset..offset+size} of the file are the chunk {@code sha256} (verified by the caller). */
        public void add(String sha256, long offset, long size) throws IOException {
            sizes.put(sha256, size);
            offsets.put(sha256, offset);
            partials.remove(sha256);
            seeded.put(sha256, new Location(file, offset, false));
            append("c\t" + sha256 + "\t" + offset + "\t" + size + "\n", false);
        }

        /** Records that the first {@code have} bytes of chunk {@code sha256} were written at {@code offset} (a cut came before its end). */
        public void partial(String sha256, long offset, long have) throws IOException {
            partials.put(sha256, new Partial(offset, have));
            append("p\t" + sha256 + "\t" + offset + "\t" + have + "\n", false);
        }

        /** The partial bytes of a chunk a cut left in this file, if any. */
        public Optional<Partial> partial(String sha256) {
            return Optional.ofNullable(partials.get(sha256));
        }

        private synchronized void append(String line, boolean truncate) throws IOException {
            if (journal == null || truncate || !journal.isOpen()) { // closed by an interrupted writer: open it again
                if (journal != null) {
                    journal.close();
                }
                journal = truncate ? FileChannel.open(journalPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING) : FileChannel.open(journalPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.APPEND);
            }
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(line.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                journal.write(b);
            }
        }

        /** Closes the journal (it is opened again when something is added). */
        @Override
        public synchronized void close() {
            if (journal != null) {
                try {
                    journal.close();
                } catch (IOException e) {
                    // nothing to keep
                }
                journal = null;
            }
        }
    }

    public Path root() {
        return root;
    }

    Path path(String sha256) {
        return root.resolve("chunks").resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    /** Whether the store has the chunk: as a chunk file, or indexed inside a seed file that looks unchanged (see {@link #locate}). */
    public boolean has(String sha256) {
        if (Files.isRegularFile(path(sha256))) {
            return true;
        }
        // without a backing store, file() would only stat the same path again
        return seededLocation(sha256).isPresent() || (backing.isPresent() && file(sha256).isPresent());
    }

    /**
     * Where the chunk's bytes are: its chunk file (fetched from the backing when there is one), else
     * a seed file that indexes it and that still exists with the size and modification time it had
     * when it was sealed (an open seed file, a download's staging file, only has to exist). The
     * bytes are not checked: the caller hashes them (a seed file changed without its size or time
     * changing is caught there).
     */
    public Optional<Location> locate(String sha256) {
        Path p = path(sha256);
        if (Files.isRegularFile(p)) {
            return Optional.of(new Location(p, 0, true));
        }
        Optional<Location> s = seededLocation(sha256);
        if (s.isPresent()) {
            return s;
        }
        return file(sha256).map(f -> new Location(f, 0, true));
    }

    private Optional<Location> seededLocation(String sha256) {
        Location l = seeded.get(sha256);
        if (l == null) {
            return Optional.empty();
        }
        Seed s = seeds.get(l.file());
        if (s == null || !s.unchanged()) {
            seeded.remove(sha256, l);
            return Optional.empty();
        }
        return Optional.of(l);
    }

    public Optional<Path> file(String sha256) {
        Path p = path(sha256);
        if (Files.isRegularFile(p)) {
            return Optional.of(p);
        }
        if (backing.isEmpty()) {
            return Optional.empty();
        }
        Optional<byte[]> fetched = backing.get().read(sha256);
        if (fetched.isEmpty()) {
            return Optional.empty();
        }
        byte[] data = fetched.get();
        cache(data, Optional.of(sha256)); // checks the hash: a damaged row is an error, not a chunk
        return Optional.of(p);
    }

    /**
     * Stores bytes under their hash.
     *
     * @throws ChunkMismatchException when {@code expectedSha256} is given and the bytes hash otherwise
     */
    public String put(byte[] data, int offset, int length, Optional<String> expectedSha256) {
        String hash = cache(data, offset, length, expectedSha256);
        backing.ifPresent(b -> b.write(hash, data, offset, length));
        return hash;
    }

    private String cache(byte[] data, Optional<String> expectedSha256) {
        return cache(data, 0, data.length, expectedSha256);
    }

    /** Writes the chunk into the folder only. */
    private String cache(byte[] data, int offset, int length, Optional<String> expectedSha256) {
        String hash = Sha256.hex(data, offset, length);
        if (expectedSha256.isPresent() && !expectedSha256.get().equals(hash)) {
            throw new ChunkMismatchException(expectedSha256.get(), hash);
        }
        Path target = path(hash);
        if (Files.exists(target)) {
            return hash;
        }
        try {
            Files.createDirectories(target.getParent());
            Path tmp = root.resolve("tmp").resolve(hash + "-" + UUID.randomUUID());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(data, offset, length));
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return hash;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store chunk " + hash, e);
        }
    }

    /**
     * Moves a file whose SHA-256 the caller has just computed into the store, without copying or
     * fsync (the download path: readers check chunk hashes before they rely on them, and a chunk
     * lost to a power cut is fetched again).
     */
    public void adopt(Path file, String sha256) {
        Path target = path(sha256);
        try {
            Files.createDirectories(target.getParent());
            Files.move(file, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store chunk " + sha256, e);
        }
    }

    /** Deletes one chunk (a reader found it damaged): its chunk file, and its place in a seed file from the index. */
    public void delete(String sha256) {
        seeded.remove(sha256);
        try {
            Files.deleteIfExists(path(sha256));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The chunk's bytes (unchecked), from its chunk file or a seed file; {@code sizeBytes} is read from a seed file. */
    public byte[] read(String sha256) {
        try {
            Optional<Location> l = locate(sha256);
            if (l.isPresent() && !l.get().chunkFile()) {
                Seed s = seeds.get(l.get().file());
                Long size = s == null ? null : s.sizes.get(sha256);
                if (size != null) {
                    try (FileChannel ch = FileChannel.open(l.get().file(), StandardOpenOption.READ)) {
                        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(Math.toIntExact(size));
                        while (b.hasRemaining() && ch.read(b, l.get().offset() + b.position()) >= 0) {
                            // fill
                        }
                        return java.util.Arrays.copyOf(b.array(), b.position());
                    }
                }
            }
            return Files.readAllBytes(file(sha256).orElse(path(sha256)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read chunk " + sha256, e);
        }
    }

    /** Splits a file into content-defined chunks, stores them, returns their (hash, size) in order. */
    public List<ChunkInfo> putFile(Path file) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        List<ChunkInfo> out = new java.util.ArrayList<>();
        int start = 0;
        for (int end : FastCdc.cuts(data)) {
            out.add(new ChunkInfo(put(data, start, end - start, Optional.empty()), end - start));
            start = end;
        }
        return out;
    }

    /**
     * Deletes every chunk file not in {@code live} (the chunks of the versions a host retains), and
     * the index of every seed file that no longer exists (chunks inside files are deleted with the file).
     *
     * @return how many chunk files were deleted
     */
    public int gc(Collection<String> live) {
        Set<String> keep = new HashSet<>(live);
        int deleted = 0;
        synchronized (seeds) {
            for (Seed s : List.copyOf(seeds.values())) {
                if (!Files.exists(s.file)) {
                    forget(s.file);
                    try {
                        Files.deleteIfExists(s.journalPath);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot delete " + s.journalPath, e);
                    }
                }
            }
        }
        try (var files = Files.walk(root.resolve("chunks"))) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                if (!keep.contains(p.getFileName().toString())) {
                    Files.deleteIfExists(p);
                    deleted++;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("chunk garbage collection failed", e);
        }
        return deleted;
    }

    /** A chunk's id and size. */
    public record ChunkInfo(String sha256, long sizeBytes) {
    }
}
