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
 */
public final class ChunkStore {
    private final Path root;
    private final Optional<Backing> backing;

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
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create chunk store " + root, e);
        }
    }

    public Path root() {
        return root;
    }

    Path path(String sha256) {
        return root.resolve("chunks").resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    public boolean has(String sha256) {
        return file(sha256).isPresent();
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

    /** Deletes one chunk (a reader found it damaged). */
    public void delete(String sha256) {
        try {
            Files.deleteIfExists(path(sha256));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public byte[] read(String sha256) {
        try {
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
     * Deletes every chunk not in {@code live} (the chunks of the versions a host retains).
     *
     * @return how many chunks were deleted
     */
    public int gc(Collection<String> live) {
        Set<String> keep = new HashSet<>(live);
        int deleted = 0;
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
