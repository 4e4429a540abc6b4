package io.edgefleet.cloud.drift;

import io.edgefleet.cloud.drift.DriftRepository.WindowScore;
import io.edgefleet.transport.metrics.LabelledGauges;
import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Tag;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Drift in Prometheus, set from each judged window ({@link DriftMonitor#listen}):
 * <ul>
 * <li>{@code edgefleet_model_input_drift_psi{model,version}}: the last judged window's worst feature PSI;</li>
 * <li>{@code edgefleet_model_confidence_drift_psi{model,version}}: its confidence PSI, when there is one;</li>
 * <li>{@code edgefleet_model_drift_alarm{model,version}}: 1 while the version is in alarm, else 0;</li>
 * <li>{@code edgefleet_model_drift_alarms_total{model,version}}: alarms raised.</li>
 * </ul>
 * One series per model version that has been judged since the start. Thread-safe.
 */
public final class DriftMeters {
    private final MeterRegistry registry;
    private final LabelledGauges psi;
    private final LabelledGauges confidence;
    private final LabelledGauges alarm;
    private final Map<List<String>, double[]> last = new HashMap<>();

    public DriftMeters(MeterRegistry registry) {
        this.registry = registry;
        List<String> labels = List.of("model", "version");
        psi = new LabelledGauges(registry, "edgefleet.model.input.drift.psi",
                "Worst input feature's population stability index of the last judged telemetry window against the reference", null, labels);
        confidence = new LabelledGauges(registry, "edgefleet.model.confidence.drift.psi",
                "Population stability index of the answers' confidence in the last judged window against the reference", null, labels);
        alarm = new LabelledGauges(registry, "edgefleet.model.drift.alarm",
                "1 while the model version's input or confidence drift is in alarm", null, labels);
    }

    /** Records a judged window. */
    public synchronized void accept(WindowScore w) {
        List<String> key = List.of(w.model(), w.version());
        double[] before = last.get(key);
        boolean raised = w.alarm() && (before == null || before[2] == 0);
        last.put(key, new double[] {w.maxPsi(), w.confidencePsi().orElse(Double.NaN), w.alarm() ? 1 : 0});
        Map<List<String>, Double> p = new HashMap<>();
        Map<List<String>, Double> c = new HashMap<>();
        Map<List<String>, Double> a = new HashMap<>();
        last.forEach((k, v) -> {
            p.put(k, v[0]);
            if (!Double.isNaN(v[1])) {
                c.put(k, v[1]);
            }
            a.put(k, v[2]);
        });
        psi.update(p);
        confidence.update(c);
        alarm.update(a);
        if (raised) {
            registry.getOrCreate(Counter.builder("edgefleet.model.drift.alarms").description("Drift alarms raised")
                    .tags(List.of(Tag.create("model", w.model()), Tag.create("version", w.version())))).increment();
        }
    }
}
