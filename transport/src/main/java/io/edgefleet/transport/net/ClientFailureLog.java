package io.edgefleet.transport.net;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One WARNING line, never a stack trace, per failure a client caused (a peer that disconnects in
 * the middle of a body, a request that is too large, a socket that went silent), rate-limited per
 * message key: at most {@code burst} lines per key, refilled at one line per {@code interval}
 * (a token bucket). Lines held back are counted and the count is reported on the next line the
 * key writes ("... (12 more like this since the last line)"), so nothing is hidden, only folded.
 *
 * <p>Thread-safe; {@link #log} never blocks. Units: nanoseconds from the injected clock.
 */
public final class ClientFailureLog {
    private final System.Logger log;
    private final int burst;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
    private final AtomicLong suppressed = new AtomicLong();

    /** A bucket for each key: 5 lines at once, then one every 10 s. */
    public ClientFailureLog(String loggerName) {
        this(System.getLogger(loggerName), 5, Duration.ofSeconds(10), System::nanoTime);
    }

    public ClientFailureLog(System.Logger log, int burst, Duration interval, LongSupplier nanoClock) {
        if (burst < 1 || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("burst must be >= 1 and interval > 0");
        }
        this.log = log;
        this.burst = burst;
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    /**
     * Writes {@code key + ": " + detail} at WARNING when the key's bucket has a token.
     *
     * @param key what kind of failure, e.g. "client disconnected mid-body"; also the rate-limit key
     * @param detail the instance: peer address, sizes; never an exception's stack
     * @return whether a line was written
     */
    public boolean log(String key, String detail) {
        Bucket b = buckets.computeIfAbsent(key, k -> new Bucket(burst, nanoClock.getAsLong()));
        long held;
        synchronized (b) {
            long now = nanoClock.getAsLong();
            long refill = (now - b.last) / intervalNanos;
            if (refill > 0) {
                b.tokens = (int) Math.min(burst, b.tokens + refill);
                b.last += refill * intervalNanos;
            }
            if (b.tokens == 0) {
                b.held++;
                suppressed.incrementAndGet();
                return false;
            }
            b.tokens--;
            held = b.held;
            b.held = 0;
        }
        log.log(System.Logger.Level.WARNING, held == 0 ? key + ": " + detail
                : key + ": " + detail + " (" + held + " more like this since the last line)");
        return true;
    }

    /** Lines held back so far, all keys together. */
    public long suppressed() {
        return suppressed.get();
    }

    private static final class Bucket {
        int tokens;
        long last;
        long held;

        Bucket(int tokens, long last) {
            this.tokens = tokens;
            this.last = last;
        }
    }
}
