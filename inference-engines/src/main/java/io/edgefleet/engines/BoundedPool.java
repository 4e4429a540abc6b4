package io.edgefleet.engines;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A fixed set of native sessions handed out one caller at a time. Callers wait at most the
 * acquire timeout; there is no unbounded queue. {@link #close} takes every item back (waiting for
 * running calls up to a limit) and closes them. Thread-safe.
 */
public final class BoundedPool<T> implements AutoCloseable {
    private final BlockingQueue<T> idle;
    private final List<T> all;
    private final Consumer<T> closer;
    private final String what;
    private volatile boolean closed;

    public BoundedPool(List<T> items, Consumer<T> closer, String what) {
        this.all = List.copyOf(items);
        this.idle = new ArrayBlockingQueue<>(Math.max(1, all.size()), true, all);
        this.closer = closer;
        this.what = what;
    }

    public int size() {
        return all.size();
    }

    /**
     * @throws EngineBusyException when nothing frees up within {@code timeout}, or the pool is closed
     */
    public T acquire(Duration timeout) {
        if (closed) {
            throw new EngineBusyException(what + " is closed");
        }
        try {
            T t = idle.poll();
            if (t == null) {
                t = idle.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
            }
            if (t == null) {
                throw new EngineBusyException(what + ": all " + all.size() + " sessions busy for " + timeout.toMillis() + " ms");
            }
            if (closed) {
                idle.offer(t);
                throw new EngineBusyException(what + " is closed");
            }
            return t;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineBusyException(what + ": interrupted while waiting for a session");
        }
    }

    public void release(T item) {
        idle.offer(item);
    }

    /** Items for a one-off pass over all of them while nobody else holds any (warm-up). */
    public List<T> items() {
        return all;
    }

    @Override
    public void close() {
        closed = true;
        List<T> taken = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (taken.size() < all.size() && System.nanoTime() < deadline) {
            try {
                T t = idle.poll(100, TimeUnit.MILLISECONDS);
                if (t != null) {
                    taken.add(t);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        // Items still in use after the grace period are closed too: a stuck native call must not leak the rest.
        for (T t : all) {
            closer.accept(t);
        }
    }
}
