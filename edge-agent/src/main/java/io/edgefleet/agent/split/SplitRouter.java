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
import java.util.OptionalInt;
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
 * ({@link #drain}).
 *
 * <p>Every split answer is recorded in {@link SplitAnswers} under its request id (the client's, or one the agent gives
 * it when the request had none: the answer's {@code id}), so a label sent back later through {@link #feedback} is
 * scored against the arm that answered; the arm's {@code labelled} and {@code correct} counts go out with its telemetry.
 * Thread-safe: {@link #route} and {@link #feedback} run on request threads, {@link #drain} on the telemetry thread.
 */
public final class SplitRouter implements InferenceService.Splitter {
    /** The request parameter (OIP {@code parameters}) whose value keys a sticky split. */
    public static final String KEY_PARAMETER = "edgefleet.split_key";
    /** The HTTP header that keys a sticky split when the request has no {@value #KEY_PARAMETER} parameter (the parameter wins). */
    public static final String KEY_HEADER = "edgefleet-split-key";

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
    private final SplitAnswers answers;
    private final Map<String, Experiment> byModel = new ConcurrentHashMap<>();
    /** Counts by (model, version, experiment, arm): a version's counts of an ended experiment are kept apart from a new one's. */
    private final Map<List<String>, Sums> sums = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong sumsCreated = new java.util.concurrent.atomic.AtomicLong();

    /** With the default bounds on recorded answers ({@link SplitAnswers#DEFAULT_MAX_ANSWERS}, {@link SplitAnswers#DEFAULT_TTL}). */
    public SplitRouter(ModelSlots slots) {
        this(slots, new SplitAnswers(SplitAnswers.DEFAULT_MAX_ANSWERS, SplitAnswers.DEFAULT_TTL, java.time.Clock.systemUTC()));
    }

    public SplitRouter(ModelSlots slots, SplitAnswers answers) {
        this.slots = slots;
        this.answers = answers;
    }

    /** Starts (or replaces) the experiment on its model; arm B must already be loaded. */
    public void start(Experiment e) {
        Experiment before = byModel.put(e.model(), e);
        if (before != null && !before.id().equals(e.id())) {
            answers.forget(before.id());
        }
    }

    /**
     * Ends experiment {@code id} on {@code model}, if it runs: every request goes to arm A again, and its recorded answers
     * are forgotten (feedback for them is answered 404). True when it ran.
     */
    public boolean stop(String model, String id) {
        Experiment e = byModel.get(model);
        boolean stopped = e != null && e.id().equals(id) && byModel.remove(model, e);
        if (stopped) {
            answers.forget(id);
        }
        return stopped;
    }

    /** The record of recent split answers that feedback is scored against. */
    public SplitAnswers answers() {
        return answers;
    }

    /**
     * Scores the answer to request {@code requestId} of {@code model} (docs/ab.md "Feedback and accuracy"): with the true
     * {@code label} (a class index, classifiers only) or whether it was {@code correct}; exactly one of the two. Counted
     * once, as {@code labelled} (and {@code correct} when right) of the arm that answered, in its next telemetry window.
     *
     * @throws FeedbackException 400 neither or both given, a label for a model that is no classifier (or answered a batch),
     *     a label outside 0..classes−1; 404 a model this agent does not serve, a request id with no recent A/B answer
     *     (never split, expired, dropped for room, or its experiment ended); 409 feedback already given for it
     */
    public void feedback(String model, String requestId, OptionalInt label, Optional<Boolean> correct) {
        if (label.isPresent() == correct.isPresent()) {
            throw new FeedbackException(400, "Invalid feedback", "give exactly one of 'label' (the true class index) and 'correct' (true or false)");
        }
        if (!slots.activeVersions().containsKey(model) && byModel.get(model) == null) {
            throw new FeedbackException(404, "Unknown model", "model '" + SplitAnswers.printable(model) + "' is not served here");
        }
        SplitAnswers.Answer a = answers.label(model, requestId, answer -> {
            if (label.isEmpty()) {
                return;
            }
            if (answer.predicted().isEmpty()) {
                throw new FeedbackException(400, "Invalid feedback", "the answer to '" + SplitAnswers.printable(requestId)
                        + "' has no single top-1 class (a regressor, or a batch of rows): give 'correct' (true or false), not 'label'");
            }
            if (label.getAsInt() < 0 || label.getAsInt() >= answer.classes()) {
                throw new FeedbackException(400, "Invalid feedback", "label must be a class index within 0.." + (answer.classes() - 1)
                        + " (model '" + model + "' version " + answer.version() + " has " + answer.classes() + " classes), got " + label.getAsInt());
            }
        });
        boolean right = label.isPresent() ? label.getAsInt() == a.predicted().getAsInt() : correct.get();
        for (;;) {
            Sums s = sums(model, a.version(), a.experiment(), a.arm());
            synchronized (s) {
                if (sums.get(List.of(model, a.version(), a.experiment(), a.arm())) != s) {
                    continue; // drained meanwhile: count in the next window's
                }
                s.labelled++;
                s.correct += right ? 1 : 0;
                return;
            }
        }
    }

    /** {@link #feedback(String, String, OptionalInt, Optional)} of a parsed body. */
    public void feedback(String model, Feedback f) {
        feedback(model, f.id(), f.label(), f.correct());
    }

    /** The (model, version) pairs with counts not yet drained: the telemetry reports them even in a window without requests. */
    public java.util.Set<List<String>> pending() {
        return sums.keySet().stream().map(k -> List.of(k.get(0), k.get(1))).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /** The experiment running on {@code model}, if any. */
    public Optional<Experiment> running(String model) {
        return Optional.ofNullable(byModel.get(model));
    }

    /**
     * {@code request} with {@code key} (from the transport: the HTTP header or MQTT user property {@value #KEY_HEADER}) as
     * its {@value #KEY_PARAMETER} parameter, unless it has that parameter already: the parameter wins (docs/ab.md).
     */
    public static InferRequest withKey(InferRequest request, Optional<String> key) {
        if (key.isEmpty() || request.parameters().get(KEY_PARAMETER).isPresent()) {
            return request;
        }
        return new InferRequest(request.id(), request.parameters().with(KEY_PARAMETER, key.get()), request.inputs(), request.outputs());
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
                return Optional.of(new ArmSplit(b.get(), SplitStats.ARM_B, e.id(), requestId(request)));
            }
            b.ifPresent(Lease::close);
            if (b.isEmpty()) {
                return Optional.empty(); // not loaded (restarted agent): arm A, uncounted
            }
        }
        Lease a = slots.lease(model, Optional.empty());
        return Optional.of(new ArmSplit(a, SplitStats.ARM_A, e.id(), requestId(request)));
    }

    /** The request's own id, or a fresh one (a random UUID) that the answer carries so the client can send feedback. */
    private static String requestId(InferRequest request) {
        return request.id().orElseGet(() -> java.util.UUID.randomUUID().toString());
    }

    /**
     * The counts of {@code model}'s {@code version} as an arm since the last drain, if it answered any; resets them. When
     * the version was an arm of two experiments since (one ended, the next started before the window went out), the older
     * experiment's counts come first and the newer's stay pending ({@link #pending}) for the next window: a record carries
     * one experiment's counts, and neither is lost.
     */
    public Optional<SplitStats> drain(String model, String version) {
        for (;;) {
            Map.Entry<List<String>, Sums> oldest = null;
            for (Map.Entry<List<String>, Sums> e : sums.entrySet()) {
                if (e.getKey().get(0).equals(model) && e.getKey().get(1).equals(version) && (oldest == null || e.getValue().seq < oldest.getValue().seq)) {
                    oldest = e;
                }
            }
            if (oldest == null) {
                return Optional.empty();
            }
            if (sums.remove(oldest.getKey(), oldest.getValue())) {
                return oldest.getValue().stats();
            }
        }
    }

    /** Sums of one (model, version) as one arm of one experiment. */
    private static final class Sums {
        final String experiment;
        final String arm;
        final long seq;
        long requests;
        long errors;
        double latencySum;
        double latencySumSq;
        long confidenceCount;
        double confidenceSum;
        double confidenceSumSq;
        long labelled;
        long correct;

        Sums(String experiment, String arm, long seq) {
            this.experiment = experiment;
            this.arm = arm;
            this.seq = seq;
        }

        synchronized Optional<SplitStats> stats() {
            return requests == 0 && labelled == 0 ? Optional.empty() : Optional.of(new SplitStats(experiment, arm, requests, errors, latencySum,
                    latencySumSq, confidenceCount, confidenceSum, confidenceSumSq, labelled, correct));
        }
    }

    private Sums sums(String model, String version, String experiment, String arm) {
        return sums.computeIfAbsent(List.of(model, version, experiment, arm), k -> new Sums(experiment, arm, sumsCreated.incrementAndGet()));
    }

    private final class ArmSplit implements InferenceService.Split {
        private final Lease lease;
        private final String arm;
        private final String experiment;
        private final String requestId;

        ArmSplit(Lease lease, String arm, String experiment, String requestId) {
            this.lease = lease;
            this.arm = arm;
            this.experiment = experiment;
            this.requestId = requestId;
        }

        @Override
        public String requestId() {
            return requestId;
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
        public void answered(double latencyMillis, OptionalDouble confidence, OptionalInt topClass, int classes) {
            answers.record(requestId, new SplitAnswers.Answer(lease.modelName(), experiment, arm, lease.version(), topClass,
                    topClass.isPresent() ? classes : 0, answers.now()));
            for (;;) {
                Sums s = sums(lease.modelName(), lease.version(), experiment, arm);
                synchronized (s) {
                    if (sums.get(List.of(lease.modelName(), lease.version(), experiment, arm)) != s) {
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
                    if (sums.get(List.of(lease.modelName(), lease.version(), experiment, arm)) != s) {
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
