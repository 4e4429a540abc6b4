package io.edgefleet.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A rollout's shadow waves for the report (docs/shadow.md): the numbers the control plane's shadow gate judged at its
 * last look (from the rollout's gate log), the gate's threshold (from the status' {@code shadow.gates}), and a verdict
 * that says whether any device answered with the candidate, counted from the simulated clients' answers.
 */
final class ShadowReadout {
    private ShadowReadout() {
    }

    /** The numbers (from 1) of the spec's shadow waves; empty when it has none. */
    static List<Integer> shadowWaves(ObjectNode spec) {
        List<Integer> out = new ArrayList<>();
        JsonNode waves = spec.path("waves");
        for (int i = 0; i < waves.size(); i++) {
            if (waves.get(i).path("mode").asText("normal").equals("shadow")) {
                out.add(Report.waveNumber(i));
            }
        }
        return out;
    }

    /**
     * @param status the rollout's status JSON ({@code GET /api/v1/rollouts/{id}}), read after it ended
     * @param gates the rollout's gate evaluations, oldest first
     * @param state the rollout's end state
     * @param stoppedInWave the wave (from 1) it stopped in, when it did not succeed
     * @param answersWithCandidate answers the clients received from the candidate while the rollout ran
     */
    static Optional<Report.Shadow> read(ObjectNode spec, JsonNode status, List<Report.Gate> gates, String state, Optional<Integer> stoppedInWave,
            long answersWithCandidate) {
        List<Integer> waves = shadowWaves(spec);
        if (waves.isEmpty()) {
            return Optional.empty();
        }
        JsonNode shadow = status.path("shadow");
        double minAgreement = shadow.path("gates").path("minAgreement").asDouble(Double.NaN);
        Map<String, Object> last = Map.of();
        for (Report.Gate g : gates) {
            if ("shadow".equals(g.values().get("mode")) && g.values().containsKey("shadowSamples")) {
                last = g.values();
            }
        }
        JsonNode totals = shadow.path("totals");
        long samples = last.isEmpty() ? totals.path("samples").asLong(0) : number(last, "shadowSamples").longValue();
        double agreement = last.isEmpty() ? totals.path("agreement").asDouble(Double.NaN) : orNaN(last, "shadowAgreement");
        double upper = last.isEmpty() ? Double.NaN : orNaN(last, "shadowAgreementUpper");
        long devices = last.isEmpty() ? totals.path("devices").asLong(0) : number(last, "shadowDevices").longValue();
        double latency = last.isEmpty() ? totals.path("latencyRatio").asDouble(Double.NaN) : orNaN(last, "shadowLatencyRatio");
        double confidence = last.isEmpty() ? totals.path("confidenceDiff").asDouble(Double.NaN) : orNaN(last, "shadowConfidenceDiff");
        long nonFinite = last.isEmpty() ? totals.path("nonFinite").asLong(0) : number(last, "shadowNonFinite").longValue();
        long dropped = last.isEmpty() ? totals.path("dropped").asLong(0) : number(last, "shadowDropped").longValue();
        return Optional.of(new Report.Shadow(waves, samples, agreement, upper, minAgreement, devices, latency, confidence, nonFinite, dropped,
                answersWithCandidate, verdict(waves, state, stoppedInWave, answersWithCandidate)));
    }

    static String verdict(List<Integer> waves, String state, Optional<Integer> stoppedInWave, long answersWithCandidate) {
        String answered = answersWithCandidate == 0 ? "no device answered with it"
                : String.format(java.util.Locale.ROOT, "%,d answers were given with it", answersWithCandidate);
        if (stoppedInWave.isPresent() && waves.contains(stoppedInWave.get())) {
            return (state.equals("rolled-back") ? "rolled back" : state) + " in shadow wave " + stoppedInWave.get() + ", " + answered;
        }
        String passed = "passed shadow wave" + (waves.size() == 1 ? " " + waves.get(0) : "s " + waves);
        return passed + ", then " + state + (stoppedInWave.map(w -> " in wave " + w).orElse(""));
    }

    private static Number number(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number n ? n : 0;
    }

    private static double orNaN(Map<String, Object> m, String key) {
        return m.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
    }
}
