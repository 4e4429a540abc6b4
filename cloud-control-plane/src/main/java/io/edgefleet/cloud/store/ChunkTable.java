package io.edgefleet.cloud.store;

import io.edgefleet.sync.chunks.ChunkStore;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.Optional;

/**
 * Model chunks in the database (table {@code chunks}, BYTEA on PostgreSQL): the {@link ChunkStore.Backing}
 * that lets every control-plane replica on one database serve every chunk any of them stored
 * (issue 18). Each chunk is one row written once ({@code ON CONFLICT DO NOTHING}: chunks are named by
 * their hash, so a second writer holds the same bytes). Chunks are at most FastCDC's maximum size
 * (a few hundred KiB), well inside a BYTEA value. Thread-safe.
 */
public final class ChunkTable implements ChunkStore.Backing {
    private final CloudStore store;
    private final Clock clock;

    public ChunkTable(CloudStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    @Override
    public void write(String sha256, byte[] data, int offset, int length) {
        byte[] bytes = offset == 0 && length == data.length ? data : java.util.Arrays.copyOfRange(data, offset, offset + length);
        store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO chunks (sha256, data, size_bytes, created_at) VALUES (?, ?, ?, ?) "
                    + "ON CONFLICT DO NOTHING")) {
                p.setString(1, sha256);
                p.setBytes(2, bytes);
                p.setLong(3, length);
                p.setLong(4, clock.millis());
                return p.executeUpdate();
            }
        });
    }

    @Override
    public Optional<byte[]> read(String sha256) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT data FROM chunks WHERE sha256 = ?")) {
                p.setString(1, sha256);
                try (ResultSet r = p.executeQuery()) {
                    return r.next() ? Optional.of(r.getBytes(1)) : Optional.empty();
                }
            }
        });
    }
}
