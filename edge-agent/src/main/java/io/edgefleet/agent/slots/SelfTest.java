package io.edgefleet.agent.slots;

import io.edgefleet.engines.EngineException;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.TensorBuffers;
import io.edgefleet.protocols.oip.InferTensor;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Checks a candidate before it may become active: it runs on zero inputs of its declared
 * signature, gives the declared outputs, nothing non-finite, and it is not much slower than the
 * active version. A model whose dynamic dimensions make zeros an invalid input (its warm-up failed)
 * is judged on loading alone.
 *
 * <p>Latency is judged on paired, interleaved runs of the active version and the candidate on the
 * same zeros (warm-up pairs discarded; the order alternates ABAB.. BA..), decided by
 * {@link PairedComparison}: a sign test with an absolute floor, on wall-clock time and on the
 * thread's CPU time (each at 0.5 %), whose false-alarm chance for a candidate that is no slower is
 * at most 1 % per round whatever the load of the machine. A round
 * that finds the candidate too slow is confirmed by a second, independent round before the
 * candidate is refused (at most 1 in 10,000 then). Runs on the installing thread; the active
 * version keeps serving meanwhile (its runs here share its session pool with requests; when none
 * frees up in time the comparison is skipped and the watchdog remains the judge).
 */
public final class SelfTest {
    private static final System.Logger LOG = System.getLogger(SelfTest.class.getName());
    private static final int WARM_UP_PAIRS = 3;
    private static final java.lang.management.ThreadMXBean CPU = java.lang.management.ManagementFactory.getThreadMXBean();

    /**
     * Limits of the self-test's latency comparison ({@code agent.slots.*}).
     *
     * @param maxLatencyFactor a pair counts as slower when the candidate's run took longer than the active one's by more than
     *     ({@code maxLatencyFactor} - 1) times the faster version's usual time...
     * @param latencyFloorMillis ...and by more than this many milliseconds: a smaller slowdown never refuses a candidate
     * @param pairs the most pairs timed per round (at most 1,000)
     * @param minPairs the fewest pairs timed per round, whatever the budget (at least 10: fewer cannot reach 1 %)
     * @param budget a round stops adding pairs past {@code minPairs} once this time is spent (slow models)
     */
    public record Limits(double maxLatencyFactor, double latencyFloorMillis, int pairs, int minPairs, Duration budget) {
        public Limits {
            if (!(maxLatencyFactor >= 1.0)) {
                throw new IllegalArgumentException("max-latency-factor must be >= 1, got " + maxLatencyFactor);
            }
            if (!(latencyFloorMillis >= 0)) {
                throw new IllegalArgumentException("latency-floor-ms must be >= 0, got " + latencyFloorMillis);
            }
            if (minPairs < 10 || pairs < minPairs || pairs > 1000) {
                throw new IllegalArgumentException("self-test pairs must satisfy 10 <= min-pairs <= pairs <= 1000, got min-pairs "
                        + minPairs + " and pairs " + pairs);
            }
            if (budget.isNegative()) {
                throw new IllegalArgumentException("self-test budget must not be negative");
            }
        }

        /** Factor 3, floor 2 ms, 30 to 60 pairs, 3 s per round. */
        public static Limits defaults() {
            return new Limits(3.0, 2.0, 60, 30, Duration.ofSeconds(3));
        }

        public Limits withMaxLatencyFactor(double factor) {
            return new Limits(factor, latencyFloorMillis, pairs, minPairs, budget);
        }
    }

    private SelfTest() {
    }

    /**
     * @param active the active version to compare latency with; empty (no active version, or a
     *     rollback, which must never be refused for speed) skips the comparison
     * @return empty when the candidate passes, else why it fails
     */
    static Optional<String> check(LoadedModel candidate, Optional<LoadedModel> active, Limits limits) {
        if (candidate.stats().warmUpError().isPresent()) {
            return Optional.empty();
        }
        List<InferTensor> zeros = TensorBuffers.zeroInputs(candidate.signature().inputs());
        List<InferTensor> out;
        try {
            out = candidate.infer(zeros);
        } catch (EngineException e) {
            return Optional.of("self-test run failed: " + e.getMessage());
        }
        if (out.size() != candidate.signature().outputs().size()) {
            return Optional.of("self-test: " + out.size() + " outputs, the signature declares " + candidate.signature().outputs().size());
        }
        for (InferTensor t : out) {
            if (t.datatype().isFloatingPoint()) {
                for (float f : t.data().toFloatArray()) {
                    if (!Float.isFinite(f)) {
                        return Optional.of("self-test: output '" + t.name() + "' holds " + f + " on zero inputs");
                    }
                }
            }
        }
        if (active.isEmpty() || !active.get().signature().inputs().equals(candidate.signature().inputs())) {
            return Optional.empty();
        }
        return latency(active.get(), candidate, zeros, limits);
    }

    private static Optional<String> latency(LoadedModel active, LoadedModel candidate, List<InferTensor> in, Limits limits) {
        Round first;
        Round second;
        try {
            first = round(active, candidate, in, limits);
            if (!first.tooSlow()) {
                log(first, "passed");
                return Optional.empty();
            }
            second = round(active, candidate, in, limits);
        } catch (ActiveFailed e) {
            LOG.log(System.Logger.Level.WARNING, "self-test: latency not compared, the active version did not run: {0}", e.getMessage());
            return Optional.empty();
        } catch (EngineException e) {
            return Optional.of("self-test run failed: " + e.getMessage());
        }
        if (!second.tooSlow()) {
            log(second, "passed on confirmation (first round: " + first.describe() + ")");
            return Optional.empty();
        }
        return Optional.of("self-test: latency " + second.describe() + ", in two rounds");
    }

    /**
     * One round's two comparisons of the same pairs: by wall-clock time (what a client waits) and
     * by the installing thread's CPU time (what the model computes, where the runtime computes on
     * the calling thread, as it does with one intra-op thread: nearly blind to other processes'
     * load). Each is judged at half the round's false-alarm bound, so either refusing keeps the
     * round's bound (Bonferroni). {@code cpu} is null where the JVM cannot measure thread CPU time.
     */
    private record Round(PairedComparison wall, PairedComparison cpu) {
        boolean tooSlow() {
            return wall.tooSlow() || (cpu != null && cpu.tooSlow());
        }

        /** The comparison that refused (wall-clock time first: it is what clients wait), else both counts. */
        String describe() {
            if (wall.tooSlow() || cpu == null) {
                return wall.describe("wall-clock time");
            }
            if (cpu.tooSlow()) {
                return cpu.describe("CPU time");
            }
            return wall.describe("wall-clock time") + "; " + cpu.slower() + " of " + cpu.pairs() + " by CPU time";
        }
    }

    /** One round: warm-up pairs, then timed pairs with alternating order, within the budget. */
    private static Round round(LoadedModel active, LoadedModel candidate, List<InferTensor> in, Limits limits) {
        for (int i = 0; i < WARM_UP_PAIRS; i++) {
            run(active, in, true);
            run(candidate, in, false);
        }
        int max = limits.pairs();
        double[][] a = new double[2][max];
        double[][] c = new double[2][max];
        long deadline = System.nanoTime() + limits.budget().toNanos();
        int n = 0;
        while (n < max && (n < limits.minPairs() || System.nanoTime() - deadline < 0)) {
            if (n % 2 == 0) {
                store(a, n, run(active, in, true));
                store(c, n, run(candidate, in, false));
            } else {
                store(c, n, run(candidate, in, false));
                store(a, n, run(active, in, true));
            }
            n++;
        }
        double f = limits.maxLatencyFactor();
        double floor = limits.latencyFloorMillis();
        if (!CPU.isCurrentThreadCpuTimeSupported()) {
            return new Round(PairedComparison.of(Arrays.copyOf(a[0], n), Arrays.copyOf(c[0], n), f, floor), null);
        }
        double alpha = PairedComparison.ALPHA / 2;
        return new Round(PairedComparison.of(Arrays.copyOf(a[0], n), Arrays.copyOf(c[0], n), f, floor, alpha),
                PairedComparison.of(Arrays.copyOf(a[1], n), Arrays.copyOf(c[1], n), f, floor, alpha));
    }

    private static void store(double[][] into, int i, double[] wallAndCpu) {
        into[0][i] = wallAndCpu[0];
        into[1][i] = wallAndCpu[1];
    }

    /**
     * Runs {@code m} once; {wall-clock ms, this thread's CPU ms}. A failure of the active version is
     * the active version's, not the candidate's: it ends the comparison without blaming the candidate.
     */
    private static double[] run(LoadedModel m, List<InferTensor> in, boolean isActive) {
        boolean cpu = CPU.isCurrentThreadCpuTimeSupported();
        long c0 = cpu ? CPU.getCurrentThreadCpuTime() : 0;
        long t0 = System.nanoTime();
        try {
            m.infer(in);
        } catch (EngineException e) {
            if (isActive) {
                throw new ActiveFailed(e);
            }
            throw e;
        }
        long t1 = System.nanoTime();
        long c1 = cpu ? CPU.getCurrentThreadCpuTime() : 0;
        return new double[] {(t1 - t0) / 1e6, (c1 - c0) / 1e6};
    }

    private static void log(Round r, String outcome) {
        LOG.log(System.Logger.Level.DEBUG, "self-test latency {0}: {1}", outcome, r.describe());
    }

    /** Marks a failure of the active version during timing: the comparison is skipped, the candidate not blamed. */
    private static final class ActiveFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ActiveFailed(EngineException cause) {
            super(cause.getMessage(), cause);
        }
    }
}
