package io.edgefleet.cloud.rollout;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.protocols.Json;
import io.edgefleet.cloud.fleet.Selector;
import io.edgefleet.protocols.Checks;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * What a rollout does (JSON or YAML, {@code ./edgefleet rollout create FILE.yaml}). Unknown keys
 * are refused with their path ({@link #read}); every gate left out takes its default
 * ({@link Gates#defaults()}), so a {@code gates:} block only changes what it names.
 *
 * <pre>
 * model: kws
 * version: "2"
 * selector: fleet=plant-7,tag=line-3      # devices; those that match later join the next wave
 * waitForDevices: false                   # true: accept a selector that matches no device yet
 * waves:                                  # cumulative share (percent) or count of the selected devices
 *   - { percent: 1, bake: 10m }
 *   - { percent: 10, bake: 30m, telemetryWait: 1h, onTelemetryWait: proceed }   # per-wave override
 *   - { percent: 100, bake: 0s }
 * maxConcurrent: 50                       # devices downloading at once
 * maxPerMinute: 600                       # devices commanded per minute
 * commandTimeout: 10m                     # per attempt; then retried, then timed-out
 * retries: 2
 * onFailure: rollback                     # or pause
 * telemetryWait: 10m                      # longest a wave waits for telemetry once installed (default 10m)
 * onTelemetryWait: pause                  # then: pause (default) or proceed
 * gates:                                  # defaults in brackets
 *   minDevices: 1                         # [1, or 0 when the block names only install/stale gates] reporting devices
 *   minRequests: 0                        # [0] requests of the wave before it may pass
 *   minSamples: 30                        # [30] requests on each side before a rate or comparison can fail
 *   sustainedEvaluations: 3               # [3] consecutive evaluations on new telemetry a noisy gate must fail
 *   maxInstallFailures: 0                 # [0] failed or timed-out installs in the rollout so far
 *   maxErrorRate: 0.05                    # [off] errors / requests of the wave on the new version
 *   maxErrorRateIncrease: 0.02            # [0.05] ... minus the baseline's (devices still on the old version)
 *   maxP95Ratio: 2.0                      # [3.0] wave p95 / baseline p95 ...
 *   minP95IncreaseMs: 5                   # [5] ... and only when the p95 rose by more than this
 *   maxConfidenceDrop: 0.1                # [0.2] baseline mean confidence - wave mean confidence
 *   maxEscalationShare: 0.3               # [off] escalated / requests
 *   maxNonFiniteRate: 0                   # [0] answers with NaN or infinity / requests
 *   maxStale: 0                           # [0] updated devices gone stale or offline
 *   noDriftAlarm: true                    # [off] the new version's input drift alarm fails the wave (docs/drift.md)
 * shadowGates:                            # judge shadow waves (docs/shadow.md); defaults in brackets
 *   minSamples: 200                       # [200] shadow samples of the wave before it may pass or fail on agreement
 *   minAgreement: 0.95                    # [0.95] agreement with the active version (confidently below fails)
 *   maxLatencyRatio: 2.0                  # [2.0] median paired candidate/active model time ...
 *   minLatencyIncreaseMs: 1               # [1] ... and only when the candidate is slower by more than this
 *   maxNonFinite: 0                       # [0] candidate answers with NaN or infinity
 *   minDevices: 1                         # [1] shadowing devices that reported samples
 * </pre>
 * A wave may be {@code mode: shadow} ({@code - { percent: 5, mode: shadow, bake: 10m }}): its devices load the candidate
 * next to their active version and run it on a sampled share of live requests without it ever answering; the
 * {@code shadowGates} judge it before any device answers with the candidate. Shadow waves come before every normal wave,
 * and the last wave is a normal one.
 * Durations: {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h} or ISO-8601 ({@code PT30S}).
 */
public record RolloutSpec(String model, String version, String selector, List<Wave> waves, Optional<Integer> maxConcurrent,
        Optional<Integer> maxPerMinute, Optional<String> commandTimeout, Optional<Integer> retries, Optional<String> onFailure,
        Optional<Gates> gates, Optional<String> telemetryWait, Optional<String> onTelemetryWait, Optional<Boolean> waitForDevices,
        Optional<ShadowGates> shadowGates) {
    /** Default limit on waiting for a wave's telemetry. */
    public static final Duration DEFAULT_TELEMETRY_WAIT = Duration.ofMinutes(10);

    public RolloutSpec {
        Checks.id(model, "model");
        Checks.id(version, "version");
        selector = selector == null ? "" : selector;
        Selector.parse(selector);
        if (waves == null || waves.isEmpty()) {
            throw new IllegalArgumentException("waves: at least one wave, e.g. [{percent: 10, bake: 5m}, {percent: 100}]");
        }
        for (int i = 0; i < waves.size(); i++) {
            if (waves.get(i) == null) {
                throw new IllegalArgumentException("waves[" + i + "]: a wave is an object such as {percent: 10, bake: 5m}, not null");
            }
        }
        waves = List.copyOf(waves);
        shadowGates = shadowGates == null ? Optional.empty() : shadowGates;
        boolean normalSeen = false;
        for (int i = 0; i < waves.size(); i++) {
            Wave w = waves.get(i);
            if (w.mode().isPresent() && !w.mode().get().equals(Wave.NORMAL) && !w.mode().get().equals(Wave.SHADOW)) {
                throw new IllegalArgumentException("waves[" + i + "].mode: '" + w.mode().get() + "' is not normal or shadow");
            }
            if (w.shadow() && normalSeen) {
                throw new IllegalArgumentException("waves[" + i + "].mode: a shadow wave must come before every normal wave (its gates judge the"
                        + " candidate before any device answers with it)");
            }
            normalSeen |= !w.shadow();
        }
        if (waves.get(waves.size() - 1).shadow()) {
            throw new IllegalArgumentException("waves[" + (waves.size() - 1) + "].mode: the last wave must be a normal one (a shadow wave "
                    + "never makes the candidate answer, so the rollout could not finish)");
        }
        double last = 0;
        for (int i = 0; i < waves.size(); i++) {
            Wave w = waves.get(i);
            if (w.percent().isPresent() == w.count().isPresent()) {
                throw new IllegalArgumentException("waves[" + i + "]: give exactly one of percent and count");
            }
            if (w.percent().isPresent()) {
                double p = w.percent().getAsDouble();
                if (p <= 0 || p > 100 || p < last) {
                    throw new IllegalArgumentException("waves[" + i + "].percent: " + p + " must be in (0, 100] and not below the wave before");
                }
                last = p;
            } else if (w.count().getAsInt() < 1) {
                throw new IllegalArgumentException("waves[" + i + "].count must be >= 1");
            }
            w.bakeDuration();
            if (w.telemetryWait().isPresent()) {
                String field = "waves[" + i + "].telemetryWait";
                positive(parseDuration(w.telemetryWait().get(), field), field);
            }
            w.onTelemetryWait().ifPresent(RolloutSpec::checkOutcome);
        }
        maxConcurrent = maxConcurrent == null ? Optional.empty() : maxConcurrent;
        maxPerMinute = maxPerMinute == null ? Optional.empty() : maxPerMinute;
        commandTimeout = commandTimeout == null ? Optional.empty() : commandTimeout;
        commandTimeout.ifPresent(t -> positive(parseDuration(t, "commandTimeout"), "commandTimeout"));
        retries = retries == null ? Optional.empty() : retries;
        // values that could never let a rollout finish: refused at creation, not discovered as a stall
        maxConcurrent.ifPresent(n -> atLeast(n, 1, "maxConcurrent"));
        maxPerMinute.ifPresent(n -> atLeast(n, 1, "maxPerMinute"));
        retries.ifPresent(n -> atLeast(n, 0, "retries"));
        onFailure = onFailure == null ? Optional.empty() : onFailure;
        onFailure.ifPresent(f -> {
            if (!f.equals("rollback") && !f.equals("pause")) {
                throw new IllegalArgumentException("onFailure: '" + f + "' is not rollback or pause");
            }
        });
        gates = gates == null ? Optional.empty() : gates;
        telemetryWait = telemetryWait == null ? Optional.empty() : telemetryWait;
        telemetryWait.ifPresent(t -> positive(parseDuration(t, "telemetryWait"), "telemetryWait"));
        onTelemetryWait = onTelemetryWait == null ? Optional.empty() : onTelemetryWait;
        onTelemetryWait.ifPresent(RolloutSpec::checkOutcome);
        waitForDevices = waitForDevices == null ? Optional.empty() : waitForDevices;
    }

    private static void checkOutcome(String o) {
        if (!o.equals("proceed") && !o.equals("pause")) {
            throw new IllegalArgumentException("onTelemetryWait: '" + o + "' is not proceed or pause");
        }
    }

    /**
     * Reads a spec strictly: any key this record does not know is refused with its path
     * ({@code unknown key 'gates.minDevice' (known: ...)}), so a misspelt gate is never silently
     * ignored; other mistakes name their field.
     *
     * @throws IllegalArgumentException for an unknown key, or a value the record refuses
     * @throws io.edgefleet.protocols.ProtocolException for a wrong type, with the value's JSON path
     */
    public static RolloutSpec read(ObjectMapper mapper, JsonNode spec) {
        // Checked on the tree before binding: the record's own checks would otherwise report a
        // missing "waves" before a misspelt "wave".
        knownKeys(spec, "", RolloutSpec.class);
        if (spec.path("waves").isArray()) {
            for (int i = 0; i < spec.get("waves").size(); i++) {
                if (!spec.get("waves").get(i).isObject()) {
                    throw new IllegalArgumentException("waves[" + i + "]: a wave is an object such as {percent: 10, bake: 5m}, not "
                            + spec.get("waves").get(i).getNodeType().name().toLowerCase(java.util.Locale.ROOT));
                }
                knownKeys(spec.get("waves").get(i), "waves[" + i + "].", Wave.class);
            }
        }
        knownKeys(spec.path("gates"), "gates.", Gates.class);
        knownKeys(spec.path("shadowGates"), "shadowGates.", ShadowGates.class);
        try {
            return mapper.treeToValue(spec, RolloutSpec.class);
        } catch (JacksonException e) {
            throw Json.translate(e);
        }
    }

    private static void knownKeys(JsonNode node, String prefix, Class<? extends Record> type) {
        if (!node.isObject()) {
            return;
        }
        List<String> known = java.util.Arrays.stream(type.getRecordComponents()).map(java.lang.reflect.RecordComponent::getName).toList();
        for (java.util.Iterator<String> it = node.fieldNames(); it.hasNext();) {
            String key = it.next();
            if (!known.contains(key)) {
                throw new IllegalArgumentException("unknown key '" + prefix + key + "' (known: " + String.join(", ", known) + ")");
            }
        }
    }

    /**
     * One wave: a cumulative share ({@code percent}) or number ({@code count}) of the devices, then a bake time.
     * {@code mode}: {@code normal} (default: the devices activate the version) or {@code shadow} (they load it next to
     * the active version and run it on sampled requests without it answering; docs/shadow.md).
     */
    public record Wave(OptionalDouble percent, OptionalInt count, Optional<String> bake, Optional<String> telemetryWait,
            Optional<String> onTelemetryWait, Optional<String> mode) {
        public static final String NORMAL = "normal";
        public static final String SHADOW = "shadow";

        public Wave(OptionalDouble percent, OptionalInt count, Optional<String> bake, Optional<String> telemetryWait,
                Optional<String> onTelemetryWait) {
            this(percent, count, bake, telemetryWait, onTelemetryWait, Optional.empty());
        }

        /** Whether this wave runs the candidate in shadow. */
        @JsonIgnore
        public boolean shadow() {
            return mode.filter(SHADOW::equals).isPresent();
        }

        public Wave {
            mode = mode == null ? Optional.empty() : mode;
            percent = percent == null ? OptionalDouble.empty() : percent;
            count = count == null ? OptionalInt.empty() : count;
            bake = bake == null ? Optional.empty() : bake;
            telemetryWait = telemetryWait == null ? Optional.empty() : telemetryWait;
            onTelemetryWait = onTelemetryWait == null ? Optional.empty() : onTelemetryWait;
        }

        @JsonIgnore
        public Duration bakeDuration() {
            return bake.map(b -> parseDuration(b, "bake")).orElse(Duration.ZERO);
        }
    }

    /**
     * Health gates as the spec writes them; absent ones take their default when merged
     * ({@link #effectiveGates()}). An absent threshold with no default is not checked.
     */
    public record Gates(Optional<Integer> minDevices, Optional<Integer> maxInstallFailures, OptionalDouble maxErrorRate,
            OptionalDouble maxErrorRateIncrease, OptionalDouble maxP95Ratio, OptionalDouble maxConfidenceDrop, OptionalDouble maxEscalationShare,
            OptionalDouble maxNonFiniteRate, Optional<Integer> maxStale, Optional<Integer> minRequests, Optional<Integer> minSamples,
            OptionalDouble minP95IncreaseMs, Optional<Integer> sustainedEvaluations, OptionalDouble maxClientErrorRateIncrease,
            OptionalDouble maxMemoryGrowthRatio, Optional<Boolean> noDriftAlarm) {
        public Gates {
            noDriftAlarm = noDriftAlarm == null ? Optional.empty() : noDriftAlarm;
            maxMemoryGrowthRatio = maxMemoryGrowthRatio == null ? OptionalDouble.empty() : maxMemoryGrowthRatio;
            if (maxMemoryGrowthRatio.isPresent() && !(maxMemoryGrowthRatio.getAsDouble() >= 1)) {
                throw new IllegalArgumentException("gates.maxMemoryGrowthRatio must be a ratio >= 1 (1.5: RSS may grow by half)");
            }
            maxClientErrorRateIncrease = maxClientErrorRateIncrease == null ? OptionalDouble.empty() : maxClientErrorRateIncrease;
            if (maxClientErrorRateIncrease.isPresent() && !(maxClientErrorRateIncrease.getAsDouble() >= 0
                    && maxClientErrorRateIncrease.getAsDouble() <= 1)) {
                throw new IllegalArgumentException("gates.maxClientErrorRateIncrease must be a share between 0 and 1");
            }
            minDevices = nonNegative(minDevices, "minDevices");
            maxInstallFailures = nonNegative(maxInstallFailures, "maxInstallFailures");
            maxStale = nonNegative(maxStale, "maxStale");
            minRequests = nonNegative(minRequests, "minRequests");
            minSamples = nonNegative(minSamples, "minSamples");
            sustainedEvaluations = nonNegative(sustainedEvaluations, "sustainedEvaluations");
            if (sustainedEvaluations.isPresent() && sustainedEvaluations.get() < 1) {
                throw new IllegalArgumentException("gates.sustainedEvaluations must be >= 1");
            }
            maxErrorRate = nonNegative(maxErrorRate, "maxErrorRate");
            maxErrorRateIncrease = nonNegative(maxErrorRateIncrease, "maxErrorRateIncrease");
            maxP95Ratio = nonNegative(maxP95Ratio, "maxP95Ratio");
            maxConfidenceDrop = nonNegative(maxConfidenceDrop, "maxConfidenceDrop");
            maxEscalationShare = nonNegative(maxEscalationShare, "maxEscalationShare");
            maxNonFiniteRate = nonNegative(maxNonFiniteRate, "maxNonFiniteRate");
            minP95IncreaseMs = nonNegative(minP95IncreaseMs, "minP95IncreaseMs");
        }

        private static Optional<Integer> nonNegative(Optional<Integer> v, String name) {
            Optional<Integer> o = v == null ? Optional.empty() : v;
            if (o.isPresent() && o.get() < 0) {
                throw new IllegalArgumentException("gates." + name + " must be >= 0");
            }
            return o;
        }

        private static OptionalDouble nonNegative(OptionalDouble v, String name) {
            OptionalDouble o = v == null ? OptionalDouble.empty() : v;
            if (o.isPresent() && !(o.getAsDouble() >= 0)) {
                throw new IllegalArgumentException("gates." + name + " must be >= 0");
            }
            return o;
        }

        /** No threshold at all: the starting point for a test or a merge. */
        public static Gates none() {
            return new Gates(Optional.empty(), Optional.empty(), OptionalDouble.empty(), OptionalDouble.empty(), OptionalDouble.empty(),
                    OptionalDouble.empty(), OptionalDouble.empty(), OptionalDouble.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                    OptionalDouble.empty(), Optional.empty(), OptionalDouble.empty());
        }

        /**
         * The defaults, documented in docs/control-plane.md#rollout-gates: minDevices 1, minRequests 0,
         * minSamples 30, sustainedEvaluations 3, maxInstallFailures 0, maxErrorRateIncrease 0.05,
         * maxP95Ratio 3.0 with minP95IncreaseMs 5, maxConfidenceDrop 0.2, maxNonFiniteRate 0,
         * maxStale 0, maxClientErrorRateIncrease 0.05; maxErrorRate and maxEscalationShare off.
         */
        public static Gates defaults() {
            return new Gates(Optional.of(1), Optional.of(0), OptionalDouble.empty(), OptionalDouble.of(0.05), OptionalDouble.of(3.0),
                    OptionalDouble.of(0.2), OptionalDouble.empty(), OptionalDouble.of(0.0), Optional.of(0), Optional.of(0), Optional.of(30),
                    OptionalDouble.of(5.0), Optional.of(3), OptionalDouble.of(0.05));
        }

        /** True when this block names a gate judged on inference telemetry (not only install failures or staleness). */
        @JsonIgnore
        public boolean namesTelemetryGate() {
            return maxErrorRate.isPresent() || maxErrorRateIncrease.isPresent() || maxP95Ratio.isPresent() || maxConfidenceDrop.isPresent()
                    || maxEscalationShare.isPresent() || maxNonFiniteRate.isPresent() || minRequests.isPresent() || minDevices.isPresent()
                    || minP95IncreaseMs.isPresent() || maxClientErrorRateIncrease.isPresent() || driftGate();
        }

        /** True when the drift gate ({@code noDriftAlarm: true}, judged by {@code DriftGate}) is in force. */
        @JsonIgnore
        public boolean driftGate() {
            return noDriftAlarm.orElse(false);
        }

        /** The gates as written before the drift gate (issue 20). */
        public Gates(Optional<Integer> minDevices, Optional<Integer> maxInstallFailures, OptionalDouble maxErrorRate,
                OptionalDouble maxErrorRateIncrease, OptionalDouble maxP95Ratio, OptionalDouble maxConfidenceDrop,
                OptionalDouble maxEscalationShare, OptionalDouble maxNonFiniteRate, Optional<Integer> maxStale, Optional<Integer> minRequests,
                Optional<Integer> minSamples, OptionalDouble minP95IncreaseMs, Optional<Integer> sustainedEvaluations,
                OptionalDouble maxClientErrorRateIncrease, OptionalDouble maxMemoryGrowthRatio) {
            this(minDevices, maxInstallFailures, maxErrorRate, maxErrorRateIncrease, maxP95Ratio, maxConfidenceDrop, maxEscalationShare,
                    maxNonFiniteRate, maxStale, minRequests, minSamples, minP95IncreaseMs, sustainedEvaluations, maxClientErrorRateIncrease,
                    maxMemoryGrowthRatio, Optional.empty());
        }

        /** This block with the drift gate ({@code noDriftAlarm}) set. */
        public Gates withNoDriftAlarm(boolean on) {
            return new Gates(minDevices, maxInstallFailures, maxErrorRate, maxErrorRateIncrease, maxP95Ratio, maxConfidenceDrop, maxEscalationShare,
                    maxNonFiniteRate, maxStale, minRequests, minSamples, minP95IncreaseMs, sustainedEvaluations, maxClientErrorRateIncrease,
                    maxMemoryGrowthRatio, Optional.of(on));
        }

        /** Every threshold this block leaves out taken from {@code base}. */
        /** The gates without the memory-growth gate (issue 17), as written before it existed. */
        public Gates(Optional<Integer> minDevices, Optional<Integer> maxInstallFailures, OptionalDouble maxErrorRate,
                OptionalDouble maxErrorRateIncrease, OptionalDouble maxP95Ratio, OptionalDouble maxConfidenceDrop,
                OptionalDouble maxEscalationShare, OptionalDouble maxNonFiniteRate, Optional<Integer> maxStale, Optional<Integer> minRequests,
                Optional<Integer> minSamples, OptionalDouble minP95IncreaseMs, Optional<Integer> sustainedEvaluations,
                OptionalDouble maxClientErrorRateIncrease) {
            this(minDevices, maxInstallFailures, maxErrorRate, maxErrorRateIncrease, maxP95Ratio, maxConfidenceDrop, maxEscalationShare,
                    maxNonFiniteRate, maxStale, minRequests, minSamples, minP95IncreaseMs, sustainedEvaluations, maxClientErrorRateIncrease,
                    OptionalDouble.empty());
        }

        /** This block with {@code maxMemoryGrowthRatio} set. */
        public Gates withMaxMemoryGrowthRatio(double ratio) {
            return new Gates(minDevices, maxInstallFailures, maxErrorRate, maxErrorRateIncrease, maxP95Ratio, maxConfidenceDrop, maxEscalationShare,
                    maxNonFiniteRate, maxStale, minRequests, minSamples, minP95IncreaseMs, sustainedEvaluations, maxClientErrorRateIncrease,
                    OptionalDouble.of(ratio), noDriftAlarm);
        }

        public Gates over(Gates base) {
            return new Gates(or(minDevices, base.minDevices), or(maxInstallFailures, base.maxInstallFailures), or(maxErrorRate, base.maxErrorRate),
                    or(maxErrorRateIncrease, base.maxErrorRateIncrease), or(maxP95Ratio, base.maxP95Ratio), or(maxConfidenceDrop, base.maxConfidenceDrop),
                    or(maxEscalationShare, base.maxEscalationShare), or(maxNonFiniteRate, base.maxNonFiniteRate), or(maxStale, base.maxStale),
                    or(minRequests, base.minRequests), or(minSamples, base.minSamples), or(minP95IncreaseMs, base.minP95IncreaseMs),
                    or(sustainedEvaluations, base.sustainedEvaluations), or(maxClientErrorRateIncrease, base.maxClientErrorRateIncrease),
                    or(maxMemoryGrowthRatio, base.maxMemoryGrowthRatio), or(noDriftAlarm, base.noDriftAlarm));
        }

        private static <T> Optional<T> or(Optional<T> a, Optional<T> b) {
            return a.isPresent() ? a : b;
        }

        private static OptionalDouble or(OptionalDouble a, OptionalDouble b) {
            return a.isPresent() ? a : b;
        }
    }

    /**
     * The gates in force: the spec's {@code gates:} block over {@link Gates#defaults()}. One
     * exception keeps a rollout that asks for no telemetry from waiting for it: when the block
     * names only install or staleness gates, {@code minDevices} defaults to 0 (the default
     * telemetry thresholds still judge whatever telemetry arrives).
     */
    @JsonIgnore
    public Gates effectiveGates() {
        Gates given = gates.orElse(Gates.none());
        Gates base = Gates.defaults();
        if (gates.isPresent() && !given.namesTelemetryGate()) {
            base = new Gates(Optional.of(0), base.maxInstallFailures(), base.maxErrorRate(), base.maxErrorRateIncrease(), base.maxP95Ratio(),
                    base.maxConfidenceDrop(), base.maxEscalationShare(), base.maxNonFiniteRate(), base.maxStale(), base.minRequests(),
                    base.minSamples(), base.minP95IncreaseMs(), base.sustainedEvaluations(), base.maxClientErrorRateIncrease(),
                    base.maxMemoryGrowthRatio(), base.noDriftAlarm());
        }
        return given.over(base);
    }

    /**
     * Gates of shadow waves as the spec writes them ({@code shadowGates:}); absent ones take {@link #defaults()}. The
     * reasoning behind the defaults is in docs/shadow.md.
     *
     * @param minSamples shadow samples of the wave (all its devices' windows) before agreement and latency are judged
     * @param minAgreement share of samples agreeing with the active version, 0..1; the wave fails when the agreement's
     *     upper confidence bound is below it, passes when the agreement itself reaches it, and waits in between
     * @param maxLatencyRatio median paired candidate/active model time above which the wave fails ...
     * @param minLatencyIncreaseMs ... when the candidate is also slower than the active version by more than this
     * @param maxNonFinite candidate answers holding NaN or infinity, over the wave, before it fails (no noise to wait out)
     * @param minDevices devices of the wave that reported shadow samples before it may pass
     */
    public record ShadowGates(Optional<Integer> minSamples, OptionalDouble minAgreement, OptionalDouble maxLatencyRatio,
            OptionalDouble minLatencyIncreaseMs, Optional<Integer> maxNonFinite, Optional<Integer> minDevices) {
        public ShadowGates {
            minSamples = minSamples == null ? Optional.empty() : minSamples;
            minAgreement = minAgreement == null ? OptionalDouble.empty() : minAgreement;
            maxLatencyRatio = maxLatencyRatio == null ? OptionalDouble.empty() : maxLatencyRatio;
            minLatencyIncreaseMs = minLatencyIncreaseMs == null ? OptionalDouble.empty() : minLatencyIncreaseMs;
            maxNonFinite = maxNonFinite == null ? Optional.empty() : maxNonFinite;
            minDevices = minDevices == null ? Optional.empty() : minDevices;
            if (minSamples.isPresent() && minSamples.get() < 1) {
                throw new IllegalArgumentException("shadowGates.minSamples must be >= 1");
            }
            if (minAgreement.isPresent() && !(minAgreement.getAsDouble() >= 0 && minAgreement.getAsDouble() <= 1)) {
                throw new IllegalArgumentException("shadowGates.minAgreement must be a share between 0 and 1 (0.95: 95 % agreement)");
            }
            if (maxLatencyRatio.isPresent() && !(maxLatencyRatio.getAsDouble() >= 1 && Double.isFinite(maxLatencyRatio.getAsDouble()))) {
                throw new IllegalArgumentException("shadowGates.maxLatencyRatio must be a ratio >= 1 (2.0: at most twice the active version's time)");
            }
            if (minLatencyIncreaseMs.isPresent() && !(minLatencyIncreaseMs.getAsDouble() >= 0)) {
                throw new IllegalArgumentException("shadowGates.minLatencyIncreaseMs must be >= 0");
            }
            if (maxNonFinite.isPresent() && maxNonFinite.get() < 0) {
                throw new IllegalArgumentException("shadowGates.maxNonFinite must be >= 0");
            }
            if (minDevices.isPresent() && minDevices.get() < 1) {
                throw new IllegalArgumentException("shadowGates.minDevices must be >= 1");
            }
        }

        /** minSamples 200, minAgreement 0.95, maxLatencyRatio 2.0 with minLatencyIncreaseMs 1, maxNonFinite 0, minDevices 1. */
        public static ShadowGates defaults() {
            return new ShadowGates(Optional.of(200), OptionalDouble.of(0.95), OptionalDouble.of(2.0), OptionalDouble.of(1.0), Optional.of(0),
                    Optional.of(1));
        }

        /** Every threshold this block leaves out taken from {@code base}. */
        public ShadowGates over(ShadowGates base) {
            return new ShadowGates(minSamples.or(base::minSamples), minAgreement.isPresent() ? minAgreement : base.minAgreement,
                    maxLatencyRatio.isPresent() ? maxLatencyRatio : base.maxLatencyRatio,
                    minLatencyIncreaseMs.isPresent() ? minLatencyIncreaseMs : base.minLatencyIncreaseMs, maxNonFinite.or(base::maxNonFinite),
                    minDevices.or(base::minDevices));
        }
    }

    /** The shadow gates in force: the spec's {@code shadowGates:} block over {@link ShadowGates#defaults()}. */
    @JsonIgnore
    public ShadowGates effectiveShadowGates() {
        return shadowGates.orElse(new ShadowGates(null, null, null, null, null, null)).over(ShadowGates.defaults());
    }

    /** Whether wave {@code wave} (0-based) is a shadow wave. */
    @JsonIgnore
    public boolean shadowWave(int wave) {
        return waves.get(wave).shadow();
    }

    /** How long wave {@code wave} (0-based) may wait for telemetry once installed. */
    @JsonIgnore
    public Duration telemetryWaitOf(int wave) {
        Wave w = waves.get(wave);
        return w.telemetryWait().or(() -> telemetryWait).map(t -> parseDuration(t, "telemetryWait")).orElse(DEFAULT_TELEMETRY_WAIT);
    }

    /** True when a wave that waited {@link #telemetryWaitOf} proceeds; false when the rollout pauses. */
    @JsonIgnore
    public boolean proceedAfterTelemetryWait(int wave) {
        return waves.get(wave).onTelemetryWait().or(() -> onTelemetryWait).orElse("pause").equals("proceed");
    }

    /** Whether a selector matching no device is accepted (the rollout waits for devices to join). */
    @JsonIgnore
    public boolean waitsForDevices() {
        return waitForDevices.orElse(false);
    }

    @JsonIgnore
    public Duration timeout() {
        return commandTimeout.map(t -> parseDuration(t, "commandTimeout")).orElse(Duration.ofMinutes(10));
    }

    @JsonIgnore
    public boolean rollbackOnFailure() {
        return onFailure.orElse("rollback").equals("rollback");
    }

    private static void positive(Duration d, String field) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(field + " must be longer than 0, got " + d);
        }
    }

    private static void atLeast(int n, int min, String field) {
        if (n < min) {
            throw new IllegalArgumentException(field + " must be >= " + min + ", got " + n);
        }
    }

    public static Duration parseDuration(String s, String field) {
        String t = s.strip();
        try {
            if (t.startsWith("P") || t.startsWith("p")) {
                return Duration.parse(t);
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            long n = Long.parseLong(t.substring(0, t.length() - 1));
            return switch (t.charAt(t.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                case 'd' -> Duration.ofDays(n);
                default -> throw new NumberFormatException();
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(field + ": '" + s + "' is not a duration (500ms, 30s, 10m, 1h, or ISO-8601)");
        }
    }
}
