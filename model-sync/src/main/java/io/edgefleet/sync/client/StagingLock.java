package io.edgefleet.sync.client;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Exclusive use of one staging file for the length of a download: an in-process lock (a stripe of
 * 64 by the path's hash: a {@link FileLock} cannot exclude two threads of one JVM) and an OS file
 * lock ({@code fcntl}; the kernel releases it when the process dies) on a sibling
 * {@code STAGING.lock} file, which excludes other processes syncing into the same folder. A second
 * download of the same file waits for the first, then finds its chunks indexed in the installed
 * file. The lock file (empty) stays: deleting it would let a waiter lock a file nobody else sees.
 *
 * <p>Close exactly once, on the thread that acquired it.
 */
final class StagingLock implements AutoCloseable {
    private static final ReentrantLock[] STRIPES = new ReentrantLock[64];

    static {
        for (int i = 0; i < STRIPES.length; i++) {
            STRIPES[i] = new ReentrantLock();
        }
    }

    private final ReentrantLock local;
    private final FileChannel channel;
    private final FileLock lock;

    private StagingLock(ReentrantLock local, FileChannel channel, FileLock lock) {
        this.local = local;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Blocks until this thread, and no other thread or process, holds {@code staging}.
     *
     * @throws SyncException (retriable) when the lock file cannot be created or locked
     */
    static StagingLock acquire(Path staging) {
        ReentrantLock local = STRIPES[Math.floorMod(staging.hashCode(), STRIPES.length)];
        local.lock();
        Path file = staging.resolveSibling(staging.getFileName() + ".lock");
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
            return new StagingLock(local, ch, ch.lock());
        } catch (IOException | RuntimeException e) {
            try {
                if (ch != null) {
                    ch.close();
                }
            } catch (IOException ignored) {
                // the lock was not taken
            }
            local.unlock();
            throw e instanceof IOException io ? new SyncException("cannot lock " + file + ": " + io.getMessage(), true, io)
                    : (RuntimeException) e;
        }
    }

    @Override
    public void close() {
        try {
            channel.close(); // releases the file lock
        } catch (IOException e) {
            // closing releases the lock in any case
        } finally {
            local.unlock();
        }
    }
}
