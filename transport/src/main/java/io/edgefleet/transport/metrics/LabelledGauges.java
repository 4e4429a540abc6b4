package io.edgefleet.transport.metrics;

import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Meter;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Tag;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One gauge family whose label values come and go (rollouts by state, devices by status and version): {@link #update} is given
 * the whole current set of (label values → value); gauges appear for new label sets and are removed for those gone, so a
 * scrape shows exactly the current set and the number of series stays the size of that set.
 *
 * <p>Thread-safe: {@link #update} is called from one refresher thread, scrapes read the values concurrently.
 */
public final class LabelledGauges {
    private final MeterRegistry registry;
    private final String name;
    private final String help;
    private final String unit;
    private final List<String> labels;
    private final Map<List<String>, Double> values = new ConcurrentHashMap<>();
    private final Map<List<String>, Meter> meters = new HashMap<>();

    /**
     * @param name the meter name in Micrometer's dotted form ({@code edgefleet.cloud.rollouts}), exposed with underscores
     * @param help the HELP text
     * @param unit the base unit ({@code bytes}, {@code seconds}) appended to the name, or null
     * @param labels the label names, in the order {@link #update}'s keys give their values
     */
    public LabelledGauges(MeterRegistry registry, String name, String help, String unit, List<String> labels) {
        this.registry = registry;
        this.name = name;
        this.help = help;
        this.unit = unit;
        this.labels = List.copyOf(labels);
    }

    /** Sets the family to exactly {@code current}: each key is the label values in the constructor's order. */
    public synchronized void update(Map<List<String>, ? extends Number> current) {
        for (var it = meters.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            if (!current.containsKey(e.getKey())) {
                registry.remove(e.getValue());
                values.remove(e.getKey());
                it.remove();
            }
        }
        current.forEach((key, v) -> {
            if (key.size() != labels.size()) {
                throw new IllegalArgumentException(name + ": expected labels " + labels + ", got values " + key);
            }
            values.put(key, v.doubleValue());
            meters.computeIfAbsent(key, k -> {
                List<Tag> tags = new ArrayList<>();
                for (int i = 0; i < labels.size(); i++) {
                    tags.add(Tag.create(labels.get(i), k.get(i)));
                }
                var b = Gauge.builder(name, () -> values.getOrDefault(k, 0.0)).description(help).tags(tags);
                if (unit != null) {
                    b.baseUnit(unit);
                }
                return registry.getOrCreate(b);
            });
        });
    }
}
