package io.edgefleet.sim;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What a simulation did and saw: per step (rollouts with their waves, gate values and bytes
 * synced), per fault (what was done and what happened), request outcomes per model version,
 * telemetry accounting (recorded on the devices vs ingested by the cloud), the expectations and
 * a per-second timeline. Written as {@code report.json} and rendered by {@link ReportHtml}.
 */
public record Report(Map<String, Object> scenario, String broker, Instant startedAt, double seconds, boolean passed,
        List<Expectation> expectations, List<StepResult> steps, List<FaultResult> faults, Requests requests, Telemetry telemetry,
        List<Sample> timeline, Map<String, Object> environment, Optional<Security> security, List<ExperimentResult> experiments) {

    /** A report without A/B experiments. */
    public Report(Map<String, Object> scenario, String broker, Instant startedAt, double seconds, boolean passed,
            List<Expectation> expectations, List<StepResult> steps, List<FaultResult> faults, Requests requests, Telemetry telemetry,
            List<Sample> timeline, Map<String, Object> environment, Optional<Security> security) {
        this(scenario, broker, startedAt, seconds, passed, expectations, steps, faults, requests, telemetry, timeline, environment, security,
                List.of());
    }

    /**
     * How the run was secured (absent for a plain broker).
     *
     * @param transport what protects the links
     * @param enrolled devices the control plane issued a certificate with the fleet's enrolment token
     * @param signedMessagesRequired whether state, telemetry and acks count only when signed by the enrolled device the topic names
     * @param refused device messages the control plane refused (unsigned, wrong signer, not enrolled...)
     * @param refusedByReason those, by reason
     */
    public record Security(String transport, long enrolled, boolean signedMessagesRequired, long refused, Map<String, Long> refusedByReason) {
    }

    /** One check of the outcome. */
    public record Expectation(String what, String expected, String actual, boolean ok) {
    }

    /**
     * The wave number a reader sees (1 for a rollout's first wave) for the control plane's internal
     * wave index (0 for the first). Every wave number in the report (JSON, HTML, summary) is one of
     * these, converted here and nowhere else, as the API numbers them.
     */
    static int waveNumber(int index) {
        return index + 1;
    }

    /**
     * A step: a registration, a rollout (with its waves, gates and sync volume) or a wait.
     *
     * @param stoppedInWave the number (from 1) of the wave a rollout that did not succeed stopped in
     * @param activations for a rollout: activated devices per wave, sampled while it ran, the last sample read after it ended
     * @param gatesInForce for a rollout: the gates' thresholds (the spec's over the control plane's defaults), by name
     * @param shadow for a rollout with a shadow wave: the candidate's agreement with the active version and the verdict
     */
    public record StepResult(String name, String type, double startedAt, double endedAt, Optional<String> version, Optional<String> kind,
            Optional<String> rolloutId, Optional<String> state, Optional<String> reason, Optional<Integer> stoppedInWave,
            List<WaveResult> waves, List<Gate> gates, Optional<Sync> sync, List<WaveSample> activations, Map<String, Object> gatesInForce,
            Optional<Shadow> shadow) {
        /** A step without a shadow wave. */
        public StepResult(String name, String type, double startedAt, double endedAt, Optional<String> version, Optional<String> kind,
                Optional<String> rolloutId, Optional<String> state, Optional<String> reason, Optional<Integer> stoppedInWave,
                List<WaveResult> waves, List<Gate> gates, Optional<Sync> sync, List<WaveSample> activations, Map<String, Object> gatesInForce) {
            this(name, type, startedAt, endedAt, version, kind, rolloutId, state, reason, stoppedInWave, waves, gates, sync, activations,
                    gatesInForce, Optional.empty());
        }

        /** A step that is not a rollout. */
        static StepResult plain(String name, String type, double startedAt, double endedAt, Optional<String> version, Optional<String> kind) {
            return new StepResult(name, type, startedAt, endedAt, version, kind, Optional.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty(), List.of(), List.of(), Optional.empty(), List.of(), Map.of());
        }
    }

    /**
     * A rollout's shadow waves as the control plane judged them (its status {@code shadow.totals} and the last shadow gate
     * evaluation, docs/shadow.md), with what the simulator saw.
     *
     * @param waves the numbers (from 1) of the shadow waves
     * @param samples shadow samples (candidate and active run on the same input) of the rollout's devices
     * @param agreement share of samples where the candidate's top-1 class equals the active version's; NaN before any sample
     * @param agreementUpper the upper end of the gate's confidence interval on the agreement (Wilson, one-sided 0.1 %) at
     *     its last judged look; NaN when it never judged
     * @param minAgreement the gate's threshold
     * @param devices devices that reported samples
     * @param latencyRatio median paired candidate/active model time; NaN when unknown
     * @param confidenceDiff mean candidate minus active top-class probability; NaN when unknown
     * @param answersWithCandidate answers the simulated clients received with {@code model_version} the candidate while
     *     its shadow waves ran (counted from the agents' answers, not from telemetry; read at the first look, every 250 ms,
     *     after the rollout left its last shadow wave, or at its end when it never did)
     * @param verdict one line: "rolled back in shadow wave 1, no device answered with it", "passed shadow wave 1 (...)"
     */
    public record Shadow(List<Integer> waves, long samples, double agreement, double agreementUpper, double minAgreement, long devices,
            double latencyRatio, double confidenceDiff, long nonFinite, long dropped, long answersWithCandidate, String verdict) {
    }

    /** A two-sided interval at the comparison's level; {@code significant} only for differences (it excludes 0). */
    public record Interval(double value, double low, double high, Optional<Boolean> significant) {
    }

    /**
     * One arm of an A/B experiment as the control plane counted it from telemetry, and the answers the simulated clients
     * received with that arm ({@code edgefleet.arm} on the answer).
     */
    public record Arm(String version, long requests, long errors, long devices, Optional<Interval> errorRate, Optional<Interval> latencyMs,
            Optional<Interval> confidence, long answersSeen) {
    }

    /**
     * An A/B experiment step (docs/ab.md): the comparison read from the control plane after the experiment was stopped and
     * its last windows ingested.
     *
     * @param judged both arms reached {@code minSamples} requests
     * @param difference B − A of {@code errorRate}, {@code latencyMs}, {@code confidence}, each with {@code significant}
     */
    public record ExperimentResult(String step, String id, String model, String splitBy, double share, double startedAt, double endedAt,
            double level, long minSamples, boolean judged, Arm a, Arm b, Map<String, Interval> difference) {
    }

    /** A wave of a rollout at its end: its number (from 1), how many devices, in which states. */
    public record WaveResult(int wave, long devices, Map<String, Long> states) {
    }

    /** Activated devices per wave number (from 1) at {@code t} seconds into the run. */
    public record WaveSample(double t, Map<Integer, Long> activatedByWave) {
    }

    /** A gate evaluation from the rollout's log, in the wave numbered {@code wave} (from 1). */
    public record Gate(double at, int wave, boolean passed, Map<String, Object> values) {
    }

    /**
     * Model-sync volume of a rollout: chunk bytes that crossed the links while it ran, against the
     * full size of the variant times the devices that activated it.
     */
    public record Sync(long bytesFetched, long variantBytes, long devicesActivated, long fullBytes, double ratio, long corruptedChunks) {
    }

    /** A fault: when, on whom, and what happened. */
    public record FaultResult(String type, String description, double at, double until, List<String> devices, String outcome,
            Map<String, Object> measured) {
    }

    /** Requests by the edge model version that was active on the device when they were sent. */
    public record Requests(long total, long errors, long cloudAnswered, long lowConfidence, Map<String, VersionStats> byVersion,
            Map<String, Long> errorKinds) {
    }

    /**
     * @param accuracy of the answers returned (edge or cloud), against the input set's labels
     * @param edgeAccuracy of the edge model alone on the same inputs (computed from its weights); -1 without an edge model
     * @param cloudShare of requests answered by the cloud
     */
    public record VersionStats(long requests, long errors, long cloudAnswered, double accuracy, double edgeAccuracy, double cloudShare,
            double p50Ms, double p95Ms) {
    }

    /**
     * @param recorded requests the agents recorded for telemetry (counted by a listener on each agent)
     * @param ingested what the cloud's aggregates hold for the fleet
     * @param lostOnKilled recorded but never ingested, by agents the scenario killed (their open telemetry window)
     * @param lostOnKilledBound what the kills may lose: the requests each killed agent recorded within one open
     *     window (window + one telemetry-loop tick + 2 s) before its kill; {@code lostOnKilled} above it is a real loss
     * @param lost the rest: recorded, not killed, not ingested; must be zero
     */
    public record Telemetry(long recorded, long ingested, long lostOnKilled, long lostOnKilledBound, long lost, long duplicatesDropped) {
    }

    /** One second of the run; {@code activatedByWave} is keyed by wave number, from 1. */
    public record Sample(double t, int requests, int errors, int cloud, int lowConfidence, double accuracy, double p50Ms, double p95Ms,
            double p99Ms, Map<String, Integer> versions, int online, int connected, Optional<String> step, Optional<String> rollout,
            Map<String, Long> rolloutStates, Map<Integer, Long> activatedByWave, long syncBytes, boolean brokerUp) {
    }

    static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules()
            .registerModule(new com.fasterxml.jackson.datatype.jdk8.Jdk8Module())
            .registerModule(new com.fasterxml.jackson.databind.module.SimpleModule().addSerializer(Double.class, new Rounded())
                    .addSerializer(double.class, new Rounded()))
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * Writes a double with at most {@value #DIGITS} significant digits ({@code 0.8341}, not
     * {@code 0.8341232876712329}): the report's numbers are measurements, and what a reader opens
     * must not show float noise. Non-finite values as Jackson writes them.
     */
    static final class Rounded extends com.fasterxml.jackson.databind.ser.std.StdSerializer<Double> {
        static final int DIGITS = 6;

        Rounded() {
            super(Double.class);
        }

        @Override
        public void serialize(Double v, com.fasterxml.jackson.core.JsonGenerator g, com.fasterxml.jackson.databind.SerializerProvider p)
                throws IOException {
            if (!Double.isFinite(v)) {
                g.writeNumber(v);
                return;
            }
            g.writeNumber(new java.math.BigDecimal(v).round(new java.math.MathContext(DIGITS)).stripTrailingZeros().toPlainString());
        }
    }

    /** {@code "overloaded: 71, queue full: 3"}: counts by a human name, for the summary and the page. */
    static String counts(Map<String, Long> byName) {
        StringBuilder b = new StringBuilder();
        byName.forEach((k, v) -> b.append(b.isEmpty() ? "" : ", ").append(k).append(": ").append(String.format(Locale.ROOT, "%,d", v)));
        return b.toString();
    }

    public Path writeJson(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            JSON.writeValue(file.toFile(), this);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String secs(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }

    static String mb(long bytes) {
        return bytes >= 1 << 20 ? String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0) : String.format(Locale.ROOT, "%.0f KiB", bytes / 1024.0);
    }

    static String pct(double share) {
        return String.format(Locale.ROOT, "%.1f %%", share * 100);
    }

    /**
     * {@code shadow wave 1: agreement 70.3 % (upper bound 78.9 %, min 95 %) over 412 samples on 4 devices, latency ratio
     * 1.02, confidence diff -0.012, non-finite 0: rolled back in shadow wave 1, no device answered with it}
     */
    static String shadowLine(Shadow x) {
        String waves = x.waves().size() == 1 ? "shadow wave " + x.waves().get(0) : "shadow waves " + x.waves();
        return String.format(Locale.ROOT, "%s: agreement %s (upper bound %s, min %s) over %,d samples on %d device%s, latency ratio %s, "
                + "confidence diff %s, non-finite %d: %s", waves, pctOrNa(x.agreement()), pctOrNa(x.agreementUpper()), pctOrNa(x.minAgreement()),
                x.samples(), x.devices(), x.devices() == 1 ? "" : "s", num(x.latencyRatio(), "%.2f"), num(x.confidenceDiff(), "%+.3f"),
                x.nonFinite(), x.verdict());
    }

    /** The A/B comparison as a small table: per arm requests, error rate, latency, confidence; then B − A. */
    static String experimentLines(ExperimentResult e) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "  %-14s A/B %s, v%s (A) vs v%s (B), %s %.0f %% to B, %.0f s: %s at %.0f %%%n", e.step(), e.id(),
                e.a().version(), e.b().version(), e.splitBy().equals("key") ? "by key," : "share", e.share() * 100, e.endedAt() - e.startedAt(),
                e.judged() ? "judged" : "not judged (fewer than " + e.minSamples() + " requests in an arm)", e.level() * 100));
        for (Arm a : List.of(e.a(), e.b())) {
            b.append(String.format(Locale.ROOT, "    arm %s v%-4s %,6d requests on %d devices (%,d answers seen), error rate %s, latency %s ms, "
                    + "confidence %s%n", a == e.a() ? "A" : "B", a.version(), a.requests(), a.devices(), a.answersSeen(),
                    interval(a.errorRate(), true), interval(a.latencyMs(), false), interval(a.confidence(), false)));
        }
        b.append("    B - A:");
        for (String k : List.of("errorRate", "latencyMs", "confidence")) {
            Interval d = e.difference().get(k);
            String label = switch (k) {
                case "errorRate" -> "error rate";
                case "latencyMs" -> "latency ms";
                default -> "confidence";
            };
            b.append(' ').append(label).append(' ').append(d == null ? "n/a" : interval(Optional.of(d), k.equals("errorRate"))
                    + d.significant().map(sig -> sig ? " significant" : " not significant").orElse(""));
            b.append(k.equals("confidence") ? "\n" : ";");
        }
        return b.toString();
    }

    /** {@code 0.512 [0.498, 0.526]}; percentages for rates. */
    static String interval(Optional<Interval> i, boolean rate) {
        if (i.isEmpty()) {
            return "n/a";
        }
        Interval x = i.get();
        String f = rate ? "%.2f %%" : "%.3f";
        double k = rate ? 100 : 1;
        return String.format(Locale.ROOT, f + " [" + f + ", " + f + "]", x.value() * k, x.low() * k, x.high() * k);
    }

    static String pctOrNa(double share) {
        return Double.isFinite(share) ? pct(share) : "n/a";
    }

    static String num(double v, String format) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "n/a";
    }

    /** The terminal summary. */
    public String summary(Path html) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%n%s: %s devices, %s, %.0f s%n", scenario.get("name"), scenario.get("devices"), broker, seconds));
        for (StepResult s : steps) {
            b.append(String.format(Locale.ROOT, "  %-14s ", s.name()));
            switch (s.type()) {
                case "register" -> b.append("registered v").append(s.version().orElse("?")).append(" (").append(s.kind().orElse("")).append(")");
                case "wait" -> b.append(String.format(Locale.ROOT, "waited %.0f s", s.endedAt() - s.startedAt()));
                case "experiment" -> b.append(String.format(Locale.ROOT, "A/B experiment with v%s as arm B for %.0f s (below)", s.version().orElse("?"),
                        s.endedAt() - s.startedAt()));
                default -> {
                    b.append(String.format(Locale.ROOT, "v%s %s after %.1f s", s.version().orElse("?"), s.state().orElse("?"), s.endedAt() - s.startedAt()));
                    s.stoppedInWave().ifPresent(w -> b.append(", stopped in wave ").append(w));
                    long act = s.waves().stream().mapToLong(w -> w.states().getOrDefault("activated", 0L)).sum();
                    long all = s.waves().stream().mapToLong(WaveResult::devices).sum();
                    b.append(", ").append(act).append("/").append(all).append(" activated");
                    s.sync().ifPresent(y -> b.append(", synced ").append(mb(y.bytesFetched())).append(y.devicesActivated() == 0
                            ? " (no device activated it)" : " for " + mb(y.fullBytes()) + " of files (" + pct(y.ratio()) + ")"));
                    s.reason().ifPresent(r -> b.append("\n                 ").append(r));
                    s.shadow().ifPresent(x -> b.append("\n                 ").append(shadowLine(x)));
                }
            }
            b.append('\n');
        }
        for (ExperimentResult e : experiments) {
            b.append(experimentLines(e));
        }
        if (!faults.isEmpty()) {
            b.append("  faults\n");
            for (FaultResult f : faults) {
                b.append(String.format(Locale.ROOT, "    %5.1f s %s: %s%n", f.at(), f.description(), f.outcome()));
            }
        }
        b.append(String.format(Locale.ROOT, "  requests %,d: cloud answered %,d (%s), low-confidence local %,d, errors %,d%s%n", requests.total(),
                requests.cloudAnswered(), pct(requests.total() == 0 ? 0 : (double) requests.cloudAnswered() / requests.total()),
                requests.lowConfidence(), requests.errors(), requests.errorKinds().isEmpty() ? "" : " (" + counts(requests.errorKinds()) + ")"));
        requests.byVersion().forEach((v, s) -> b.append(String.format(Locale.ROOT,
                "    %-8s %,7d requests, edge model alone %s accurate, answers given %s (cloud answered %s), p95 %.1f ms%n",
                v, s.requests(), s.edgeAccuracy() < 0 ? "n/a" : pct(s.edgeAccuracy()), pct(s.accuracy()), pct(s.cloudShare()), s.p95Ms())));
        b.append(String.format(Locale.ROOT, "  telemetry: %,d requests recorded on the devices, %,d ingested by the cloud, %,d lost%s%n",
                telemetry.recorded(), telemetry.ingested(), telemetry.lost(),
                telemetry.lostOnKilled() > 0 ? String.format(Locale.ROOT, " (+%,d in the open windows of killed agents, at most %,d allowed)",
                        telemetry.lostOnKilled(), telemetry.lostOnKilledBound()) : ""));
        security.ifPresent(x -> b.append(String.format(Locale.ROOT, "  security: %s, %d devices enrolled with a token, signed messages %s, %,d refused%s%n",
                x.transport(), x.enrolled(), x.signedMessagesRequired() ? "required" : "not required", x.refused(),
                x.refusedByReason().isEmpty() ? "" : " (" + counts(x.refusedByReason()) + ")")));
        long ok = expectations.stream().filter(Expectation::ok).count();
        for (Expectation e : expectations) {
            b.append(String.format(Locale.ROOT, "  [%s] %s: %s%n", e.ok() ? "ok" : "FAILED", e.what(), e.ok() ? e.actual()
                    : "expected " + e.expected() + ", got " + e.actual()));
        }
        b.append(String.format(Locale.ROOT, "%s: %d/%d expectations met%n", passed ? "PASSED" : "FAILED", ok, expectations.size()));
        b.append("report: ").append(html).append(" (data: ").append(html.resolveSibling("report.json")).append(")\n");
        return b.toString();
    }
}
