package io.edgefleet.cloud.rollout;

import io.edgefleet.cloud.rollout.Readings.MemoryPair;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code maxMemoryGrowthRatio} gate (off unless a rollout's gates name it): fails when the agents' resident memory
 * grew clearly after the update. Each updated device is paired with itself: its agent's RSS in its last resource report
 * before it was commanded, against its last report at least {@link #SETTLE_MILLIS} after it activated the new version.
 * It trips only when all of these hold, so noise does not roll a good version back (the reasoning is in
 * docs/judgements.md, "A memory gate that does not cry wolf"):
 * <ul>
 *   <li>at least {@link #MIN_PAIRS} devices have both reports;</li>
 *   <li>the <b>median</b> of the per-device ratios after / before is over {@code max} (one device's GC timing or a
 *       heap that has not shrunk yet does not move a median);</li>
 *   <li>and the median absolute growth is over {@link #MIN_GROWTH_BYTES} (a 60 MiB agent growing to 100 MiB is a
 *       ratio of 1.7 and no problem on a device with gigabytes).</li>
 * </ul>
 * Noisy: the violation must hold on {@code sustainedEvaluations} evaluations with new evidence. Without pairs the gate
 * is not judged and does not hold the wave: memory is read where it is reported. A pure function.
 */
final class MemoryGrowthGate {
    /** Devices with a before and an after report the gate needs. */
    static final int MIN_PAIRS = 1;
    /** The median growth, in bytes, below which no ratio fails the gate. */
    static final long MIN_GROWTH_BYTES = 64L << 20;
    /** How long after activation a report counts as "after": the new model loaded, the old one released, a GC or two run. */
    static final long SETTLE_MILLIS = 30_000;

    private MemoryGrowthGate() {
    }

    /**
     * @param max the largest tolerated median ratio of RSS after / before (1.5: half as much again)
     * @param detail receives {@code memoryPairs}, {@code memoryGrowthRatio} (median), {@code memoryGrowthBytes} (median)
     * @return the check; unjudged without pairs
     */
    static Gates.Check check(double max, List<MemoryPair> pairs, Map<String, Object> detail) {
        List<MemoryPair> usable = pairs.stream().filter(p -> p.beforeBytes() > 0 && p.afterBytes() > 0).toList();
        detail.put("memoryPairs", usable.size());
        if (usable.size() < MIN_PAIRS) {
            return Gates.Check.unjudged("maxMemoryGrowthRatio", "no updated device has reported its memory from before its update and "
                    + SETTLE_MILLIS / 1000 + " s after it");
        }
        double ratio = median(usable.stream().mapToDouble(p -> (double) p.afterBytes() / p.beforeBytes()).sorted().toArray());
        double growth = median(usable.stream().mapToDouble(p -> p.afterBytes() - p.beforeBytes()).sorted().toArray());
        detail.put("memoryGrowthRatio", ratio);
        detail.put("memoryGrowthBytes", (long) growth);
        boolean violated = ratio > max && growth > MIN_GROWTH_BYTES;
        return violated ? new Gates.Check("maxMemoryGrowthRatio", true, Optional.of(String.format(Locale.ROOT,
                "agent memory grew %.2fx (median over %d device(s), +%d MiB) after the update (max %.2fx and +%d MiB)", ratio, usable.size(),
                (long) growth >> 20, max, MIN_GROWTH_BYTES >> 20)), Optional.empty()) : Gates.Check.ok("maxMemoryGrowthRatio", true);
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
