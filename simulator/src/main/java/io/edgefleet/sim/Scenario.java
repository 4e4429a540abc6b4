package io.edgefleet.sim;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.edgefleet.cloud.rollout.RolloutSpec;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * A simulation, as written in a scenario file (YAML): the fleet by device profile and count, the
 * model versions to register, the rollouts, the faults and when they strike, the request load.
 * {@link #parse} checks everything before anything starts and names the field that is wrong.
 * The format is documented in docs/simulator.md; {@code scenarios/demo.yaml} is the demo.
 */
public record Scenario(String name, long seed, Duration maxDuration, Fleet fleet, String broker, Model model, Escalation escalation,
        Load load, List<Step> steps, List<Fault> faults) {

    private static final com.fasterxml.jackson.databind.ObjectMapper SPECS = io.edgefleet.protocols.Json.jsonMapper(
            io.edgefleet.protocols.DecodeLimits.DEFAULT);

    /**
     * Devices: a fleet id and groups of one profile each.
     *
     * @param shadowShare the share of answered requests each agent's shadow runner samples when a shadow candidate is
     *     loaded ({@code agent.shadow.share}, docs/shadow.md); empty: the agent's default (0.1)
     */
    public record Fleet(String name, List<Group> groups, boolean http, Duration telemetryWindow, Duration heartbeat, OptionalDouble shadowShare) {
        public Fleet(String name, List<Group> groups, boolean http, Duration telemetryWindow, Duration heartbeat) {
            this(name, groups, http, telemetryWindow, heartbeat, OptionalDouble.empty());
        }

        public int size() {
            return groups.stream().mapToInt(Group::count).sum();
        }
    }

    public record Group(String profile, int count) {
    }

    /** The model the fleet serves and the model the cloud answers escalations with. */
    public record Model(String name, String cloudName, ActivityModels.Kind cloudKind) {
    }

    /** The agents' escalation policy for the model; empty threshold means no joint inference. */
    public record Escalation(OptionalDouble threshold, double maxShare, Duration deadline) {
    }

    /** Requests per second per device over a labelled input set of {@code inputs} entries. */
    public record Load(double perDevice, int inputs) {
    }

    /** One step; they run in order. */
    public sealed interface Step permits Register, Rollout, Wait, Experiment {
        String name();
    }

    /**
     * Registers a version of the model (an ONNX variant for every profile of the fleet).
     *
     * @param disagree the share of inputs on which the version's top-1 class differs from its kind's own (0: the kind
     *     itself; {@link ActivityModels#weights(ActivityModels.Kind, double)}): a shadow candidate of known agreement
     */
    public record Register(String name, String version, ActivityModels.Kind kind, double disagree) implements Step {
        public Register(String name, String version, ActivityModels.Kind kind) {
            this(name, version, kind, 0);
        }
    }

    /**
     * Runs an A/B experiment (docs/ab.md) for {@code duration} from when every device answers in it (each first fetches
     * and verifies arm B; at most 60 s): arm A the devices' active version, arm B {@code version},
     * split by {@code share} ({@code splitBy} {@code share}, or {@code key}: the simulated requests carry the input's
     * index as their split key), on the scenario's fleet; then stops it and reads the control plane's comparison.
     * {@code expectJudged}: the comparison must have {@code minSamples} requests in each arm (an expectation).
     */
    public record Experiment(String name, String version, double share, String splitBy, Duration duration, boolean expectJudged)
            implements Step {
    }

    /**
     * Rolls a version out with the rollout spec (the control plane's format; model and selector
     * default to the scenario's) and waits until the rollout ends or {@code timeout} passes;
     * {@code expect} is the end state the scenario asserts (succeeded, rolled-back, ...).
     */
    public record Rollout(String name, String version, ObjectNode spec, Optional<String> expect, Duration timeout) implements Step {
    }

    public record Wait(String name, Duration time) implements Step {
    }

    /** The kinds of fault. */
    public enum FaultType {
        BROKER_RESTART, PARTITION, SLOW_LINK, CORRUPT_CHUNKS, KILL_AGENTS, INPUT_DRIFT;

        public String id() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }

        static FaultType parse(String s, String where) {
            for (FaultType t : values()) {
                if (t.id().equals(s)) {
                    return t;
                }
            }
            throw new IllegalArgumentException(where + ".type: unknown fault '" + s
                    + "' (broker-restart, partition, slow-link, corrupt-chunks, kill-agents, input-drift)");
        }

        /** Faults that act on a device's network link (the device is wired through a proxy for them). */
        public boolean onLink() {
            return this == PARTITION || this == SLOW_LINK || this == CORRUPT_CHUNKS;
        }
    }

    /**
     * A fault: when it strikes ({@code at} from the start, or {@code after} the start of step
     * {@code step}), for how long ({@code duration}: broker down time, partition length, link cap
     * time, corruption window; empty = to the end), on which share of the devices. An input drift adds {@code shift}
     * standard deviations (of the input set, per feature) to the first {@code features} features of the affected devices'
     * requests.
     */
    public record Fault(int index, FaultType type, Optional<String> step, Duration at, Optional<Duration> duration, double share,
            long bytesPerSecond, Optional<Duration> restartAfter, double shift, int features) {
        public Fault(int index, FaultType type, Optional<String> step, Duration at, Optional<Duration> duration, double share,
                long bytesPerSecond, Optional<Duration> restartAfter) {
            this(index, type, step, at, duration, share, bytesPerSecond, restartAfter, 0, 0);
        }

        public String describe() {
            StringBuilder b = new StringBuilder(type.id());
            if (type != FaultType.BROKER_RESTART) {
                b.append(" on ").append(Math.round(share * 100)).append(" % of the devices");
            }
            if (type == FaultType.INPUT_DRIFT) {
                b.append(String.format(java.util.Locale.ROOT, ", inputs shifted by %.1f sd on %d features", shift, features));
            }
            if (type == FaultType.SLOW_LINK) {
                b.append(" capped at ").append(bytesPerSecond / 1024).append(" KiB/s");
            }
            b.append(step.map(s -> ", " + Report.secs(at) + " into " + s).orElse(", at " + Report.secs(at)));
            duration.ifPresent(d -> b.append(", for ").append(Report.secs(d)));
            restartAfter.ifPresent(d -> b.append(", restarted after ").append(Report.secs(d)));
            return b.toString();
        }
    }

    public static Scenario load(Path file) {
        try {
            return parse(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read scenario " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses and checks a scenario; an {@link IllegalArgumentException} names the field. */
    public static Scenario parse(String yaml) {
        JsonNode root;
        try {
            root = DeviceCatalog.yamlMapper().readTree(yaml);
        } catch (IOException e) {
            throw new IllegalArgumentException("scenario is not valid YAML: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("scenario must be a YAML mapping");
        }
        known(root, "", "name", "seed", "duration", "fleet", "broker", "model", "escalation", "load", "steps", "faults");
        String name = text(root, "name", "scenario");
        long seed = root.path("seed").asLong(42);
        Duration max = duration(root, "duration", "10m");

        JsonNode f = req(root, "fleet");
        known(f, "fleet.", "name", "devices", "http", "telemetry-window", "heartbeat", "shadow-share");
        List<Group> groups = new ArrayList<>();
        JsonNode devs = req(f, "devices", "fleet.");
        if (!devs.isArray() || devs.isEmpty()) {
            throw new IllegalArgumentException("fleet.devices: a list of {profile, count} with at least one entry");
        }
        for (int i = 0; i < devs.size(); i++) {
            JsonNode g = devs.get(i);
            String where = "fleet.devices[" + i + "]";
            known(g, where + ".", "profile", "count");
            String profile = text(g, "profile", null);
            if (profile == null) {
                throw new IllegalArgumentException(where + ".profile is required");
            }
            if (DeviceCatalog.builtIn().find(profile).isEmpty()) {
                throw new IllegalArgumentException(where + ".profile: unknown device profile '" + profile + "' (see ./edgefleet profiles list)");
            }
            int count = g.path("count").asInt(0);
            if (count < 1 || count > 100_000) {
                throw new IllegalArgumentException(where + ".count must be 1..100000");
            }
            groups.add(new Group(profile, count));
        }
        OptionalDouble shadowShare = f.has("shadow-share") ? OptionalDouble.of(f.get("shadow-share").asDouble(-1)) : OptionalDouble.empty();
        if (shadowShare.isPresent() && !(shadowShare.getAsDouble() > 0 && shadowShare.getAsDouble() <= 1)) {
            throw new IllegalArgumentException("fleet.shadow-share must be in (0, 1]");
        }
        Fleet fleet = new Fleet(id(text(f, "name", "sim"), "fleet.name"), List.copyOf(groups), f.path("http").asBoolean(false),
                duration(f, "telemetry-window", "1s"), duration(f, "heartbeat", "10s"), shadowShare);
        if (fleet.telemetryWindow().toMillis() < 100) {
            throw new IllegalArgumentException("fleet.telemetry-window must be at least 100ms");
        }
        if (fleet.telemetryWindow().compareTo(io.edgefleet.protocols.messages.TelemetryRecord.MAX_WINDOW) > 0) {
            // refused here, before anything starts, rather than by the agents' config once the control plane runs
            throw new IllegalArgumentException("fleet.telemetry-window must be at most 1 day (a record's longest window)");
        }

        String broker = checkBroker(text(root, "broker", "embedded"));

        JsonNode m = root.path("model");
        known(m, "model.", "name", "cloud-model", "cloud-kind");
        Model model = new Model(id(text(m, "name", "activity"), "model.name"), id(text(m, "cloud-model", "activity-xl"), "model.cloud-model"),
                ActivityModels.Kind.parse(text(m, "cloud-kind", "exact")));

        JsonNode e = root.path("escalation");
        known(e, "escalation.", "threshold", "max-share", "deadline");
        OptionalDouble threshold = e.has("threshold") ? OptionalDouble.of(e.get("threshold").asDouble()) : OptionalDouble.empty();
        Escalation escalation = new Escalation(threshold, e.path("max-share").asDouble(1.0), duration(e, "deadline", "1s"));
        if (threshold.isPresent() && (threshold.getAsDouble() < 0 || threshold.getAsDouble() > 1)) {
            throw new IllegalArgumentException("escalation.threshold must be in [0, 1]");
        }
        if (escalation.maxShare() < 0 || escalation.maxShare() > 1) {
            throw new IllegalArgumentException("escalation.max-share must be in [0, 1]");
        }

        JsonNode l = root.path("load");
        known(l, "load.", "requests-per-second", "inputs");
        Load load = new Load(l.path("requests-per-second").asDouble(1.0), l.path("inputs").asInt(512));
        if (load.perDevice() < 0 || load.perDevice() > 1000) {
            throw new IllegalArgumentException("load.requests-per-second (per device) must be 0..1000");
        }
        if (load.inputs() < 1 || load.inputs() > 1_000_000) {
            throw new IllegalArgumentException("load.inputs must be 1..1000000");
        }

        List<Step> steps = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Set<String> registered = new HashSet<>();
        JsonNode st = req(root, "steps");
        if (!st.isArray() || st.isEmpty()) {
            throw new IllegalArgumentException("steps: a list with at least one step (register, rollout, wait)");
        }
        for (int i = 0; i < st.size(); i++) {
            JsonNode s = st.get(i);
            String where = "steps[" + i + "]";
            Step step;
            if (s.has("register")) {
                JsonNode r = s.get("register");
                known(r, where + ".register.", "version", "kind", "disagree");
                String v = version(r, where + ".register");
                double disagree = r.path("disagree").asDouble(0);
                if (r.has("disagree") && !(r.get("disagree").isNumber() && disagree >= 0 && disagree <= 0.6)) {
                    throw new IllegalArgumentException(where + ".register.disagree: a share of inputs in [0, 0.6]");
                }
                step = new Register(text(s, "name", "register-v" + v), v, ActivityModels.Kind.parse(text(r, "kind", "good")), disagree);
                registered.add(v);
            } else if (s.has("rollout")) {
                JsonNode r = s.get("rollout");
                if (!r.isObject()) {
                    throw new IllegalArgumentException(where + ".rollout must be a mapping (a rollout spec)");
                }
                ObjectNode spec = ((ObjectNode) r).deepCopy();
                String expect = spec.has("expect") ? spec.remove("expect").asText() : null;
                Duration timeout = spec.has("timeout") ? RolloutSpec.parseDuration(spec.remove("timeout").asText(), where + ".rollout.timeout")
                        : Duration.ofMinutes(5);
                String v = version(spec, where + ".rollout");
                if (!registered.contains(v)) {
                    throw new IllegalArgumentException(where + ".rollout.version: version " + v + " is not registered by an earlier step");
                }
                if (!spec.has("model")) {
                    spec.put("model", model.name());
                }
                if (!spec.has("selector")) {
                    spec.put("selector", "fleet=" + fleet.name());
                }
                try {
                    RolloutSpec.read(SPECS, spec); // the control plane's own strict reading: a misspelt key fails here, before anything starts
                } catch (RuntimeException x) {
                    throw new IllegalArgumentException(where + ".rollout: " + x.getMessage(), x);
                }
                if (expect != null && !Set.of("succeeded", "rolled-back", "paused", "aborted").contains(expect)) {
                    throw new IllegalArgumentException(where + ".rollout.expect: one of succeeded, rolled-back, paused, aborted");
                }
                step = new Rollout(text(s, "name", "rollout-v" + v), v, spec, Optional.ofNullable(expect), timeout);
            } else if (s.has("experiment")) {
                JsonNode x = s.get("experiment");
                known(x, where + ".experiment.", "version", "share", "split-by", "for", "expect-judged");
                String v = version(x, where + ".experiment");
                if (!registered.contains(v)) {
                    throw new IllegalArgumentException(where + ".experiment.version: version " + v + " is not registered by an earlier step");
                }
                double share = x.path("share").asDouble(0.5);
                if (x.has("share") && !x.get("share").isNumber() || !(share > 0 && share < 1)) {
                    throw new IllegalArgumentException(where + ".experiment.share must be a number strictly between 0 and 1");
                }
                String by = text(x, "split-by", "share");
                if (!by.equals("share") && !by.equals("key")) {
                    throw new IllegalArgumentException(where + ".experiment.split-by: share or key, got '" + by + "'");
                }
                if (!x.has("for")) {
                    throw new IllegalArgumentException(where + ".experiment.for: how long the experiment runs is required");
                }
                step = new Experiment(text(s, "name", "experiment-v" + v), v, share, by,
                        RolloutSpec.parseDuration(x.get("for").asText(), where + ".experiment.for"), x.path("expect-judged").asBoolean(false));
            } else if (s.has("wait")) {
                step = new Wait(text(s, "name", "wait-" + i), RolloutSpec.parseDuration(s.get("wait").asText(), where + ".wait"));
            } else {
                throw new IllegalArgumentException(where + ": a step is one of register, rollout, experiment, wait");
            }
            if (!names.add(step.name())) {
                throw new IllegalArgumentException(where + ".name: two steps are called '" + step.name() + "'");
            }
            steps.add(step);
        }

        List<Fault> faults = new ArrayList<>();
        JsonNode fs = root.path("faults");
        for (int i = 0; i < fs.size(); i++) {
            JsonNode x = fs.get(i);
            String where = "faults[" + i + "]";
            known(x, where + ".", "type", "at", "step", "after", "for", "down", "share", "bytes-per-second", "restart-after", "shift",
                    "features");
            FaultType type = FaultType.parse(text(x, "type", ""), where);
            Optional<String> step = Optional.ofNullable(text(x, "step", null));
            if (step.isPresent() && !names.contains(step.get())) {
                throw new IllegalArgumentException(where + ".step: no step is called '" + step.get() + "' (steps: " + names + ")");
            }
            if (step.isPresent() && x.has("at")) {
                throw new IllegalArgumentException(where + ": give either at (from the start) or step + after, not both");
            }
            Duration at = duration(x, step.isPresent() ? "after" : "at", "0s");
            Optional<Duration> length = x.has("for") ? Optional.of(duration(x, "for", null))
                    : x.has("down") ? Optional.of(duration(x, "down", null)) : Optional.empty();
            if (type == FaultType.BROKER_RESTART && length.isEmpty()) {
                length = Optional.of(Duration.ofSeconds(3));
            }
            if (type == FaultType.PARTITION && length.isEmpty()) {
                throw new IllegalArgumentException(where + ".for: how long the partition lasts is required");
            }
            double share = x.path("share").asDouble(type == FaultType.BROKER_RESTART ? 1.0 : 0.1);
            if (share <= 0 || share > 1) {
                throw new IllegalArgumentException(where + ".share must be in (0, 1]");
            }
            long bps = x.path("bytes-per-second").asLong(type == FaultType.SLOW_LINK ? 64 * 1024 : 0);
            if (type == FaultType.SLOW_LINK && bps < 1024) {
                throw new IllegalArgumentException(where + ".bytes-per-second must be at least 1024");
            }
            Optional<Duration> restart = x.has("restart-after") ? Optional.of(duration(x, "restart-after", null)) : Optional.empty();
            double shift = x.path("shift").asDouble(type == FaultType.INPUT_DRIFT ? 2.0 : 0);
            int features = x.path("features").asInt(type == FaultType.INPUT_DRIFT ? 4 : 0);
            if (type == FaultType.INPUT_DRIFT && (!Double.isFinite(shift) || shift == 0 || Math.abs(shift) > 100)) {
                throw new IllegalArgumentException(where + ".shift must be a non-zero number of standard deviations, at most 100");
            }
            if (type == FaultType.INPUT_DRIFT && (features < 1 || features > ActivityModels.FEATURES)) {
                throw new IllegalArgumentException(where + ".features must be 1.." + ActivityModels.FEATURES);
            }
            faults.add(new Fault(i, type, step, at, length, share, bps, restart, shift, features));
        }
        return new Scenario(name, seed, max, fleet, broker, model, escalation, load, List.copyOf(steps), List.copyOf(faults));
    }

    private static String version(JsonNode n, String where) {
        JsonNode v = n.get("version");
        if (v == null || v.asText().isBlank()) {
            throw new IllegalArgumentException(where + ".version is required");
        }
        return id(v.asText(), where + ".version");
    }

    private static String id(String v, String where) {
        try {
            return io.edgefleet.protocols.Checks.id(v, where);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    private static JsonNode req(JsonNode n, String field) {
        return req(n, field, "");
    }

    private static JsonNode req(JsonNode n, String field, String prefix) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException(prefix + field + " is required");
        }
        return v;
    }

    private static String text(JsonNode n, String field, String dflt) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static Duration duration(JsonNode n, String field, String dflt) {
        String v = text(n, field, dflt);
        return v == null ? null : RolloutSpec.parseDuration(v, field);
    }

    private static void known(JsonNode n, String prefix, String... fields) {
        if (n == null || n.isMissingNode()) {
            return;
        }
        if (!n.isObject()) {
            throw new IllegalArgumentException((prefix.isEmpty() ? "scenario" : prefix.substring(0, prefix.length() - 1)) + " must be a mapping");
        }
        Set<String> ok = Set.of(fields);
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!ok.contains(f)) {
                throw new IllegalArgumentException(prefix + f + ": unknown field (known: " + String.join(", ", fields) + ")");
            }
        }
    }

    /** The same scenario on another broker ({@code embedded}, {@code mosquitto} or a URL). */
    public Scenario withBroker(String b) {
        return new Scenario(name, seed, maxDuration, fleet, checkBroker(b), model, escalation, load, steps, faults);
    }

    /** The same scenario with {@code total} devices, the profiles keeping their shares (at least one device each). */
    public Scenario withDevices(int total) {
        if (total < fleet.groups().size()) {
            throw new IllegalArgumentException("--devices must be at least " + fleet.groups().size() + " (one per profile)");
        }
        int have = fleet.size();
        List<Group> gs = new ArrayList<>();
        int left = total;
        for (int i = 0; i < fleet.groups().size(); i++) {
            Group g = fleet.groups().get(i);
            int n = i == fleet.groups().size() - 1 ? left : Math.max(1, (int) Math.round((double) g.count() * total / have));
            n = Math.min(n, left - (fleet.groups().size() - 1 - i));
            gs.add(new Group(g.profile(), n));
            left -= n;
        }
        return new Scenario(name, seed, maxDuration, new Fleet(fleet.name(), List.copyOf(gs), fleet.http(), fleet.telemetryWindow(), fleet.heartbeat(),
                fleet.shadowShare()),
                broker, model, escalation, load, steps, faults);
    }

    /** The same scenario with another request rate per device. */
    public Scenario withLoad(double perDevice) {
        if (perDevice < 0 || perDevice > 1000) {
            throw new IllegalArgumentException("--rate (requests per second per device) must be 0..1000");
        }
        return new Scenario(name, seed, maxDuration, fleet, broker, model, escalation, new Load(perDevice, load.inputs()), steps, faults);
    }

    static String checkBroker(String broker) {
        if (!broker.equals("embedded") && !broker.equals("mosquitto") && !broker.matches("tcp://[^/]+:\\d+")) {
            throw new IllegalArgumentException("broker: 'embedded' (HiveMQ CE in this JVM), 'mosquitto' (started by the simulator) "
                    + "or the URL of a running broker, tcp://HOST:PORT; got '" + broker + "'");
        }
        return broker;
    }

    /** The scenario as the report shows it. */
    public Map<String, Object> summary() {
        return Map.of("name", name, "seed", seed, "devices", fleet.size(), "profiles",
                fleet.groups().stream().map(g -> Map.of("profile", g.profile(), "count", g.count())).toList(),
                "loadPerDevice", load.perDevice(), "steps", steps.stream().map(Step::name).toList(),
                "faults", faults.stream().map(Fault::describe).toList());
    }
}
