package io.edgefleet.agent.slots;

import io.edgefleet.agent.telemetry.Observation;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;

/**
 * Local safety: for a bake window after a new version becomes active (when there is a previous
 * one to return to), the agent watches its requests and rolls back by itself when the new version
 * misbehaves: an error share above {@code maxErrorRate}, any share of non-finite outputs above
 * {@code maxNonFiniteRate}, or a p95 latency above {@code maxLatencyFactor} times the previous
 * version's, each judged only after {@code minRequests}. The rollback runs on the watchdog's own
 * thread, never on a request's, and listeners hear (model, reason).
 */
public final class Watchdog {
    private static final System.Logger LOG = System.getLogger(Watchdog.class.getName());
    private static final int BASELINE = 256;

    /** Limits of the watchdog. */
    public record Limits(Duration bake, int minRequests, double maxErrorRate, double maxNonFiniteRate, double maxLatencyFactor) {
        public static Limits defaults() {
            return new Limits(Duration.ofMinutes(2), 20, 0.2, 0.0, 3.0);
        }
    }

    private final ModelSlots slots;
    private final Limits limits;
    private final Clock clock;
    private final ExecutorService actions = Executors.newSingleThreadExecutor(r -> new Thread(r, "agent-watchdog"));
    private final Map<String, double[]> baselines = new ConcurrentHashMap<>();
    private final Map<String, Integer> baselineCounts = new ConcurrentHashMap<>();
    private final Map<String, Bake> bakes = new ConcurrentHashMap<>();
    private final java.util.List<BiConsumer<String, String>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    private static final class Bake {
        final String version;
        final Instant until;
        final double baselineP95;
        long count;
        long errors;
        long nonFinite;
        final double[] latencies = new double[1024];
        int kept;
        boolean tripped;

        Bake(String version, Instant until, double baselineP95) {
            this.version = version;
            this.until = until;
            this.baselineP95 = baselineP95;
        }
    }

    public Watchdog(ModelSlots slots, Limits limits, Clock clock) {
        this.slots = slots;
        this.limits = limits;
        this.clock = clock;
        slots.onActivation(this::activated);
    }

    /** Called with (model, reason) after every automatic rollback. */
    public void onRollback(BiConsumer<String, String> listener) {
        listeners.add(listener);
    }

    private void activated(String model, String version) {
        boolean hasPrevious = slots.record(model).flatMap(r -> r.previous()).isPresent();
        Bake current = bakes.get(model);
        if (current != null && current.tripped) {
            return; // our own rollback: nothing to bake
        }
        if (!hasPrevious) {
            bakes.remove(model);
            return;
        }
        double p95 = p95(baselines.getOrDefault(model, new double[0]), baselineCounts.getOrDefault(model, 0));
        bakes.put(model, new Bake(version, clock.instant().plus(limits.bake()), p95));
        baselines.remove(model);
        baselineCounts.remove(model);
    }

    /** Every observation of every request; cheap, called on inference threads. */
    public void observe(Observation o) {
        if (o.refused()) {
            return; // the client's mistake: nothing ran, so it says nothing about the version
        }
        Bake b = bakes.get(o.model());
        if (b == null || !b.version.equals(o.version())) {
            record(o);
            return;
        }
        Optional<String> reason;
        synchronized (b) {
            if (b.tripped || clock.instant().isAfter(b.until)) {
                if (!b.tripped) {
                    bakes.remove(o.model(), b);
                }
                record(o);
                return;
            }
            b.count++;
            if (o.error()) {
                b.errors++;
            }
            if (o.nonFinite()) {
                b.nonFinite++;
            }
            b.latencies[(int) ((b.count - 1) % b.latencies.length)] = o.latencyMillis();
            b.kept = (int) Math.min(b.count, b.latencies.length);
            reason = judge(b);
            if (reason.isPresent()) {
                b.tripped = true;
            }
        }
        reason.ifPresent(r -> actions.submit(() -> rollback(o.model(), b, r)));
    }

    private void record(Observation o) {
        if (o.error()) {
            return;
        }
        double[] ring = baselines.computeIfAbsent(o.model(), k -> new double[BASELINE]);
        int n = baselineCounts.merge(o.model(), 1, Integer::sum);
        ring[(n - 1) % BASELINE] = o.latencyMillis();
    }

    private Optional<String> judge(Bake b) {
        if (b.count < limits.minRequests()) {
            return Optional.empty();
        }
        double errorRate = (double) b.errors / b.count;
        if (errorRate > limits.maxErrorRate()) {
            return Optional.of(String.format(Locale.ROOT, "error rate %.0f%% over %d requests is above the limit of %.0f%%",
                    errorRate * 100, b.count, limits.maxErrorRate() * 100));
        }
        double nf = (double) b.nonFinite / b.count;
        if (nf > limits.maxNonFiniteRate()) {
            return Optional.of(String.format(Locale.ROOT, "%d of %d answers held NaN or infinity", b.nonFinite, b.count));
        }
        double p95 = p95(b.latencies, b.kept);
        if (b.baselineP95 > 0 && p95 > limits.maxLatencyFactor() * b.baselineP95 && p95 - b.baselineP95 > 1.0) {
            return Optional.of(String.format(Locale.ROOT, "p95 latency %.2f ms is over %.1f times the previous version's %.2f ms",
                    p95, limits.maxLatencyFactor(), b.baselineP95));
        }
        return Optional.empty();
    }

    private static double p95(double[] ring, int n) {
        int k = Math.min(n, ring.length);
        if (k == 0) {
            return 0;
        }
        double[] s = Arrays.copyOf(ring, k);
        Arrays.sort(s);
        return s[(int) Math.min(k - 1, Math.ceil(0.95 * k) - 1)];
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
}
