package io.edgefleet.cloud.inference;

import java.time.Duration;

/**
 * Dynamic batching per model: up to {@code maxBatch} compatible requests (same input names and
 * types, same shapes but for the batch dimension) run as one call, waiting at most
 * {@code maxDelay} for company after the first arrives; {@code queueCapacity} requests may wait
 * (beyond: 429); a request without its own deadline gets {@code defaultDeadline}.
 */
public record BatchingSettings(int maxBatch, Duration maxDelay, int queueCapacity, Duration defaultDeadline) {
    public BatchingSettings {
        if (maxBatch < 1 || queueCapacity < 1) {
            throw new IllegalArgumentException("maxBatch and queueCapacity must be >= 1");
        }
        if (maxDelay.isNegative() || defaultDeadline.isNegative() || defaultDeadline.isZero()) {
            throw new IllegalArgumentException("maxDelay must be >= 0 and defaultDeadline > 0");
        }
    }

    public static BatchingSettings defaults() {
        return new BatchingSettings(32, Duration.ofNanos(500_000), 1024, Duration.ofSeconds(10));
    }

    /** No batching: every request runs alone (the benchmark's baseline). */
    public BatchingSettings unbatched() {
        return new BatchingSettings(1, Duration.ZERO, queueCapacity, defaultDeadline);
    }
}
