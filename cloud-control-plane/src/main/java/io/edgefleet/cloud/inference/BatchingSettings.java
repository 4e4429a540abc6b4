package io.edgefleet.cloud.inference;

import java.time.Duration;
import java.util.List;

/**
 * Dynamic batching per model: up to {@code maxBatch} compatible requests (same input names and
 * types, same shapes but for the batch dimension) run as one call, waiting at most
 * {@code maxDelay} for company after the first arrives; {@code queueCapacity} requests may wait
 * (beyond: 429); a request without its own deadline gets {@code defaultDeadline}.
 *
 * @param onCpu whether batching applies to a model that runs on the CPU execution provider only.
 *     {@link #defaults()} says no: on CPU a batched call computes the same rows in about the same
 *     time as the rows one by one (measured in docs/benchmarks.md, "Cloud batching on a
 *     convolutional model"), so batching only adds its wait; with a GPU provider (CUDA) it is on.
 *     Settings given explicitly (the four-argument constructor) apply on CPU too.
 */
public record BatchingSettings(int maxBatch, Duration maxDelay, int queueCapacity, Duration defaultDeadline, boolean onCpu) {
    public BatchingSettings {
        if (maxBatch < 1 || queueCapacity < 1) {
            throw new IllegalArgumentException("maxBatch and queueCapacity must be >= 1");
        }
        if (maxDelay.isNegative() || defaultDeadline.isNegative() || defaultDeadline.isZero()) {
            throw new IllegalArgumentException("maxDelay must be >= 0 and defaultDeadline > 0");
        }
    }

    /** Explicit settings: they apply whatever the execution provider, CPU included. */
    public BatchingSettings(int maxBatch, Duration maxDelay, int queueCapacity, Duration defaultDeadline) {
        this(maxBatch, maxDelay, queueCapacity, defaultDeadline, true);
    }

    /** Up to 32 rows, 0.5 ms for company, 1024 queued, a 10 s deadline; on GPU providers only (see {@link #onCpu}). */
    public static BatchingSettings defaults() {
        return new BatchingSettings(32, Duration.ofNanos(500_000), 1024, Duration.ofSeconds(10), false);
    }

    /** No batching: every request runs alone (the benchmark's baseline). */
    public BatchingSettings unbatched() {
        return new BatchingSettings(1, Duration.ZERO, queueCapacity, defaultDeadline, onCpu);
    }

    /**
     * The settings for a model loaded on {@code providers} (ONNX Runtime's execution providers as
     * the engine reports them, e.g. {@code [cuda, cpu]} or {@code [cpu]}; TFLite reports its
     * delegates): these settings when batching applies there, else {@link #unbatched()}. Batching
     * applies where any provider other than {@code cpu} or {@code xnnpack} is in use, or when
     * {@link #onCpu} is set.
     */
    public BatchingSettings forProviders(List<String> providers) {
        boolean accelerated = providers.stream().anyMatch(p -> !p.equalsIgnoreCase("cpu") && !p.equalsIgnoreCase("xnnpack"));
        return onCpu || accelerated || maxBatch == 1 ? this : unbatched();
    }
}
