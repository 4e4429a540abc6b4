package io.edgefleet.agent.serving;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per model version counters in the shape of Triton's statistics extension
 * ({@code GET /v2/models/{m}/stats}, KServe v2 / Triton {@code model_statistics}): since the agent
 * started, {@code inference_count} (inferences, counting each element of a batch),
 * {@code execution_count} (runtime executions: one per request, the agent does not batch requests
 * together), {@code last_inference} (milliseconds since the epoch), and in
 * {@code inference_stats} a count and a cumulative duration in nanoseconds for: {@code success}
 * (requests answered, from taking the model to the answer), {@code fail} (requests that failed
 * once the model was taken, the client's mistakes included), {@code queue} (waiting for a
 * runtime thread), {@code compute_input} (checking the inputs against the model's signature),
 * {@code compute_infer} (the runtime's call) and {@code compute_output} (picking the requested
 * outputs). Thread-safe; recorded by {@link InferenceService} on its callers' and pool threads.
 */
public final class ModelStatistics {
    /** Triton's duration names, in its order. */
    public static final List<String> DURATIONS = List.of("success", "fail", "queue", "compute_input", "compute_infer", "compute_output");

    private final Map<Key, Counters> byVersion = new ConcurrentHashMap<>();

    private record Key(String model, String version) {
    }

    /** The counters of one model version. */
    static final class Counters {
        final LongAdder inferences = new LongAdder();
        final LongAdder executions = new LongAdder();
        final AtomicLong lastInferenceMillis = new AtomicLong();
        final LongAdder[] counts = new LongAdder[DURATIONS.size()];
        final LongAdder[] nanos = new LongAdder[DURATIONS.size()];

        Counters() {
            for (int i = 0; i < counts.length; i++) {
                counts[i] = new LongAdder();
                nanos[i] = new LongAdder();
            }
        }

        void add(String duration, long ns) {
            int i = DURATIONS.indexOf(duration);
            counts[i].increment();
            nanos[i].add(Math.max(0, ns));
        }
    }

    Counters of(String model, String version) {
        return byVersion.computeIfAbsent(new Key(model, version), k -> new Counters());
    }

    /** Records an answered request of {@code batch} inferences that took {@code totalNanos}. */
    void success(String model, String version, long batch, long totalNanos) {
        Counters c = of(model, version);
        c.inferences.add(batch);
        c.executions.increment();
        c.lastInferenceMillis.set(System.currentTimeMillis());
        c.add("success", totalNanos);
    }

    void fail(String model, String version, long totalNanos) {
        Counters c = of(model, version);
        c.lastInferenceMillis.set(System.currentTimeMillis());
        c.add("fail", totalNanos);
    }

    /**
     * The statistics of {@code model} (every version seen since start, or only {@code version}), or
     * of every model when {@code model} is empty, as Triton's {@code {"model_stats": [...]}}. A
     * model that has served nothing yet is listed with zeros when {@code known} names it.
     */
    public Map<String, Object> json(Optional<String> model, Optional<String> version, Map<String, String> known) {
        Map<Key, Counters> picked = new java.util.TreeMap<>(java.util.Comparator.comparing(Key::model).thenComparing(Key::version));
        byVersion.forEach((k, c) -> {
            if (model.map(k.model()::equals).orElse(true) && version.map(k.version()::equals).orElse(true)) {
                picked.put(k, c);
            }
        });
        known.forEach((m, v) -> {
            if (model.map(m::equals).orElse(true) && version.map(v::equals).orElse(true)) {
                picked.putIfAbsent(new Key(m, v), new Counters());
            }
        });
        List<Map<String, Object>> stats = new ArrayList<>();
        picked.forEach((k, c) -> {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("name", k.model());
            s.put("version", k.version());
            s.put("last_inference", c.lastInferenceMillis.get());
            s.put("inference_count", c.inferences.sum());
            s.put("execution_count", c.executions.sum());
            Map<String, Object> durations = new LinkedHashMap<>();
            for (int i = 0; i < DURATIONS.size(); i++) {
                Map<String, Long> d = new LinkedHashMap<>();
                d.put("count", c.counts[i].sum());
                d.put("ns", c.nanos[i].sum());
                durations.put(DURATIONS.get(i), d);
            }
            s.put("inference_stats", durations);
            s.put("batch_stats", List.of());
            stats.add(s);
        });
        return Map.of("model_stats", stats);
    }
}
