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

/**
 * Builds a variant's file from the store: every chunk's hash checked (except those the caller
 * hashed as it wrote them in this process), the whole file's hashed as it is written; fsync, rename.
 */
public final class Assembler {
    private Assembler() {
    }

    /**
     * @return the damaged or missing chunks (the file is not placed then), or an empty list once it is in place
     * @throws SyncException when every chunk verifies but the whole file does not match the manifest
     */
    public static List<String> assemble(ChunkStore store, ManifestVariant v, Path target) {
        return assemble(store, v, target, java.util.Set.of());
    }

    /**
     * @param verified chunks whose store files this process wrote from bytes it hashed to their
     *     id (the download just now): not hashed again
     * @return the damaged or missing chunks (the file is not placed then), or an empty list once it is in place
     * @throws SyncException when every chunk verifies but the whole file does not match the manifest
     */
    public static List<String> assemble(ChunkStore store, ManifestVariant v, Path target, java.util.Set<String> verified) {
        try {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = dir.resolve(target.getFileName() + ".part-" + java.util.UUID.randomUUID());
            MessageDigest d = Sha256.digest();
            List<String> damaged = new ArrayList<>();
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (ChunkRef c : v.chunks()) {
                    byte[] data = store.has(c.sha256()) ? store.read(c.sha256()) : new byte[0];
                    if (data.length != c.sizeBytes() || !(verified.contains(c.sha256()) || Sha256.hex(data).equals(c.sha256()))) {
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
}
