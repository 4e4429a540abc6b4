package io.edgefleet.agent.slots;

import io.edgefleet.agent.telemetry.Observation;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;

/**
 * Local safety: for a bake period after a new version becomes active (when there is a previous
 * one to return to), the agent watches its requests and rolls back by itself when the new version
 * misbehaves. Three triggers, each written for noise (the reasoning is in {@code docs/edge-agent.md}):
 * <ul>
 *   <li><b>model errors</b>: once {@code minRequests} requests were answered or failed, a share of
 *       model errors above {@code maxErrorRate}. Only the model's failures count (runtime errors,
 *       no answer in time); a client's bad input never reaches the watchdog as an error.
 *   <li><b>non-finite answers</b>: once {@code minRequests}, a share of answers holding NaN or
 *       infinity above {@code maxNonFiniteRate}. Arithmetic, not timing: no noise to wait out.
 *   <li><b>latency</b>, judged per {@code window}; a window counts only with at least
 *       {@code minRequests} answers. <em>Paired</em> (the default): the version it replaced stays
 *       loaded as a standby during the bake, and for up to {@code pairsPerWindow} answered requests
 *       per window a thread of the watchdog runs the previous and the new version back to back on
 *       that request's inputs, off the answer path, in alternating order; the window violates when
 *       {@link PairedComparison} (a one-sided sign test, the self-test's) finds the new version
 *       slower by more than {@code maxLatencyFactor} times and {@code latencyFloorMillis} in
 *       significantly many pairs (false-alarm bound {@link #PAIRED_ALPHA} per window, whatever the
 *       machine's load does, since both runs of a pair see the same load). A window whose pairs were
 *       asked for but fewer than {@link #MIN_PAIRS} finished neither counts nor breaks the run.
 *       <em>Unpaired</em> (no standby, {@code pairsPerWindow} 0, or no inputs sampled): against a
 *       previous version measured on at least {@code minBaselineRequests} answers, the window
 *       violates when its median model time is above {@code maxLatencyFactor} times that version's
 *       median <em>and</em> more than {@code latencyFloorMillis} above it. Either way
 *       {@code sustainedWindows} violating windows in a row (windows that do not count neither count
 *       nor break the run) roll back.
 * </ul>
 * Latencies are the model's own time (the engine call), never the queue's.
 *
 * <p>Cost of pairing: during a bake only, and only while requests arrive, up to {@code 2 × pairsPerWindow}
 * extra model runs per window on one platform thread {@code agent-watchdog-pairs}, sharing the
 * model's sessions with live requests (a live request may wait for at most one such run); pending
 * pairs hold at most {@link #MAX_PENDING_PAIR_BYTES} of input references, beyond which offers are
 * dropped; the standby holds a second copy of the model in memory until the bake ends.
 *
 * <p>Threads: {@link #observe} and {@link #offer} run on inference threads (cheap: a lock per model under bake);
 * {@link #runOnce} closes windows that ended without traffic and is called by the agent's loop
 * (tests call it after moving their clock); rollbacks run on the watchdog's own thread
 * {@code agent-watchdog}, never on a request's, and listeners hear (model, reason) there.
 */
public final class Watchdog {
    private static final System.Logger LOG = System.getLogger(Watchdog.class.getName());
    /** Answers of the active version kept as the next bake's baseline. */
    private static final int BASELINE = 512;
    /** Latencies kept per window; beyond, a uniform reservoir sample. */
    private static final int WINDOW_SAMPLE = 4096;
    /** Paired timings a window needs to be judged paired; with six, all six must be slower (P = 1/64 under no change). */
    public static final int MIN_PAIRS = 6;
    /** False-alarm bound of one window's paired comparison; three windows in a row at most 1.2 × 10⁻⁴ (in fact far less: see docs). */
    public static final double PAIRED_ALPHA = 0.05;
    /** Input bytes that pairs waiting for the pair thread may hold at most. */
    static final long MAX_PENDING_PAIR_BYTES = 8L << 20;

    /**
     * Limits of the watchdog ({@code agent.watchdog.*}).
     *
     * @param bake how long after an activation the new version is watched
     * @param minRequests requests before the error and non-finite shares are judged, and answers a latency window needs to count
     * @param maxErrorRate share of model errors (0..1) that rolls back
     * @param maxNonFiniteRate share of non-finite answers (0..1) that rolls back; 0: any
     * @param maxLatencyFactor a window violates when its median is above this many times the previous version's...
     * @param window length of a latency window
     * @param latencyFloorMillis ...and more than this many milliseconds above it
     * @param sustainedWindows violating windows in a row that roll back
     * @param minBaselineRequests answers of the previous version needed before latency is compared with it unpaired
     * @param pairsPerWindow paired timings of the previous and the new version asked for per window, at most; 0: none
     *     (latency is then compared with the previous version's earlier answers only); else at least {@link #MIN_PAIRS}
     */
    public record Limits(Duration bake, int minRequests, double maxErrorRate, double maxNonFiniteRate, double maxLatencyFactor,
            Duration window, double latencyFloorMillis, int sustainedWindows, int minBaselineRequests, int pairsPerWindow) {
        public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);
        public static final double DEFAULT_LATENCY_FLOOR_MILLIS = 2.0;
        public static final int DEFAULT_SUSTAINED_WINDOWS = 3;
        public static final int DEFAULT_MIN_BASELINE_REQUESTS = 50;
        public static final int DEFAULT_PAIRS_PER_WINDOW = 10;

        /** Limits with {@link #DEFAULT_PAIRS_PER_WINDOW} paired timings per window. */
        public Limits(Duration bake, int minRequests, double maxErrorRate, double maxNonFiniteRate, double maxLatencyFactor,
                Duration window, double latencyFloorMillis, int sustainedWindows, int minBaselineRequests) {
            this(bake, minRequests, maxErrorRate, maxNonFiniteRate, maxLatencyFactor, window, latencyFloorMillis, sustainedWindows,
                    minBaselineRequests, DEFAULT_PAIRS_PER_WINDOW);
        }

        public Limits {
            if (pairsPerWindow != 0 && (pairsPerWindow < MIN_PAIRS || pairsPerWindow > 100)) {
                throw new IllegalArgumentException("watchdog pairs-per-window must be 0 (off) or " + MIN_PAIRS + "..100, got " + pairsPerWindow);
            }
            if (bake.isNegative() || bake.isZero() || window.isNegative() || window.isZero()) {
                throw new IllegalArgumentException("watchdog bake and window must be positive");
            }
            if (minRequests < 1 || sustainedWindows < 1 || minBaselineRequests < 1) {
                throw new IllegalArgumentException("watchdog min-requests, sustained-windows and min-baseline-requests must be >= 1");
            }
            if (!(maxErrorRate >= 0 && maxErrorRate <= 1 && maxNonFiniteRate >= 0 && maxNonFiniteRate <= 1)) {
                throw new IllegalArgumentException("watchdog max-error-rate and max-non-finite-rate must be within 0..1");
            }
            if (!(maxLatencyFactor >= 1) || !(latencyFloorMillis >= 0)) {
                throw new IllegalArgumentException("watchdog max-latency-factor must be >= 1 and latency-floor-ms >= 0");
            }
            if (window.multipliedBy(sustainedWindows).compareTo(bake) > 0) {
                throw new IllegalArgumentException("watchdog: " + sustainedWindows + " windows of " + window.toMillis()
                        + " ms do not fit in a bake of " + bake.toMillis() + " ms, so the latency trigger could never fire");
            }
        }

        /** Limits with the default window (10 s, or a third of a shorter bake), floor (2 ms), 3 windows and a 50-answer baseline. */
        public Limits(Duration bake, int minRequests, double maxErrorRate, double maxNonFiniteRate, double maxLatencyFactor) {
            this(bake, minRequests, maxErrorRate, maxNonFiniteRate, maxLatencyFactor,
                    DEFAULT_WINDOW.compareTo(bake.dividedBy(DEFAULT_SUSTAINED_WINDOWS)) <= 0 ? DEFAULT_WINDOW
                            : bake.dividedBy(DEFAULT_SUSTAINED_WINDOWS),
                    DEFAULT_LATENCY_FLOOR_MILLIS, DEFAULT_SUSTAINED_WINDOWS, DEFAULT_MIN_BASELINE_REQUESTS, DEFAULT_PAIRS_PER_WINDOW);
        }

        /** These limits with {@code n} paired timings per window (0: unpaired only). */
        public Limits withPairsPerWindow(int n) {
            return new Limits(bake, minRequests, maxErrorRate, maxNonFiniteRate, maxLatencyFactor, window, latencyFloorMillis,
                    sustainedWindows, minBaselineRequests, n);
        }

        /** 2 min bake, 20 requests, 20 % errors, any non-finite answer, latency 3× and 2 ms above, 3 windows of 10 s, 50-answer baseline. */
        public static Limits defaults() {
            return new Limits(Duration.ofMinutes(2), 20, 0.2, 0.0, 3.0);
        }
    }

    /**
     * What the watchdog knows of a bake in progress, for operators and tests.
     *
     * @param version the version under watch
     * @param requests requests seen (answered or failed by the model)
     * @param modelErrors of which failed by the model's fault
     * @param baselineMedianMillis the previous version's median model time; empty when it had too few answers to compare with
     * @param windowsJudged latency windows that had enough answers (and, paired, enough pairs) to count
     * @param violatingInARow the current run of violating windows
     * @param rollingBack a trigger fired: the rollback is under way on the watchdog's thread
     * @param pairedWindows of the judged windows, those judged on paired timings
     */
    public record BakeStatus(String version, long requests, long modelErrors, OptionalDouble baselineMedianMillis, int windowsJudged,
            int violatingInARow, boolean rollingBack, int pairedWindows) {
    }

    private final ModelSlots slots;
    private final Limits limits;
    private final Clock clock;
    private final ExecutorService actions = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "agent-watchdog");
        t.setDaemon(true);
        return t;
    });
    /** Paired timings: one thread, a queue as long as a window's pairs (offers beyond are dropped). */
    private final java.util.concurrent.ThreadPoolExecutor pairs;
    private final java.util.concurrent.atomic.AtomicLong pendingPairBytes = new java.util.concurrent.atomic.AtomicLong();
    private final Map<Key, Baseline> baselines = new ConcurrentHashMap<>();
    private final Map<String, Bake> bakes = new ConcurrentHashMap<>();
    private final java.util.List<BiConsumer<String, String>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public Watchdog(ModelSlots slots, Limits limits, Clock clock) {
        this.slots = slots;
        this.limits = limits;
        this.clock = clock;
        this.pairs = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0, java.util.concurrent.TimeUnit.SECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(Math.max(1, limits.pairsPerWindow())), r -> {
                    Thread t = new Thread(r, "agent-watchdog-pairs");
                    t.setDaemon(true);
                    t.setPriority(Thread.MIN_PRIORITY);
                    return t;
                });
        slots.keepStandbyAfterInstall(limits.pairsPerWindow() > 0);
        slots.onActivation(this::activated);
    }

    /** Called with (model, reason) after every automatic rollback, on the watchdog's thread. */
    public void onRollback(BiConsumer<String, String> listener) {
        listeners.add(listener);
    }

    private void activated(String model, String version) {
        Bake current = bakes.get(model);
        if (current != null && current.tripped) {
            return; // our own rollback: nothing to bake
        }
        Optional<String> previous = slots.record(model).flatMap(r -> r.previous()).map(v -> v.version());
        // keep the answers of the version before and of the new one; older versions' are of no use
        baselines.keySet().removeIf(k -> k.model().equals(model) && !k.version().equals(version)
                && !previous.filter(k.version()::equals).isPresent());
        if (previous.isEmpty()) {
            bakes.remove(model);
            return;
        }

        Baseline before = baselines.get(new Key(model, previous.get()));
        OptionalDouble baseline = before == null ? OptionalDouble.empty() : before.median(limits.minBaselineRequests());
        Instant now = clock.instant();
        bakes.put(model, new Bake(version, previous.get(), now.plus(limits.bake()), now.plus(limits.window()), baseline, limits));
        boolean paired = limits.pairsPerWindow() > 0 && slots.standby(model).map(l -> {
            l.close();
            return true;
        }).orElse(false);
        LOG.log(System.Logger.Level.INFO, "model {0}: watching version {1} for {2} against version {3}, {4}", model, version,
                duration(limits.bake()), previous.get(), paired ? "on paired timings (version " + previous.get()
                        + " stays loaded until the bake ends; up to " + limits.pairsPerWindow() + " pairs per window)"
                        : "against its earlier answers (no paired timings)");
    }

    /**
     * The inputs of an answered request (called on the inference path for every answer, so cheap): during
     * a bake, the first {@code pairsPerWindow} of each window are timed on the previous and the new
     * version, off the answer path.
     */
    public void offer(String model, String version, java.util.List<io.edgefleet.protocols.oip.InferTensor> inputs) {
        Bake b = bakes.get(model);
        if (b == null || !b.version.equals(version) || limits.pairsPerWindow() == 0) {
            return;
        }
        long window;
        int index;
        synchronized (b) {
            if (b.tripped || b.pairsAsked >= limits.pairsPerWindow()) {
                return;
            }
            window = b.windowIndex;
            index = b.pairsAsked++;
        }
        long bytes = 0;
        for (io.edgefleet.protocols.oip.InferTensor t : inputs) {
            bytes += t.data().byteSize();
        }
        if (pendingPairBytes.addAndGet(bytes) > MAX_PENDING_PAIR_BYTES) {
            pendingPairBytes.addAndGet(-bytes);
            return;
        }
        long held = bytes;
        try {
            pairs.execute(() -> {
                try {
                    timePair(model, b, window, index, inputs);
                } finally {
                    pendingPairBytes.addAndGet(-held);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            pendingPairBytes.addAndGet(-bytes); // the queue is full (or closed): this offer is dropped
        }
    }

    private void timePair(String model, Bake b, long window, int index, java.util.List<io.edgefleet.protocols.oip.InferTensor> inputs) {
        try (Lease previous = slots.standby(model).filter(l -> l.version().equals(b.previous)).orElse(null);
                Lease current = previous == null ? null : slots.lease(model, Optional.of(b.version))) {
            if (previous == null) {
                return; // no standby (released, or the bake is over): the window is judged unpaired
            }
            // alternate the order, so that neither version gains from running first (caches, turbo)
            boolean previousFirst = index % 2 == 0;
            double first = time(previousFirst ? previous : current, inputs);
            double second = time(previousFirst ? current : previous, inputs);
            synchronized (b) {
                b.addPair(window, previousFirst ? first : second, previousFirst ? second : first);
            }
        } catch (RuntimeException e) {
            // a busy session, a version swapped meanwhile, a runtime failure (the live request saw the same): no pair
        }
    }

    private static double time(Lease lease, java.util.List<io.edgefleet.protocols.oip.InferTensor> inputs) {
        long t0 = System.nanoTime();
        lease.model().infer(inputs);
        return (System.nanoTime() - t0) / 1e6;
    }

    /** Waits until no paired timing is queued or running (tests: before they close a window on a stepped clock). */
    public void awaitPairs(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while ((pairs.getActiveCount() > 0 || !pairs.getQueue().isEmpty()) && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
    }

    /** Every observation of every request; cheap, called on inference threads. */
    public void observe(Observation o) {
        if (o.refused()) {
            return; // the client's mistake: nothing ran, so it says nothing about the version
        }
        Bake b = bakes.get(o.model());
        if (!o.error()) {
            baselines.computeIfAbsent(new Key(o.model(), o.version()), k -> new Baseline(BASELINE)).add(o.latencyMillis());
        }
        if (b == null || !b.version.equals(o.version())) {
            return;
        }
        Optional<String> reason;
        synchronized (b) {
            Instant now = clock.instant();
            if (b.tripped || endIfOver(o.model(), b, now)) {
                return;
            }
            reason = b.advanceTo(now);
            if (reason.isEmpty()) {
                reason = b.add(o);
            }
            if (reason.isPresent()) {
                b.tripped = true;
            }
        }
        reason.ifPresent(r -> actions.submit(() -> rollback(o.model(), b, r)));
    }

    /**
     * Closes the latency windows that ended (also those without traffic) and ends finished bakes;
     * rolls back where a window completes a sustained violation. Called by the agent's loop about
     * once a second; tests call it after moving their clock.
     */
    public void runOnce() {
        Instant now = clock.instant();
        for (Map.Entry<String, Bake> e : bakes.entrySet()) {
            Bake b = e.getValue();
            Optional<String> reason;
            synchronized (b) {
                if (b.tripped || endIfOver(e.getKey(), b, now)) {
                    continue;
                }
                reason = b.advanceTo(now);
                if (reason.isPresent()) {
                    b.tripped = true;
                }
            }
            reason.ifPresent(r -> actions.submit(() -> rollback(e.getKey(), b, r)));
        }
    }

    /** The bake in progress for {@code model}, if any. */
    public Optional<BakeStatus> bake(String model) {
        Bake b = bakes.get(model);
        if (b == null) {
            return Optional.empty();
        }
        synchronized (b) {
            return Optional.of(new BakeStatus(b.version, b.count, b.errors, b.baselineMedian, b.windowsJudged, b.violating, b.tripped,
                    b.pairedWindows));
        }
    }

    private boolean endIfOver(String model, Bake b, Instant now) {
        if (now.isAfter(b.until)) {
            if (bakes.remove(model, b)) {
                slots.releaseStandby(model, b.previous); // the bake passed: the version before is needed no more in memory
                LOG.log(System.Logger.Level.INFO, "model {0}: version {1} passed its bake: {2} requests, {3} model errors, {4} latency "
                        + "windows judged ({5} on paired timings); version {6} unloaded", model, b.version, b.count, b.errors,
                        b.windowsJudged, b.pairedWindows, b.previous);
            }
            return true;
        }
        return false;
    }

    private void rollback(String model, Bake b, String reason) {
        try {
            String back = slots.rollback(model);
            LOG.log(System.Logger.Level.WARNING, "model {0}: version {1} rolled back to {2} by the local watchdog: {3}",
                    model, b.version, back, reason);
            for (BiConsumer<String, String> l : listeners) {
                l.accept(model, "version " + b.version + " rolled back to " + back + ": " + reason);
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "model {0}: the watchdog could not roll back: {1}", model, e.getMessage());
        } finally {
            bakes.remove(model, b);
        }
    }

    public void close() {
        actions.shutdownNow();
        pairs.shutdownNow();
    }

    /** One bake: cumulative counts for errors and non-finite answers, and the current latency window. */
    private static final class Bake {
        final String version;
        /** The version it replaced: the standby that pairs time it against. */
        final String previous;
        final Instant until;
        final OptionalDouble baselineMedian;
        final Limits limits;
        final double[] window = new double[WINDOW_SAMPLE];
        /** Counts closed windows, so a pair that finishes after its window closed is dropped, not put in the next. */
        long windowIndex;
        int pairsAsked;
        int pairCount;
        final double[] pairPrevious;
        final double[] pairCurrent;
        int pairedWindows;
        Instant windowEnd;
        int windowCount;
        long count;
        long errors;
        long nonFinite;
        int windowsJudged;
        int violating;
        double[] violatingMedians;
        boolean tripped;

        Bake(String version, String previous, Instant until, Instant firstWindowEnd, OptionalDouble baselineMedian, Limits limits) {
            this.version = version;
            this.previous = previous;
            this.pairPrevious = new double[limits.pairsPerWindow()];
            this.pairCurrent = new double[limits.pairsPerWindow()];
            this.until = until;
            this.windowEnd = firstWindowEnd;
            this.baselineMedian = baselineMedian;
            this.limits = limits;
            this.violatingMedians = new double[limits.sustainedWindows()];
        }

        Optional<String> add(Observation o) {
            count++;
            if (o.error()) {
                errors++;
            } else {
                if (windowCount < window.length) {
                    window[windowCount] = o.latencyMillis();
                } else {
                    long slot = java.util.concurrent.ThreadLocalRandom.current().nextLong(windowCount + 1L);
                    if (slot < window.length) {
                        window[(int) slot] = o.latencyMillis();
                    }
                }
                windowCount++;
            }
            if (o.nonFinite()) {
                nonFinite++;
            }
            if (count < limits.minRequests()) {
                return Optional.empty();
            }
            double errorRate = (double) errors / count;
            if (errorRate > limits.maxErrorRate()) {
                return Optional.of(String.format(Locale.ROOT, "model error rate %.0f%% over %d requests is above the limit of %.0f%%",
                        errorRate * 100, count, limits.maxErrorRate() * 100));
            }
            if ((double) nonFinite / count > limits.maxNonFiniteRate()) {
                return Optional.of(String.format(Locale.ROOT, "%d of %d answers held NaN or infinity", nonFinite, count));
            }
            return Optional.empty();
        }

        /** Closes every window that ended by {@code now}; a reason when one completes a sustained violation. */
        Optional<String> advanceTo(Instant now) {
            while (!now.isBefore(windowEnd)) {
                Optional<String> reason = closeWindow();
                windowEnd = windowEnd.plus(limits.window());
                if (reason.isPresent()) {
                    return reason;
                }
            }
            return Optional.empty();
        }

        void addPair(long forWindow, double previousMillis, double currentMillis) {
            if (forWindow == windowIndex && pairCount < pairPrevious.length) {
                pairPrevious[pairCount] = previousMillis;
                pairCurrent[pairCount] = currentMillis;
                pairCount++;
            }
        }

        private Optional<String> closeWindow() {
            int n = Math.min(windowCount, window.length);
            int answered = windowCount;
            int asked = pairsAsked;
            int paired = pairCount;
            windowCount = 0;
            pairsAsked = 0;
            pairCount = 0;
            windowIndex++;
            if (answered < limits.minRequests()) {
                return Optional.empty(); // too few answers to say anything: neither counts nor breaks the run
            }
            if (asked > 0) {
                return closePaired(paired);
            }
            windowsJudged++;
            if (baselineMedian.isEmpty()) {
                return Optional.empty();
            }
            double base = baselineMedian.getAsDouble();
            double median = PairedComparison.median(java.util.Arrays.copyOf(window, n));
            if (median > limits.maxLatencyFactor() * base && median - base > limits.latencyFloorMillis()) {
                violatingMedians[violating % violatingMedians.length] = median;
                violating++;
            } else {
                violating = 0;
            }
            if (violating < limits.sustainedWindows()) {
                return Optional.empty();
            }
            double lowest = java.util.Arrays.stream(violatingMedians).min().orElse(median);
            return Optional.of(String.format(Locale.ROOT,
                    "median latency was at least %.2f ms in each of %d windows of %s in a row, over %.1f times the previous version's %.2f ms"
                            + " and more than %.2f ms above it", lowest, limits.sustainedWindows(), duration(limits.window()),
                    limits.maxLatencyFactor(), base, limits.latencyFloorMillis()));
        }

        private Optional<String> closePaired(int paired) {
            if (paired < MIN_PAIRS) {
                return Optional.empty(); // pairs were asked for but too few finished: neither counts nor breaks the run
            }
            windowsJudged++;
            pairedWindows++;
            PairedComparison c = PairedComparison.of(java.util.Arrays.copyOf(pairPrevious, paired), java.util.Arrays.copyOf(pairCurrent, paired),
                    limits.maxLatencyFactor(), limits.latencyFloorMillis(), PAIRED_ALPHA);
            if (c.tooSlow()) {
                violatingMedians[violating % violatingMedians.length] = c.candidateMedianMillis();
                violating++;
                lastPaired = c;
            } else {
                violating = 0;
            }
            if (violating < limits.sustainedWindows()) {
                return Optional.empty();
            }
            double lowest = java.util.Arrays.stream(violatingMedians).min().orElse(c.candidateMedianMillis());
            return Optional.of(String.format(Locale.ROOT,
                    "in each of %d windows of %s in a row, timed back to back with the previous version on the same live inputs, it was"
                            + " over %.1f times and more than %.2f ms slower in at least %d of %d pairs (median at least %.2f ms against"
                            + " %.2f ms in the last window)", limits.sustainedWindows(), duration(limits.window()), limits.maxLatencyFactor(),
                    limits.latencyFloorMillis(), lastPaired.needed(), lastPaired.pairs(), lowest, lastPaired.activeMedianMillis()));
        }

        PairedComparison lastPaired;
    }

    private record Key(String model, String version) {
    }

    private static String duration(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** The latest answers' model times of one model version. */
    private static final class Baseline {
        private final double[] ring;
        private int count;

        Baseline(int size) {
            this.ring = new double[size];
        }

        synchronized void add(double millis) {
            ring[count % ring.length] = millis;
            count++;
        }

        synchronized OptionalDouble median(int minAnswers) {
            if (count < minAnswers) {
                return OptionalDouble.empty();
            }
            return OptionalDouble.of(PairedComparison.median(java.util.Arrays.copyOf(ring, Math.min(count, ring.length))));
        }
    }
}
