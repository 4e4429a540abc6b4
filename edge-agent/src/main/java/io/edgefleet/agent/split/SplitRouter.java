package io.edgefleet.agent.split;

import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.agent.slots.Lease;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.protocols.messages.SplitStats;
import io.edgefleet.protocols.oip.InferRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Splits a model's requests between the two arms of an A/B experiment (docs/ab.md): arm A is the active version, arm B
 * the candidate loaded next to it ({@link ModelSlots#loadArmB}). Both answer for real. A request goes to arm B
 *
 * <ul>
 *   <li>by share: with probability {@code share}, a fresh uniform draw per request;</li>
 *   <li>by key: when the stable hash of (experiment id, the request's {@value #KEY_PARAMETER} parameter) falls below
 *       {@code share}: the same key always gets the same arm in one experiment (SHA-256, the first 64 bits read as an
 *       unsigned fraction of 2^64: the same on every JVM and device, unlike {@link String#hashCode}); a request without
 *       a key is drawn by share, so it is never refused.</li>
 * </ul>
 *
 * A request that names a version is never split. While arm B is not loaded (an agent restarted since the command) every
 * request goes to arm A uncounted. Counts per arm and version are kept until the telemetry window that reports them
 * ({@link #drain}). Thread-safe: {@link #route} runs on request threads, {@link #drain} on the telemetry thread.
 */
public final class SplitRouter implements InferenceService.Splitter {
    /** The request parameter (OIP {@code parameters}) whose value keys a sticky split. */
    public static final String KEY_PARAMETER = "edgefleet.split_key";

    /** How requests are assigned to arm B. */
    public enum SplitBy {
        SHARE("share"), KEY("key");

        private final String wire;

        SplitBy(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }

        /** @throws IllegalArgumentException naming the value and the allowed ones */
        public static SplitBy of(String wire) {
            for (SplitBy b : values()) {
                if (b.wire.equals(wire)) {
                    return b;
                }
            }
            throw new IllegalArgumentException("splitBy must be 'share' or 'key', got '" + wire + "'");
        }
    }

    /**
     * One experiment on one model.
     *
     * @param share arm B's share, 0..1
     */
    public record Experiment(String id, String model, String candidate, double share, SplitBy splitBy) {
        public Experiment {
            if (!(share >= 0 && share <= 1)) {
                throw new IllegalArgumentException("share must be within 0..1, got " + share);
            }
        }
    }

    private final ModelSlots slots;
    private final Map<String, Experiment> byModel = new ConcurrentHashMap<>();
    private final Map<List<String>, Sums> sums = new ConcurrentHashMap<>();

    public SplitRouter(ModelSlots slots) {
        this.slots = slots;
    }

    /** Starts (or replaces) the experiment on its model; arm B must already be loaded. */
    public void start(Experiment e) {
        byModel.put(e.model(), e);
    }

    /** Ends experiment {@code id} on {@code model}, if it runs: every request goes to arm A again. True when it ran. */
    public boolean stop(String model, String id) {
        Experiment e = byModel.get(model);
        return e != null && e.id().equals(id) && byModel.remove(model, e);
    }

    /** The experiment running on {@code model}, if any. */
    public Optional<Experiment> running(String model) {
        return Optional.ofNullable(byModel.get(model));
    }

    /** The fraction in [0, 1) that {@code key} hashes to in experiment {@code experiment}: stable across JVMs and devices. */
    public static double bucket(String experiment, String key) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((experiment + '\0' + key).getBytes(StandardCharsets.UTF_8));
            long bits = 0;
            for (int i = 0; i < 8; i++) {
                bits = bits << 8 | (h[i] & 0xff);
            }
            return (bits >>> 11) * 0x1.0p-53; // the top 53 bits: an exact double in [0, 1)
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public Optional<InferenceService.Split> route(String model, InferRequest request) {
        Experiment e = byModel.get(model);
        if (e == null) {
            return Optional.empty();
        }
        Optional<String> key = request.parameters().get(KEY_PARAMETER).map(Object::toString);
        double u = e.splitBy() == SplitBy.KEY && key.isPresent() ? bucket(e.id(), key.get()) : ThreadLocalRandom.current().nextDouble();
        if (u < e.share()) {
            Optional<Lease> b = slots.armB(model);
            if (b.isPresent() && b.get().version().equals(e.candidate())) {
                return Optional.of(new ArmSplit(b.get(), SplitStats.ARM_B, e.id()));
            }
            b.ifPresent(Lease::close);
            if (b.isEmpty()) {
                return Optional.empty(); // not loaded (restarted agent): arm A, uncounted
            }
        }
        Lease a = slots.lease(model, Optional.empty());
        return Optional.of(new ArmSplit(a, SplitStats.ARM_A, e.id()));
    }

    /** The counts of {@code model}'s {@code version} as an arm since the last drain, if it answered any; resets them. */
    public Optional<SplitStats> drain(String model, String version) {
        Sums s = sums.remove(List.of(model, version));
        return s == null ? Optional.empty() : s.stats();
    }

    /** Sums of one (model, version) as one arm of one experiment. */
    private static final class Sums {
        final String experiment;
        final String arm;
        long requests;
        long errors;
        double latencySum;
        double latencySumSq;
        long confidenceCount;
        double confidenceSum;
        double confidenceSumSq;

        Sums(String experiment, String arm) {
            this.experiment = experiment;
            this.arm = arm;
        }

        synchronized Optional<SplitStats> stats() {
            return requests == 0 ? Optional.empty() : Optional.of(new SplitStats(experiment, arm, requests, errors, latencySum, latencySumSq,
                    confidenceCount, confidenceSum, confidenceSumSq));
        }
    }

    private Sums sums(String model, String version, String experiment, String arm) {
        Sums s = sums.computeIfAbsent(List.of(model, version), k -> new Sums(experiment, arm));
        if (!s.experiment.equals(experiment) || !s.arm.equals(arm)) { // a new experiment: its own counts
            Sums fresh = new Sums(experiment, arm);
            sums.put(List.of(model, version), fresh);
            return fresh;
        }
        return s;
    }

    private final class ArmSplit implements InferenceService.Split {
        private final Lease lease;
        private final String arm;
        private final String experiment;

        ArmSplit(Lease lease, String arm, String experiment) {
            this.lease = lease;
            this.arm = arm;
            this.experiment = experiment;
        }

        @Override
        public Lease lease() {
            return lease;
        }

        @Override
        public String arm() {
            return arm;
        }

        @Override
        public String experiment() {
            return experiment;
        }

        @Override
        public void answered(double latencyMillis, OptionalDouble confidence) {
            for (;;) {
                Sums s = sums(lease.modelName(), lease.version(), experiment, arm);
                synchronized (s) {
                    if (sums.get(List.of(lease.modelName(), lease.version())) != s) {
                        continue; // drained meanwhile: count in the next window's
                    }
                    s.requests++;
                    s.latencySum += latencyMillis;
                    s.latencySumSq += latencyMillis * latencyMillis;
                    if (confidence.isPresent() && Double.isFinite(confidence.getAsDouble())) {
                        double c = Math.min(1, Math.max(0, confidence.getAsDouble()));
                        s.confidenceCount++;
                        s.confidenceSum += c;
                        s.confidenceSumSq += c * c;
                    }
                    return;
                }
            }
        }

        @Override
        public void failed() {
            for (;;) {
                Sums s = sums(lease.modelName(), lease.version(), experiment, arm);
                synchronized (s) {
                    if (sums.get(List.of(lease.modelName(), lease.version())) != s) {
                        continue;
                    }
                    s.requests++;
                    s.errors++;
                    return;
                }
            }
        }
    }
}
