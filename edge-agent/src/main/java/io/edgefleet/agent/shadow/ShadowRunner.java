package io.edgefleet.agent.shadow;

import io.edgefleet.agent.slots.Lease;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.protocols.manifest.Quantization;
import io.edgefleet.protocols.messages.ShadowStats;
import io.edgefleet.protocols.oip.InferTensor;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Runs a model's shadow candidate (loaded by a {@code shadow} command, {@link ModelSlots#loadShadow}) on a sampled
 * share of the live requests of the active version, <em>after</em> their answer was produced and off the answer path,
 * and keeps per (model, active version) what it saw until the telemetry window takes it ({@link #drain}). Spec and
 * reasoning: docs/shadow.md.
 *
 * <p>Per sampled request, on the runner's one thread: the candidate and the active version run back to back on the
 * request's inputs, in alternating order (neither gains from going first); the candidate's answer is compared with the
 * answer the client got ({@link Agreement}), the two model times give one latency ratio (paired: same input, same
 * thread, same moment's load).
 *
 * <p>Never delays or changes an answer: {@link #offer} only decides the sample (a counter, no lock held across the
 * decision and the hand-over) and hands the references to a bounded queue; a full queue, or a spent CPU budget, drops
 * the sample at once and counts it. Dropping is first: the runner has no other way to cope with load.
 *
 * <p>Threads: {@link #offer} on inference threads (cheap); the runs on one platform thread {@code agent-shadow} of the
 * lowest priority, a queue of {@link Settings#queueCapacity()} samples; {@link #drain} on the telemetry thread.
 */
public final class ShadowRunner implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ShadowRunner.class.getName());
    /** Latency ratios kept per tally (window); beyond, later ones are not kept (their samples still count). */
    static final int MAX_RATIOS = 4096;

    /**
     * Settings of the shadow runner ({@code agent.shadow.*}).
     *
     * @param share share of the active version's answered requests the candidate runs on, (0, 1]; 0.1 by default
     * @param queueCapacity samples waiting for the runner at most; beyond, a sample is dropped (16)
     * @param cpuShare the most the runner may keep one core busy, (0, 1]: a token bucket refilled at this share of wall
     *     time, holding at most {@link #BURST} of it; while it is empty samples are dropped (0.25)
     * @param absTolerance regressors: absolute tolerance of an element (1e-3)
     * @param relTolerance regressors: tolerance relative to the active version's element (1e-2)
     */
    public record Settings(double share, int queueCapacity, double cpuShare, double absTolerance, double relTolerance) {
        /** How many seconds of budget the bucket holds at most (a burst after an idle spell). */
        public static final Duration BURST = Duration.ofSeconds(2);

        public Settings {
            if (!(share > 0 && share <= 1)) {
                throw new IllegalArgumentException("shadow share must be in (0, 1], got " + share);
            }
            if (queueCapacity < 1 || queueCapacity > 10_000) {
                throw new IllegalArgumentException("shadow queue-capacity must be 1..10000, got " + queueCapacity);
            }
            if (!(cpuShare > 0 && cpuShare <= 1)) {
                throw new IllegalArgumentException("shadow cpu-share must be in (0, 1], got " + cpuShare);
            }
            if (!(absTolerance >= 0 && relTolerance >= 0 && Double.isFinite(absTolerance) && Double.isFinite(relTolerance))) {
                throw new IllegalArgumentException("shadow abs-tolerance and rel-tolerance must be finite and >= 0");
            }
        }

        /** 10 % of the requests, 16 queued, a quarter of one core, tolerances 1e-3 absolute and 1e-2 relative. */
        public static Settings defaults() {
            return new Settings(0.1, 16, 0.25, 1e-3, 1e-2);
        }

        public Settings withShare(double s) {
            return new Settings(s, queueCapacity, cpuShare, absTolerance, relTolerance);
        }

        public Settings withQueueCapacity(int n) {
            return new Settings(share, n, cpuShare, absTolerance, relTolerance);
        }

        public Settings withCpuShare(double s) {
            return new Settings(share, queueCapacity, s, absTolerance, relTolerance);
        }
    }

    private final ModelSlots slots;
    private volatile Settings settings;
    private final ExecutorService runs;
    private final LongSupplier nanoTime;
    private final Map<String, AtomicLong> seen = new ConcurrentHashMap<>();
    private final Map<Key, Tally> tallies = new ConcurrentHashMap<>();
    private final Object bucketLock = new Object();
    private double budgetNanos;
    private long refilledAt;

    public ShadowRunner(ModelSlots slots, Settings settings) {
        this(slots, settings, new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(settings.queueCapacity()), r -> {
            Thread t = new Thread(r, "agent-shadow");
            t.setDaemon(true);
            t.setPriority(Thread.MIN_PRIORITY);
            t.setUncaughtExceptionHandler((th, e) -> LOG.log(System.Logger.Level.ERROR, "shadow run failed", e));
            return t;
        }), System::nanoTime);
    }

    /** With an executor of the caller's (tests: one they can hold busy to fill its queue) and a nanosecond clock. */
    ShadowRunner(ModelSlots slots, Settings settings, ExecutorService runs, LongSupplier nanoTime) {
        this.slots = slots;
        this.settings = settings;
        this.runs = runs;
        this.nanoTime = nanoTime;
        this.budgetNanos = burstNanos();
        this.refilledAt = nanoTime.getAsLong();
    }

    public Settings settings() {
        return settings;
    }

    /**
     * Changes the share, CPU share and tolerances from the next sample on; the queue keeps the capacity it was built with.
     * Any thread.
     */
    public void configure(Settings s) {
        this.settings = java.util.Objects.requireNonNull(s);
    }

    private double burstNanos() {
        return settings.cpuShare() * Settings.BURST.toNanos();
    }

    /**
     * An answered request of {@code model}'s active {@code version}; called on the inference path after the answer was
     * produced. Does nothing unless the model has a shadow candidate; otherwise takes every {@code 1/share}-th request
     * (a counter: exactly {@code share} of them) and hands it to the runner, or counts it dropped. Never blocks.
     *
     * @param inputs the request's inputs; outputs the answer the client got (both kept by reference until the run)
     */
    public void offer(String model, String version, List<InferTensor> inputs, List<InferTensor> outputs) {
        Optional<String> candidate = slots.shadowVersion(model);
        if (candidate.isEmpty()) {
            return;
        }
        long n = seen.computeIfAbsent(model, m -> new AtomicLong()).getAndIncrement();
        if (Math.floor((n + 1) * settings.share()) <= Math.floor(n * settings.share())) {
            return;
        }
        Tally t = tally(model, version, candidate.get());
        if (!takeBudget()) {
            t.dropped();
            return;
        }
        try {
            runs.execute(() -> run(model, version, candidate.get(), n, inputs, outputs, t));
        } catch (RejectedExecutionException e) {
            t.dropped(); // the queue is full (or the runner closed): dropped first, counted
        }
    }

    private Tally tally(String model, String version, String candidate) {
        Key k = new Key(model, version);
        return tallies.compute(k, (key, t) -> t != null && t.candidate.equals(candidate) ? t
                : new Tally(candidate, slots.shadowRollout(model)));
    }

    /** Refills the bucket for the time passed; false (nothing taken) when it is empty. */
    private boolean takeBudget() {
        synchronized (bucketLock) {
            long now = nanoTime.getAsLong();
            budgetNanos = Math.min(burstNanos(), budgetNanos + settings.cpuShare() * (now - refilledAt));
            refilledAt = now;
            return budgetNanos > 0;
        }
    }

    private void spend(long nanos) {
        synchronized (bucketLock) {
            budgetNanos -= nanos;
        }
    }

    private void run(String model, String version, String candidate, long index, List<InferTensor> inputs, List<InferTensor> answer,
            Tally t) {
        long start = nanoTime.getAsLong();
        try (Lease shadow = candidateLease(model, candidate);
                Lease active = shadow == null ? null : slots.lease(model, Optional.of(version))) {
            if (shadow == null) {
                t.dropped(); // the candidate was unloaded meanwhile
                return;
            }
            boolean candidateFirst = index % 2 == 0;
            List<InferTensor> out;
            double candidateMillis;
            double activeMillis;
            if (candidateFirst) {
                long t0 = nanoTime.getAsLong();
                out = runCandidate(shadow, inputs);
                long t1 = nanoTime.getAsLong();
                active.model().infer(inputs);
                long t2 = nanoTime.getAsLong();
                candidateMillis = (t1 - t0) / 1e6;
                activeMillis = (t2 - t1) / 1e6;
            } else {
                long t0 = nanoTime.getAsLong();
                active.model().infer(inputs);
                long t1 = nanoTime.getAsLong();
                out = runCandidate(shadow, inputs);
                long t2 = nanoTime.getAsLong();
                activeMillis = (t1 - t0) / 1e6;
                candidateMillis = (t2 - t1) / 1e6;
            }
            Optional<Quantization> q = active.model().signature().outputs().isEmpty() ? Optional.empty()
                    : active.model().signature().outputs().get(0).quantization();
            Agreement a = out == null ? new Agreement(false, false, Double.NaN)
                    : Agreement.of(answer, out, q, settings.absTolerance(), settings.relTolerance());
            t.add(a, activeMillis > 0 && candidateMillis > 0 ? candidateMillis / activeMillis : Double.NaN, activeMillis);
        } catch (RuntimeException e) {
            // the active version was swapped meanwhile, or it failed where the live request did not: no sample
            t.dropped();
        } finally {
            spend(nanoTime.getAsLong() - start);
        }
    }

    /**
     * A lease on {@code model}'s shadow candidate if it is still {@code candidate}; null otherwise. A lease on another
     * version (a newer shadow loaded since the sample was taken) is closed here: dropped unclosed, it would hold that
     * version's native model in memory for good.
     */
    private Lease candidateLease(String model, String candidate) {
        Optional<Lease> l = slots.shadow(model);
        if (l.isPresent() && !l.get().version().equals(candidate)) {
            l.get().close();
            return null;
        }
        return l.orElse(null);
    }

    /** The candidate's answer, or null when it failed (a sample that does not agree). */
    private static List<InferTensor> runCandidate(Lease shadow, List<InferTensor> inputs) {
        try {
            return shadow.model().infer(inputs);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "shadow candidate {0} of {1} failed on a sampled request: {2}", shadow.version(),
                    shadow.modelName(), e.getMessage());
            return null;
        }
    }

    /**
     * What the shadow did next to {@code model}'s {@code version} since the last drain, and starts anew; empty when
     * it sampled nothing. Called by the telemetry recorder when it closes a window.
     */
    public Optional<ShadowStats> drain(String model, String version) {
        Tally t = tallies.remove(new Key(model, version));
        return t == null ? Optional.empty() : t.stats();
    }

    /** Waits until no sample is queued or running (tests, before they drain). */
    public void awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (runs instanceof ThreadPoolExecutor p && (p.getActiveCount() > 0 || !p.getQueue().isEmpty()) && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
    }

    @Override
    public void close() {
        runs.shutdownNow();
    }

    private static double median(double[] values, int n) {
        double[] r = Arrays.copyOf(values, n);
        Arrays.sort(r);
        return n % 2 == 1 ? r[n / 2] : (r[n / 2 - 1] + r[n / 2]) / 2;
    }

    private record Key(String model, String version) {
    }

    /** One window's counts for one (model, active version) and candidate. Thread-safe. */
    private static final class Tally {
        final String candidate;
        final Optional<String> rollout;
        long samples;
        long agreements;
        long nonFinite;
        long dropped;
        double confidenceSum;
        long confidenceN;
        final double[] ratios = new double[MAX_RATIOS];
        final double[] actives = new double[MAX_RATIOS];
        int ratioN;

        Tally(String candidate, Optional<String> rollout) {
            this.candidate = candidate;
            this.rollout = rollout;
        }

        synchronized void dropped() {
            dropped++;
        }

        synchronized void add(Agreement a, double ratio, double activeMillis) {
            if (ratioN < ratios.length && Double.isFinite(ratio)) {
                actives[ratioN] = activeMillis;
            }
            samples++;
            if (a.agrees()) {
                agreements++;
            }
            if (a.nonFinite()) {
                nonFinite++;
            }
            if (!Double.isNaN(a.confidenceDiff())) {
                confidenceSum += a.confidenceDiff();
                confidenceN++;
            }
            if (Double.isFinite(ratio) && ratioN < ratios.length) {
                ratios[ratioN++] = ratio;
            }
        }

        synchronized Optional<ShadowStats> stats() {
            if (samples == 0 && dropped == 0) {
                return Optional.empty();
            }
            OptionalDouble ratio = ratioN == 0 ? OptionalDouble.empty() : OptionalDouble.of(median(ratios, ratioN));
            OptionalDouble active = ratioN == 0 ? OptionalDouble.empty() : OptionalDouble.of(median(actives, ratioN));
            return Optional.of(new ShadowStats(rollout, candidate, samples, agreements, nonFinite, dropped, ratio,
                    confidenceN == 0 ? OptionalDouble.empty() : OptionalDouble.of(confidenceSum / confidenceN), active));
        }
    }
}
