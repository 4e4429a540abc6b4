package io.edgefleet.sim;

import io.edgefleet.protocols.oip.InferResponse;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the simulated clients were answered with, counted from each answer itself: the {@code model_version} that
 * answered (the agent's own word, not the version the device had active when the request was sent), and for A/B
 * experiments the {@code edgefleet.experiment}/{@code edgefleet.arm} parameters (docs/ab.md). Thread-safe: the load's
 * virtual threads count concurrently.
 */
final class Answers {
    private final Map<String, LongAdder> byVersion = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> byArm = new ConcurrentHashMap<>();

    /** Counts one edge answer; cloud answers (escalated) are counted under their own version too. */
    void count(InferResponse r) {
        byVersion.computeIfAbsent(r.modelVersion().orElse("?"), k -> new LongAdder()).increment();
        var experiment = r.parameters().string("edgefleet.experiment");
        var arm = r.parameters().string("edgefleet.arm");
        if (experiment.isPresent() && arm.isPresent()) {
            byArm.computeIfAbsent(experiment.get() + "/" + arm.get(), k -> new LongAdder()).increment();
        }
    }

    /** Answers given with {@code version} so far. */
    long withVersion(String version) {
        LongAdder a = byVersion.get(version);
        return a == null ? 0 : a.sum();
    }

    /** Answers of {@code experiment}'s {@code arm} ({@code a} or {@code b}) so far. */
    long withArm(String experiment, String arm) {
        LongAdder a = byArm.get(experiment + "/" + arm);
        return a == null ? 0 : a.sum();
    }

    /** Answers by the version that gave them, sorted by version. */
    Map<String, Long> byVersion() {
        Map<String, Long> out = new TreeMap<>();
        byVersion.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
