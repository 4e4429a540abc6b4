package io.edgefleet.sync.server;

import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.ChunkRef;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.ManifestVariant;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.sync.chunks.ChunkStore;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * A variant's file as one HTTP representation: the concatenation of its chunks in manifest order,
 * read straight from the chunk store (no copy of the file is kept). {@link SyncRoutes} serves it at
 * {@code GET /sync/v1/variants/{model}/{version}/{variant}} with single byte ranges (RFC 9110 §14),
 * so a client fetches a run of consecutive missing chunks in one request. Thread-safe (stateless
 * apart from the sources it reads).
 */
final class VariantFiles {
    private static final int BUFFER_BYTES = 256 * 1024;

    private final ManifestSource manifests;
    private final ChunkStore chunks;
    private final MessageCodec json = MessageCodec.json();

    VariantFiles(ManifestSource manifests, ChunkStore chunks) {
        this.manifests = manifests;
        this.chunks = chunks;
    }

    /** Decoded manifests kept, by model and version (the least recently used dropped beyond). */
    private static final int DECODED_KEPT = 32;

    /** A decoded manifest and the stored bytes it came from. */
    private record Decoded(byte[] bytes, Manifest manifest) {
    }

    private final java.util.Map<String, Decoded> decoded = new java.util.LinkedHashMap<>(DECODED_KEPT, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(java.util.Map.Entry<String, Decoded> eldest) {
            return size() > DECODED_KEPT;
        }
    };

    /**
     * The manifest and variant, when both exist. The stored manifest is read on every call; its
     * decoded form is reused while the stored bytes are the same (a device fetches a file as a few
     * ranged requests, each of which decoded the ~100 KB manifest of a 64 MiB model again).
     */
    Optional<Located> find(String model, String version, String variant) {
        Optional<byte[]> bytes = manifests.manifest(model, version);
        if (bytes.isEmpty()) {
            return Optional.empty();
        }
        String key = model + "/" + version;
        Decoded d;
        synchronized (decoded) {
            d = decoded.get(key);
        }
        if (d == null || !java.util.Arrays.equals(d.bytes(), bytes.get())) {
            try {
                d = new Decoded(bytes.get(), json.decode(bytes.get(), Manifest.class));
            } catch (ProtocolException e) {
                throw new IllegalStateException("stored manifest " + model + "/" + version + " does not decode: " + e.getMessage(), e);
            }
            synchronized (decoded) {
                decoded.put(key, d);
            }
        }
        Manifest m = d.manifest();
        return m.variant(variant).map(v -> new Located(m, v));
    }

    /** A variant of a manifest; {@link #length()} is the sum of its chunk sizes. */
    record Located(Manifest manifest, ManifestVariant variant) {
        long length() {
            return variant.chunks().stream().mapToLong(ChunkRef::sizeBytes).sum();
        }
    }

    /** The first chunk of bytes {@code first..last} that the store lacks, if any (checked before a status is sent). */
    Optional<String> missing(ManifestVariant v, long first, long last) {
        long offset = 0;
        for (ChunkRef c : v.chunks()) {
            if (offset + c.sizeBytes() > first && offset <= last && chunks.file(c.sha256()).isEmpty()) {
                return Optional.of(c.sha256());
            }
            offset += c.sizeBytes();
        }
        return Optional.empty();
    }

    /** Writes bytes {@code first..last} (inclusive, zero-based) of the variant's file to {@code out}, chunk file by chunk file. */
    void write(ManifestVariant v, long first, long last, OutputStream out) throws IOException {
        byte[] buf = new byte[BUFFER_BYTES];
        ByteBuffer bb = ByteBuffer.wrap(buf);
        long offset = 0;
        for (ChunkRef c : v.chunks()) {
            long end = offset + c.sizeBytes(); // exclusive
            if (end > first && offset <= last) {
                long from = Math.max(first, offset) - offset;
                long to = Math.min(last + 1, end) - offset; // exclusive, within the chunk
                Path file = chunks.file(c.sha256()).orElseThrow(() -> new UncheckedIOException(new IOException("chunk " + c.sha256() + " vanished")));
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                    long pos = from;
                    while (pos < to) {
                        bb.clear().limit((int) Math.min(buf.length, to - pos));
                        int n = ch.read(bb, pos);
                        if (n < 0) {
                            throw new IOException("chunk " + c.sha256() + " is shorter than its manifest says");
                        }
                        out.write(buf, 0, n);
                        pos += n;
                    }
                }
            }
            if (offset > last) {
                break;
            }
            offset = end;
        }
    }
}
