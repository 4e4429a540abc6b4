package io.edgefleet.engines.isolation;

import java.time.Duration;
import java.util.Optional;

/**
 * Limits of the verifier JVM.
 *
 * @param timeout the child is killed after this and the file refused as hanging the runtime
 * @param maxHeapMb the child's {@code -Xmx}; running out of it refuses the file
 * @param fault test-only fault injection: make the child crash natively, hang or run out of memory
 *     while "loading", to prove the parent survives each
 * @param shareVerdicts remember a file's successful verification by SHA-256 for this JVM, so many
 *     agents in one process (the simulator's fleet) verify identical bytes once; off for a real
 *     agent, which is the only one on its device anyway
 */
public record IsolationOptions(Duration timeout, int maxHeapMb, Optional<Fault> fault, boolean shareVerdicts) {
    public IsolationOptions(Duration timeout, int maxHeapMb, Optional<Fault> fault) {
        this(timeout, maxHeapMb, fault, false);
    }

    /** Faults a test can inject into the child. */
    public enum Fault {
        /** a native segmentation fault (a write to address 0), as a corrupt model does inside the C++ runtime */
        CRASH,
        /** the load never returns */
        HANG,
        /** the heap fills up */
        OOM
    }

    public IsolationOptions {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
        if (maxHeapMb < 16) {
            throw new IllegalArgumentException("maxHeapMb must be >= 16, got " + maxHeapMb);
        }
    }

    /** 60 s, 512 MiB of heap, no fault. */
    public static IsolationOptions defaults() {
        return new IsolationOptions(Duration.ofSeconds(60), 512, Optional.empty());
    }

    public IsolationOptions withTimeout(Duration t) {
        return new IsolationOptions(t, maxHeapMb, fault, shareVerdicts);
    }

    public IsolationOptions withMaxHeapMb(int mb) {
        return new IsolationOptions(timeout, mb, fault, shareVerdicts);
    }

    public IsolationOptions withFault(Fault f) {
        return new IsolationOptions(timeout, maxHeapMb, Optional.of(f), shareVerdicts);
    }

    public IsolationOptions withSharedVerdicts(boolean share) {
        return new IsolationOptions(timeout, maxHeapMb, fault, share);
    }
}
