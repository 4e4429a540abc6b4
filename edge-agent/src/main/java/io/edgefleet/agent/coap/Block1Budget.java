package io.edgefleet.agent.coap;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.californium.core.coap.BlockOption;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;

/**
 * Bounds the memory that unfinished block-wise uploads (RFC 7959 Block1) can hold. Californium
 * allocates a transfer's whole buffer when its first block arrives: the Size1 the client declares,
 * or without one {@code MAX_RESOURCE_BODY_SIZE}; nothing bounded how many such buffers a peer could
 * open (an attack found 14 one-kilobyte datagrams declaring Size1 16 MB enough to exhaust a 256 MiB
 * heap). This interceptor, which sees each request before Californium's block-wise layer, reserves
 * each open transfer's buffer against a budget ({@code budgetBytes}); a transfer that would exceed it
 * gets a one-byte limit, which Californium answers with 4.13 Request Entity Too Large (RFC 7959
 * section 2.9.3), allocating nothing. A reservation ends with the transfer's last block or after
 * {@code lifetimeMillis} without a block (Californium's block-wise status lifetime, set to the same
 * value). A Size1 outside 0..2^31-1 (read as negative) is dropped rather than passed on to an
 * allocation that would throw. Thread-safe (Californium's receive threads).
 */
final class Block1Budget extends MessageInterceptorAdapter {
    private final int maxBodyBytes;
    private final long budgetBytes;
    private final long lifetimeNanos;
    private final Map<String, Reservation> open = new ConcurrentHashMap<>();

    private record Reservation(long bytes, long lastSeenNanos) {
    }

    Block1Budget(int maxBodyBytes, long budgetBytes, long lifetimeMillis) {
        this.maxBodyBytes = maxBodyBytes;
        this.budgetBytes = budgetBytes;
        this.lifetimeNanos = lifetimeMillis * 1_000_000L;
    }

    @Override
    public void receiveRequest(Request request) {
        BlockOption block1 = request.getOptions().getBlock1();
        if (block1 == null) {
            return;
        }
        if (request.getOptions().hasSize1() && request.getOptions().getSize1() < 0) {
            request.getOptions().removeSize1();
        }
        String key = request.getSourceContext().getPeerAddress() + " " + request.getOptions().getUriPathString();
        long now = System.nanoTime();
        if (!block1.isM()) {
            open.remove(key);
            return;
        }
        synchronized (this) {
            Reservation mine = open.get(key);
            if (mine != null) {
                open.put(key, new Reservation(mine.bytes(), now));
                return;
            }
            open.values().removeIf(r -> now - r.lastSeenNanos() > lifetimeNanos);
            long wanted = request.getOptions().hasSize1() ? Math.min(request.getOptions().getSize1(), maxBodyBytes) : maxBodyBytes;
            long reserved = open.values().stream().mapToLong(Reservation::bytes).sum();
            if (reserved + wanted > budgetBytes) {
                request.setMaxResourceBodySize(1);
                return;
            }
            open.put(key, new Reservation(wanted, now));
        }
    }

    /** Bytes reserved by open transfers now (for tests). */
    synchronized long reservedBytes() {
        return open.values().stream().mapToLong(Reservation::bytes).sum();
    }
}
