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
 *   <li><b>latency</b>, judged per {@code window}: a window counts only with at least
 *       {@code minRequests} answers, and only against a previous version measured on at least
 *       {@code minBaselineRequests} answers; it violates when its median model time is above
 *       {@code maxLatencyFactor} times the previous version's median <em>and</em> more than
 *       {@code latencyFloorMillis} above it. {@code sustainedWindows} violating windows in a row
 *       (windows with too few answers neither count nor break the run) roll back.
 * </ul>
 * Latencies are the model's own time (the engine call), never the queue's.
 *
 * <p>Threads: {@link #observe} runs on inference threads (cheap: a lock per model under bake);
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
     * @param minBaselineRequests answers of the previous version needed before latency is compared with it at all
     */
    public record Limits(Duration bake, int minRequests, double maxErrorRate, double maxNonFiniteRate, double maxLatencyFactor,
            Duration window, double latencyFloorMillis, int sustainedWindows, int minBaselineRequests) {
        public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(10);
        public static final double DEFAULT_LATENCY_FLOOR_MILLIS = 2.0;
        public static final int DEFAULT_SUSTAINED_WINDOWS = 3;
        public static final int DEFAULT_MIN_BASELINE_REQUESTS = 50;

        public Limits {
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
                    DEFAULT_LATENCY_FLOOR_MILLIS, DEFAULT_SUSTAINED_WINDOWS, DEFAULT_MIN_BASELINE_REQUESTS);
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
     * @param windowsJudged latency windows that had enough answers to count
     * @param violatingInARow the current run of violating windows
     * @param rollingBack a trigger fired: the rollback is under way on the watchdog's thread
     */
    public record BakeStatus(String version, long requests, long modelErrors, OptionalDouble baselineMedianMillis, int windowsJudged,
            int violatingInARow, boolean rollingBack) {
    }

    private final ModelSlots slots;
    private final Limits limits;
    private final Clock clock;
    private final ExecutorService actions = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "agent-watchdog");
        t.setDaemon(true);
        return t;
    });
    private final Map<Key, Baseline> baselines = new ConcurrentHashMap<>();
    private final Map<String, Bake> bakes = new ConcurrentHashMap<>();
    private final java.util.List<BiConsumer<String, String>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public Watchdog(ModelSlots slots, Limits limits, Clock clock) {
        this.slots = slots;
        this.limits = limits;
        this.clock = clock;
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
        bakes.put(model, new Bake(version, now.plus(limits.bake()), now.plus(limits.window()), baseline, limits));
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
            return Optional.of(new BakeStatus(b.version, b.count, b.errors, b.baselineMedian, b.windowsJudged, b.violating, b.tripped));
        }
    }

    private boolean endIfOver(String model, Bake b, Instant now) {
        if (now.isAfter(b.until)) {
            bakes.remove(model, b);
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
    }

    /** One bake: cumulative counts for errors and non-finite answers, and the current latency window. */
    private static final class Bake {
        final String version;
        final Instant until;
        final OptionalDouble baselineMedian;
        final Limits limits;
        final double[] window = new double[WINDOW_SAMPLE];
        Instant windowEnd;
        int windowCount;
        long count;
        long errors;
        long nonFinite;
        int windowsJudged;
        int violating;
        double[] violatingMedians;
        boolean tripped;

        Bake(String version, Instant until, Instant firstWindowEnd, OptionalDouble baselineMedian, Limits limits) {
            this.version = version;
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

        private Optional<String> closeWindow() {
            int n = Math.min(windowCount, window.length);
            int answered = windowCount;
            windowCount = 0;
            if (answered < limits.minRequests()) {
                return Optional.empty(); // too few answers to say anything: neither counts nor breaks the run
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
