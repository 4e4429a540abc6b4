package io.edgefleet.sync.client;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Starts writing a download's staging file back to disk while the rest of it is still arriving:
 * after every {@link #EVERY_BYTES} written, one background {@code fdatasync}
 * ({@link FileChannel#force force(false)}) on a thread of its own, never two at once. The disk then
 * works while the network does, and the one fsync that makes the file durable before its rename
 * ({@code force(true)}, still done by the caller) has only the tail left to write. Nothing depends
 * on these flushes for safety: a failed one is ignored. Thread-safe.
 */
final class Flusher implements AutoCloseable {
    /** Bytes written between background flushes. */
    static final long EVERY_BYTES = 8L << 20;

    private final FileChannel channel;
    private final AtomicLong pending = new AtomicLong();
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean closed;

    Flusher(Path file) throws IOException {
        // not interruptible by the fetch threads: a channel of its own, used only by the flushing thread
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    }

    /** Counts {@code bytes} written to the file; starts a flush when enough have piled up and none is running. */
    void wrote(long bytes) {
        if (pending.addAndGet(bytes) < EVERY_BYTES || closed || !busy.compareAndSet(false, true)) {
            return;
        }
        pending.set(0);
        Thread.ofPlatform().name("sync-flush").daemon().start(() -> {
            try {
                if (!closed) {
                    channel.force(false);
                }
            } catch (IOException e) {
                // only an early start on what the final fsync does anyway
            } finally {
                busy.set(false);
            }
        });
    }

    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            // nothing was written through it
        }
    }
}
