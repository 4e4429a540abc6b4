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
 */
public final class ChunkStore {
    private final Path root;

    public ChunkStore(Path root) {
        this.root = root;
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
        return Files.isRegularFile(path(sha256));
    }

    public Optional<Path> file(String sha256) {
        Path p = path(sha256);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    /**
     * Stores bytes under their hash.
     *
     * @throws ChunkMismatchException when {@code expectedSha256} is given and the bytes hash otherwise
     */
    public String put(byte[] data, int offset, int length, Optional<String> expectedSha256) {
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
            return Files.readAllBytes(path(sha256));
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
