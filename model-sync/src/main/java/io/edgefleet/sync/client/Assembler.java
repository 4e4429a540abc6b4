package io.edgefleet.sync.client;

import io.edgefleet.protocols.manifest.ChunkRef;
import io.edgefleet.protocols.manifest.ManifestVariant;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.chunks.Sha256;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Builds a variant's file from the store, fsyncs it and renames it into place. */
public final class Assembler {
    private Assembler() {
    }

    /**
     * Every chunk's hash checked, then the whole file's (the cloud's assembly from its own store).
     *
     * @return the damaged or missing chunks (the file is not placed then), or an empty list once it is in place
     * @throws SyncException when every chunk verifies but the whole file does not match the manifest
     */
    public static List<String> assemble(ChunkStore store, ManifestVariant v, Path target) {
        try {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = dir.resolve(target.getFileName() + ".part-" + java.util.UUID.randomUUID());
            MessageDigest d = Sha256.digest();
            List<String> damaged = new ArrayList<>();
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (ChunkRef c : v.chunks()) {
                    byte[] data = store.has(c.sha256()) ? store.read(c.sha256()) : new byte[0];
                    if (data.length != c.sizeBytes() || !Sha256.hex(data).equals(c.sha256())) {
                        if (!damaged.contains(c.sha256())) {
                            damaged.add(c.sha256());
                        }
                        continue;
                    }
                    d.update(data);
                    ch.write(java.nio.ByteBuffer.wrap(data));
                }
                if (damaged.isEmpty()) {
                    ch.force(true);
                }
            }
            if (!damaged.isEmpty()) {
                Files.deleteIfExists(tmp);
                return damaged;
            }
            String sha = HexFormat.of().formatHex(d.digest());
            if (!sha.equals(v.sha256())) {
                Files.deleteIfExists(tmp);
                throw new SyncException("variant " + v.id() + ": the assembled file hashes to " + sha + ", the manifest says " + v.sha256(), false, null);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return List.of();
        } catch (IOException e) {
            throw new SyncException("cannot assemble " + target + ": " + e.getMessage(), true, e);
        }
    }

    /**
     * The download path's assembly: one pass less than {@link #assemble(ChunkStore, ManifestVariant, Path)}.
     * Chunks in {@code verified} (their store files written by this process from bytes it hashed to
     * their id, just now) are copied into the file by the kernel ({@link FileChannel#transferTo}: no
     * read into the JVM, no second hash); every other chunk (reused from the store, possibly torn by
     * a power cut since) is read and hashed. The whole file is not hashed again: every byte of it is
     * then a byte of a chunk checked against the signed manifest's digest, in the signed order (and
     * {@link ManifestVariant} holds that they add up to its {@code sizeBytes}). The manifest's
     * whole-file SHA-256 stays the check of a file judged as a whole (a file already at the target,
     * the agent's activation, {@code model verify}, the cloud's assembly).
     *
     * @return the damaged or missing chunks (the file is not placed then), or an empty list once it is in place
     * @throws SyncException (retriable) when the file cannot be written
     */
    public static List<String> assemble(ChunkStore store, ManifestVariant v, Path target, java.util.Set<String> verified) {
        try {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = dir.resolve(target.getFileName() + ".part-" + java.util.UUID.randomUUID());
            List<String> damaged = new ArrayList<>();
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                long pos = 0;
                for (ChunkRef c : v.chunks()) {
                    if (!copy(store, c, verified.contains(c.sha256()), ch, pos) && !damaged.contains(c.sha256())) {
                        damaged.add(c.sha256());
                    }
                    pos += c.sizeBytes();
                }
                if (damaged.isEmpty()) {
                    ch.force(true);
                }
            }
            if (!damaged.isEmpty()) {
                Files.deleteIfExists(tmp);
                return damaged;
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return List.of();
        } catch (IOException e) {
            throw new SyncException("cannot assemble " + target + ": " + e.getMessage(), true, e);
        }
    }

    /** Writes one chunk at {@code pos}; false when it is missing, of the wrong size, or (not verified) hashes otherwise. */
    private static boolean copy(ChunkStore store, ChunkRef c, boolean verified, FileChannel out, long pos) throws IOException {
        java.util.Optional<Path> file = store.file(c.sha256());
        if (file.isEmpty()) {
            return false;
        }
        try (FileChannel in = FileChannel.open(file.get(), StandardOpenOption.READ)) {
            if (in.size() != c.sizeBytes()) {
                return false;
            }
            if (verified) {
                long done = 0;
                while (done < c.sizeBytes()) {
                    done += in.transferTo(done, c.sizeBytes() - done, out.position(pos + done));
                }
                return true;
            }
            java.nio.ByteBuffer data = java.nio.ByteBuffer.allocate((int) c.sizeBytes());
            while (data.hasRemaining() && in.read(data) >= 0) {
                // fill
            }
            data.flip();
            MessageDigest d = Sha256.digest();
            d.update(data.duplicate());
            if (!HexFormat.of().formatHex(d.digest()).equals(c.sha256())) {
                return false;
            }
            while (data.hasRemaining()) {
                pos += out.write(data, pos);
            }
            return true;
        }
    }
}
