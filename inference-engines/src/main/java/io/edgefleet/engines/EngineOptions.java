package io.edgefleet.engines;

import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.protocols.manifest.Accelerator;
import java.time.Duration;
import java.util.List;

/**
 * How to load a model.
 *
 * @param threads intra-op threads per session/interpreter
 * @param useXnnpack TFLite: use the XNNPACK delegate for float ops
 * @param providers ONNX Runtime execution providers in order of preference, e.g. {@code [cuda, cpu]};
 *     a provider that is missing or throws is skipped with a log line, and {@code cpu} always remains
 * @param poolSize sessions/interpreters per model; 0 sizes it from cores and the memory budget
 * @param memoryBudgetBytes native memory the model's pool may take; bounds an automatic pool size
 * @param warmUp run once on zeros after loading, so the first request does not pay for lazy setup
 * @param acquireTimeout how long a call waits for a free session before {@link EngineBusyException}
 * @param maxRequestBytes the memory one request may need, bytes: its inputs plus every output whose
 *     shape the model fixes or ties to an input ({@link InputRules}); a request over it is refused
 *     with {@link InvalidInputException} before the native call. A quarter of the memory budget
 *     unless set.
 */
public record EngineOptions(int threads, boolean useXnnpack, List<String> providers, int poolSize,
        long memoryBudgetBytes, boolean warmUp, Duration acquireTimeout, long maxRequestBytes) {
    /** Options whose per-request bound is a quarter of {@code memoryBudgetBytes}. */
    public EngineOptions(int threads, boolean useXnnpack, List<String> providers, int poolSize,
            long memoryBudgetBytes, boolean warmUp, Duration acquireTimeout) {
        this(threads, useXnnpack, providers, poolSize, memoryBudgetBytes, warmUp, acquireTimeout, Math.max(1, memoryBudgetBytes / 4));
    }

    public EngineOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        providers = List.copyOf(providers);
        if (poolSize < 0) {
            throw new IllegalArgumentException("poolSize must be >= 0, got " + poolSize);
        }
        if (memoryBudgetBytes < 1) {
            throw new IllegalArgumentException("memoryBudgetBytes must be >= 1, got " + memoryBudgetBytes);
        }
        if (acquireTimeout.isNegative()) {
            throw new IllegalArgumentException("acquireTimeout must not be negative");
        }
        if (maxRequestBytes < 1) {
            throw new IllegalArgumentException("maxRequestBytes must be >= 1, got " + maxRequestBytes);
        }
    }

    /** One thread per session, XNNPACK on, CPU only, automatic pool, 256 MiB, warm-up on, 1 s acquire timeout, 64 MiB per request. */
    public static EngineOptions defaults() {
        return new EngineOptions(1, true, List.of("cpu"), 0, 256L << 20, true, Duration.ofSeconds(1));
    }

    /**
     * Options for a device: CUDA first when it has a CUDA GPU, XNNPACK on (every profile's CPU is
     * ARM or x86 with SIMD), one thread per session on small devices and two where there are 8
     * cores or more (concurrency comes from the pool), a memory budget of an eighth of its RAM and
     * a quarter of that per request.
     */
    public static EngineOptions forProfile(DeviceProfile p) {
        List<String> providers = p.has(Accelerator.CUDA_GPU) ? List.of("cuda", "cpu") : List.of("cpu");
        int threads = p.cores() >= 8 ? 2 : 1;
        return new EngineOptions(threads, true, providers, 0, Math.max(16L << 20, ((long) p.memoryMb() << 20) / 8), true,
                Duration.ofSeconds(1));
    }

    public EngineOptions withPoolSize(int size) {
        return new EngineOptions(threads, useXnnpack, providers, size, memoryBudgetBytes, warmUp, acquireTimeout, maxRequestBytes);
    }

    public EngineOptions withThreads(int n) {
        return new EngineOptions(n, useXnnpack, providers, poolSize, memoryBudgetBytes, warmUp, acquireTimeout, maxRequestBytes);
    }

    public EngineOptions withXnnpack(boolean on) {
        return new EngineOptions(threads, on, providers, poolSize, memoryBudgetBytes, warmUp, acquireTimeout, maxRequestBytes);
    }

    public EngineOptions withProviders(List<String> list) {
        return new EngineOptions(threads, useXnnpack, list, poolSize, memoryBudgetBytes, warmUp, acquireTimeout, maxRequestBytes);
    }

    public EngineOptions withWarmUp(boolean on) {
        return new EngineOptions(threads, useXnnpack, providers, poolSize, memoryBudgetBytes, on, acquireTimeout, maxRequestBytes);
    }

    public EngineOptions withAcquireTimeout(Duration timeout) {
        return new EngineOptions(threads, useXnnpack, providers, poolSize, memoryBudgetBytes, warmUp, timeout, maxRequestBytes);
    }

    public EngineOptions withMaxRequestBytes(long bytes) {
        return new EngineOptions(threads, useXnnpack, providers, poolSize, memoryBudgetBytes, warmUp, acquireTimeout, bytes);
    }

    /**
     * The pool size to use for a model file of {@code modelBytes}: {@link #poolSize()} when set,
     * else as many as the cores allow ({@code cores / threads}) within the memory budget, taking a
     * session's native footprint as twice the file plus 4 MiB of arena; never less than 1.
     */
    public int effectivePoolSize(long modelBytes, int cores) {
        if (poolSize > 0) {
            return poolSize;
        }
        long perSession = 2 * modelBytes + (4L << 20);
        long byMemory = Math.max(1, memoryBudgetBytes / perSession);
        long byCores = Math.max(1, cores / threads);
        return (int) Math.min(byMemory, byCores);
    }
}
