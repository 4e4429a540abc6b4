package io.edgefleet.agent.split;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The agent's bounded, time-limited record of recent A/B answers, so that a label sent back later through the feedback
 * call (docs/ab.md "Feedback and accuracy") can be scored against the arm that answered: only the device that answered
 * knows which arm answered a request id. Per answer it keeps the model, experiment, arm, version, predicted top-1 class
 * and the number of classes (about 200 bytes with a 36-character id).
 *
 * <p>Bounds: at most {@code maxAnswers} answers (the oldest is dropped first) and each for {@code ttl}; ids longer than
 * {@value #MAX_ID_LENGTH} characters are not recorded. Re-using a request id for a new answer of the same model
 * replaces the earlier answer (feedback refers to the latest). Thread-safe (one lock; every operation O(1) amortised).
 */
public final class SplitAnswers {
    /** The longest request id recorded; a longer one cannot get feedback. */
    public static final int MAX_ID_LENGTH = 128;
    /** Answers kept by default. */
    public static final int DEFAULT_MAX_ANSWERS = 10_000;
    /** How long an answer can get feedback by default. */
    public static final Duration DEFAULT_TTL = Duration.ofHours(1);

    /**
     * One recorded answer.
     *
     * @param predicted the top-1 class index the arm answered, or empty for a model that is no classifier (regressor)
     * @param classes the number of classes of a classifier (0 for a regressor)
     */
    public record Answer(String model, String experiment, String arm, String version, OptionalInt predicted, int classes, Instant at) {
    }

    private static final class Entry {
        final Answer answer;
        boolean labelled;

        Entry(Answer answer) {
            this.answer = answer;
        }
    }

    private final int maxAnswers;
    private final Duration ttl;
    private final Clock clock;
    private final LinkedHashMap<List<String>, Entry> entries = new LinkedHashMap<>();
    private long evicted;

    public SplitAnswers(int maxAnswers, Duration ttl, Clock clock) {
        if (maxAnswers < 1 || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("maxAnswers must be at least 1 and ttl positive, got " + maxAnswers + ", " + ttl);
        }
        this.maxAnswers = maxAnswers;
        this.ttl = ttl;
        this.clock = clock;
    }

    /** Records {@code answer} to request {@code requestId}; ignored for an id over {@value #MAX_ID_LENGTH} characters. */
    public void record(String requestId, Answer answer) {
        if (requestId.length() > MAX_ID_LENGTH) {
            return;
        }
        List<String> key = List.of(answer.model(), requestId);
        synchronized (this) {
            entries.remove(key); // re-inserted last: insertion order stays time order
            entries.put(key, new Entry(answer));
            expire();
            while (entries.size() > maxAnswers) {
                Iterator<Map.Entry<List<String>, Entry>> it = entries.entrySet().iterator();
                it.next();
                it.remove();
                evicted++;
            }
        }
    }

    /**
     * Marks the answer to {@code requestId} of {@code model} labelled and returns it; each answer is labelled once.
     *
     * @throws FeedbackException 404 when no such answer is kept (never recorded, dropped for room, expired, or its
     *     experiment ended here), 409 when it was labelled already
     */
    public Answer label(String model, String requestId, java.util.function.Consumer<Answer> check) {
        synchronized (this) {
            expire();
            Entry e = entries.get(List.of(model, requestId));
            if (e == null) {
                throw new FeedbackException(404, "Unknown request", "model '" + model + "' has no recent A/B answer with id '"
                        + printable(requestId) + "' here (never answered by an experiment's arm, older than " + ttl
                        + " or beyond the last " + maxAnswers + " answers, or its experiment ended)");
            }
            if (e.labelled) {
                throw new FeedbackException(409, "Feedback already given", "request '" + printable(requestId)
                        + "' of model '" + model + "' was labelled already; it is counted once");
            }
            check.accept(e.answer);
            e.labelled = true;
            return e.answer;
        }
    }

    /** Forgets every answer of experiment {@code experiment} (it ended: its feedback can no longer be counted). */
    public synchronized void forget(String experiment) {
        entries.values().removeIf(e -> e.answer.experiment().equals(experiment));
    }

    /** Now, by this record's clock (the time an answer is recorded at). */
    public Instant now() {
        return clock.instant();
    }

    /** Answers kept now. */
    public synchronized int size() {
        expire();
        return entries.size();
    }

    /** Answers dropped for room (not for age) since start. */
    public synchronized long evicted() {
        return evicted;
    }

    private void expire() {
        Instant cutoff = clock.instant().minus(ttl);
        Iterator<Entry> it = entries.values().iterator();
        while (it.hasNext()) {
            Entry e = it.next();
            if (e.answer.at().isAfter(cutoff)) {
                return;
            }
            it.remove();
        }
    }

    static String printable(String s) {
        return s.length() > 64 || !s.chars().allMatch(c -> c >= 0x20 && c < 0x7f) ? "?" : s;
    }
}
