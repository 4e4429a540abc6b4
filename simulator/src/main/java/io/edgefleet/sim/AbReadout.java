package io.edgefleet.sim;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An A/B experiment's comparison for the report: the control plane's {@code GET /api/v1/experiments/{id}} answer
 * (docs/ab.md: per arm requests, errors, devices and the intervals of error rate, latency and confidence; B − A with
 * {@code significant}) turned into {@link Report.ExperimentResult}, with the answers the simulated clients saw per arm.
 */
final class AbReadout {
    private AbReadout() {
    }

    /**
     * @param experiment the experiment's JSON with its {@code comparison}
     * @param answersA answers the clients received from arm A ({@code edgefleet.arm} {@code a}); likewise {@code answersB}
     */
    static Report.ExperimentResult read(String step, JsonNode experiment, double startedAt, double endedAt, long answersA, long answersB) {
        JsonNode c = experiment.path("comparison");
        Map<String, Report.Interval> diff = new LinkedHashMap<>();
        for (String k : new String[] {"errorRate", "latencyMs", "confidence"}) {
            interval(c.path("difference").path(k)).ifPresent(i -> diff.put(k, i));
        }
        return new Report.ExperimentResult(step, experiment.path("id").asText(), experiment.path("model").asText(),
                experiment.path("splitBy").asText("share"), experiment.path("share").asDouble(), startedAt, endedAt, c.path("level").asDouble(0.95),
                c.path("minSamples").asLong(), c.path("judged").asBoolean(false), arm(experiment.path("versionA").asText(), c.path("a"), answersA),
                arm(experiment.path("versionB").asText(), c.path("b"), answersB), diff);
    }

    private static Report.Arm arm(String version, JsonNode a, long seen) {
        return new Report.Arm(version, a.path("requests").asLong(), a.path("errors").asLong(), a.path("devices").asLong(),
                interval(a.path("errorRate")), interval(a.path("latencyMs")), interval(a.path("confidence")), seen);
    }

    private static Optional<Report.Interval> interval(JsonNode n) {
        if (!n.has("value")) {
            return Optional.empty();
        }
        double v = n.get("value").asDouble();
        return Optional.of(new Report.Interval(v, n.path("low").asDouble(v), n.path("high").asDouble(v),
                n.has("significant") ? Optional.of(n.get("significant").asBoolean()) : Optional.empty()));
    }
}
