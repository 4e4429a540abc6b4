package io.edgefleet.cloud.drift;

import io.edgefleet.cloud.drift.DriftRepository.WindowScore;
import io.edgefleet.cloud.store.EventRepository;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.drift.DriftAccumulator;
import io.edgefleet.protocols.drift.DriftStats;
import io.edgefleet.protocols.drift.FeatureSketch;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Judges input and confidence drift per model version and telemetry window (docs/drift.md).
 *
 * <p>{@link #offer} merges the drift statistics of incoming telemetry records into one accumulation per (model, version,
 * window start; agent windows merged into {@link DriftSettings#window()} when set) across devices, dropping a (device, sequence) it already merged for that window (redeliveries).
 * {@link #runOnce} judges the windows whose end is {@link DriftSettings#grace()} in the past: a window with fewer than
 * {@link DriftSettings#minSamples()} values per feature is not judged (and does not count towards the run of windows);
 * without a reference the window feeds the reference learned from traffic; else each feature's PSI against the
 * reference's quantile bins is computed and the version's drift score is the <b>worst</b> feature's PSI (one drifted
 * feature of 32 must not be averaged away; the mean is recorded too). A window breaches when the score or the
 * confidence PSI is above {@link DriftSettings#threshold()}; {@link DriftSettings#consecutiveWindows()} breaching
 * windows in a row raise the alarm (event {@code model.drift.alarm}, subject {@code model/version}), as many clean ones
 * in a row clear it ({@code model.drift.cleared}).
 *
 * <p>Open windows live in memory: a restart loses the windows not judged yet (judged ones and references are in the
 * database). With several ingest replicas each judges the share of devices its Kafka partitions carry.
 *
 * <p>Thread-safe: {@link #offer} is called by the ingest writer, {@link #runOnce} by housekeeping, reads by API threads.
 */
public final class DriftMonitor {
    private static final System.Logger LOG = System.getLogger(DriftMonitor.class.getName());

    private final DriftRepository repo;
    private final EventRepository events;
    private final DriftSettings settings;
    private final Clock clock;
    private final Map<Key, Open> open = new LinkedHashMap<>();
    private final Map<List<String>, Learner> learning = new HashMap<>();
    private final Map<List<String>, State> states = new HashMap<>();
    private final List<Consumer<WindowScore>> listeners = new ArrayList<>();
    private long dropped;
    private long malformed;

    private record Key(String model, String version, Instant start) {
    }

    private static final class Open {
        final Instant end;
        final DriftAccumulator acc = new DriftAccumulator();
        final Set<String> seen = new HashSet<>();

        Open(Instant end) {
            this.end = end;
        }
    }

    private static final class Learner {
        final DriftAccumulator acc = new DriftAccumulator();
        int windows;
    }

    /** A version's run of breaching or clean windows and whether it is in alarm. */
    private static final class State {
        int breaching;
        int clean;
        boolean alarm;
        WindowScore last;
        /** The last judged window's PSI per feature ({@code tensor[i]}), in the reference's order; in memory only. */
        Map<String, Double> lastFeatures = Map.of();
    }

    public DriftMonitor(DriftRepository repo, EventRepository events, DriftSettings settings, Clock clock) {
        this.repo = repo;
        this.events = events;
        this.settings = settings;
        this.clock = clock;
    }

    public DriftSettings settings() {
        return settings;
    }

    /** Called with every judged window (the metrics); on the judging thread. */
    public synchronized void listen(Consumer<WindowScore> l) {
        listeners.add(l);
    }

    /** Merges the drift statistics of {@code batches} into their windows. */
    public synchronized void offer(List<TelemetryBatch> batches) {
        for (TelemetryBatch b : batches) {
            for (TelemetryRecord r : b.records()) {
                if (r.drift().isEmpty()) {
                    continue;
                }
                Instant start = r.windowStart();
                Instant end = r.windowEnd();
                long w = settings.window().toMillis();
                if (w > 0) {
                    start = Instant.ofEpochMilli(Math.floorDiv(start.toEpochMilli(), w) * w);
                    end = start.plusMillis(w);
                }
                Key k = new Key(r.model(), r.version(), start);
                Open o = open.get(k);
                if (o == null) {
                    if (open.size() >= settings.maxOpenWindows()) {
                        dropped++;
                        continue;
                    }
                    o = new Open(end);
                    open.put(k, o);
                }
                if (!o.seen.add(b.device() + "#" + b.sequence())) {
                    continue;
                }
                try {
                    o.acc.merge(r.drift().get());
                } catch (RuntimeException e) { // ProtocolException, or anything a hostile sketch provokes in the library
                    malformed++;
                    LOG.log(System.Logger.Level.WARNING, "drift statistics of {0}/{1} from device {2} dropped: {3}", r.model(), r.version(),
                            b.device(), e.getMessage());
                }
            }
        }
    }

    /** Windows dropped because {@link DriftSettings#maxOpenWindows()} were open, and sketches dropped as malformed. */
    public synchronized long[] droppedAndMalformed() {
        return new long[] {dropped, malformed};
    }

    /** Judges every window whose end plus the grace has passed; returns what was judged (not-judged windows left out). */
    public synchronized List<WindowScore> runOnce() {
        Instant now = clock.instant();
        List<Map.Entry<Key, Open>> due = new ArrayList<>();
        for (Iterator<Map.Entry<Key, Open>> it = open.entrySet().iterator(); it.hasNext();) {
            Map.Entry<Key, Open> e = it.next();
            if (!e.getValue().end.plus(settings.grace()).isAfter(now)) {
                due.add(e);
                it.remove();
            }
        }
        due.sort((a, b) -> a.getKey().start().compareTo(b.getKey().start()));
        List<WindowScore> out = new ArrayList<>();
        for (Map.Entry<Key, Open> e : due) {
            try { // one window that cannot be judged never costs the others theirs
                judge(e.getKey(), e.getValue().acc).ifPresent(out::add);
            } catch (RuntimeException ex) {
                malformed++;
                LOG.log(System.Logger.Level.WARNING, "drift window {0}/{1} from {2} not judged: {3}", e.getKey().model(), e.getKey().version(),
                        e.getKey().start(), ex.toString());
            }
        }
        return out;
    }

    private Optional<WindowScore> judge(Key k, DriftAccumulator acc) {
        Optional<DriftStats> stats = acc.stats();
        if (stats.isEmpty()) {
            return Optional.empty();
        }
        DriftStats s = stats.get();
        long samples = samples(s);
        List<String> mv = List.of(k.model(), k.version());
        Optional<DriftRepository.StoredReference> ref = repo.reference(k.model(), k.version());
        if (ref.isEmpty() || ref.get().profile().confidence().isEmpty() && s.confidence().isPresent()) {
            learn(mv, s, ref.map(DriftRepository.StoredReference::profile));
        }
        if (ref.isEmpty() || samples < settings.minSamples()) {
            return Optional.empty();
        }
        ReferenceProfile p = ref.get().profile();
        double max = 0;
        double sum = 0;
        int features = 0;
        String worst = "";
        Map<String, Double> perFeature = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, List<Bins>> e : p.inputs().entrySet()) {
            List<FeatureSketch> window = s.inputs().get(e.getKey());
            if (window == null || window.size() != e.getValue().size()) {
                continue;
            }
            for (int i = 0; i < window.size(); i++) {
                double psi = e.getValue().get(i).psi(window.get(i).decode());
                perFeature.put(e.getKey() + "[" + i + "]", psi);
                sum += psi;
                features++;
                if (psi > max || worst.isEmpty()) {
                    max = Math.max(max, psi);
                    worst = e.getKey() + "[" + i + "]";
                }
            }
        }
        OptionalDouble conf = OptionalDouble.empty();
        if (p.confidence().isPresent() && s.confidence().isPresent() && s.confidence().get().count() >= settings.minSamples()) {
            conf = OptionalDouble.of(p.confidence().get().psi(s.confidence().get().decode()));
        }
        if (features == 0 && conf.isEmpty()) {
            return Optional.empty();
        }
        boolean breach = max > settings.threshold() || conf.isPresent() && conf.getAsDouble() > settings.threshold();
        State st = states.computeIfAbsent(mv, x -> restore(k.model(), k.version()));
        st.lastFeatures = java.util.Collections.unmodifiableMap(perFeature);
        if (breach) {
            st.breaching++;
            st.clean = 0;
        } else {
            st.clean++;
            st.breaching = 0;
        }
        String subject = k.model() + "/" + k.version();
        WindowScore w = new WindowScore(k.model(), k.version(), k.start(), samples, max, features == 0 ? 0 : sum / features, worst, conf,
                st.alarm ? st.clean < settings.consecutiveWindows() : st.breaching >= settings.consecutiveWindows());
        repo.saveWindow(w);
        if (w.alarm() != st.alarm) {
            st.alarm = w.alarm();
            Map<String, Object> detail = new TreeMap<>();
            detail.put("window_start", k.start().toString());
            detail.put("max_psi", max);
            detail.put("worst_feature", worst);
            detail.put("threshold", settings.threshold());
            detail.put("consecutive_windows", settings.consecutiveWindows());
            conf.ifPresent(c -> detail.put("confidence_psi", c));
            events.record(st.alarm ? "model.drift.alarm" : "model.drift.cleared", subject, null, detail);
            LOG.log(st.alarm ? System.Logger.Level.WARNING : System.Logger.Level.INFO, st.alarm
                    ? "input drift on {0}: worst feature {1} PSI {2} over {3} for {4} windows in a row (alarm raised)"
                    : "input drift on {0} cleared (worst feature {1} PSI {2}, threshold {3}, {4} clean windows)",
                    subject, worst, String.format(java.util.Locale.ROOT, "%.3f", max), settings.threshold(), settings.consecutiveWindows());
        }
        st.last = w;
        for (Consumer<WindowScore> l : listeners) {
            l.accept(w);
        }
        return Optional.of(w);
    }

    private State restore(String model, String version) {
        State st = new State();
        List<WindowScore> recent = repo.recent(model, version, settings.consecutiveWindows());
        if (!recent.isEmpty()) {
            st.alarm = recent.get(0).alarm();
            st.last = recent.get(0);
        }
        return st;
    }

    private void learn(List<String> mv, DriftStats s, Optional<ReferenceProfile> existing) {
        if (samples(s) < settings.minSamples() && existing.isEmpty()) {
            return;
        }
        Learner l = learning.computeIfAbsent(mv, x -> new Learner());
        l.acc.merge(s);
        l.windows++;
        if (l.windows < settings.referenceWindows()) {
            return;
        }
        learning.remove(mv);
        DriftStats learned = l.acc.stats().orElseThrow();
        Instant now = clock.instant();
        if (existing.isPresent()) {
            learned.confidence().ifPresent(c -> repo.saveReference(mv.get(0), mv.get(1),
                    existing.get().withConfidence(ReferenceProfile.bins(c, settings.bins())), now));
        } else {
            ReferenceProfile p = ReferenceProfile.of("traffic", learned, settings.bins());
            repo.saveReference(mv.get(0), mv.get(1), p, now);
            events.record("model.drift.reference", mv.get(0) + "/" + mv.get(1), null, Map.of("source", "traffic", "samples", p.samples(),
                    "windows", settings.referenceWindows()));
            LOG.log(System.Logger.Level.INFO, "drift reference of {0}/{1} learned from {2} windows of traffic ({3} samples)", mv.get(0), mv.get(1),
                    settings.referenceWindows(), p.samples());
        }
    }

    /** Values per feature: the smallest feature's count (0 when there are no input features). */
    static long samples(DriftStats s) {
        long n = Long.MAX_VALUE;
        for (List<FeatureSketch> fs : s.inputs().values()) {
            for (FeatureSketch f : fs) {
                n = Math.min(n, f.count());
            }
        }
        return n == Long.MAX_VALUE ? s.confidence().map(FeatureSketch::count).orElse(0L) : n;
    }

    /**
     * Records an operator's reference, replacing any; the version's judged windows and alarm start over.
     *
     * @param actor who set it, for the event
     */
    public synchronized void setReference(String model, String version, ReferenceProfile p, String actor) {
        List<String> mv = List.of(model, version);
        repo.deleteReference(model, version);
        repo.saveReference(model, version, p, clock.instant());
        learning.remove(mv);
        states.remove(mv);
        events.record("model.drift.reference", model + "/" + version, actor, Map.of("source", p.source(), "samples", p.samples()));
    }

    /** Forgets the reference (a new one is learned from traffic); true when there was one. */
    public synchronized boolean deleteReference(String model, String version, String actor) {
        List<String> mv = List.of(model, version);
        learning.remove(mv);
        states.remove(mv);
        boolean had = repo.deleteReference(model, version);
        if (had) {
            events.record("model.drift.reference.deleted", model + "/" + version, actor, Map.of());
        }
        return had;
    }

    /**
     * The PSI of every input feature ({@code tensor[i]}, the reference's order) in the last window this process judged
     * for the version; empty when it judged none since it started (kept in memory only: the store keeps the worst
     * feature of each window). For the console's drift view.
     */
    public synchronized Map<String, Double> lastFeaturePsi(String model, String version) {
        State st = states.get(List.of(model, version));
        return st == null ? Map.of() : st.lastFeatures;
    }

    /** The reference-learning progress of a version without one: windows merged so far. */
    public synchronized OptionalDouble learningWindows(String model, String version) {
        Learner l = learning.get(List.of(model, version));
        return l == null ? OptionalDouble.empty() : OptionalDouble.of(l.windows);
    }

    public DriftRepository repository() {
        return repo;
    }
}
