package io.edgefleet.cloud.ab;

import io.edgefleet.cloud.api.ApiException;
import io.edgefleet.cloud.fleet.DeviceRecord;
import io.edgefleet.cloud.fleet.FleetRegistry;
import io.edgefleet.cloud.fleet.Selector;
import io.edgefleet.cloud.lease.Leadership;
import io.edgefleet.cloud.registry.ModelRegistry;
import io.edgefleet.cloud.rollout.RolloutEngine;
import io.edgefleet.cloud.store.CloudStore;
import io.edgefleet.cloud.store.Jdbc;
import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.ModelState;
import io.edgefleet.protocols.messages.SplitStats;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.messages.TelemetryRecord;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A/B experiments (docs/ab.md): started and stopped by operators through the API, delivered to agents as {@code split}
 * commands over the rollouts' command channel (signed, with the leader's fencing token), kept in {@code ab_experiments}
 * with the arms' readings in {@code ab_readings} (migration V14; the feedback counts {@code labelled}, {@code correct}: V15), on SQLite or PostgreSQL.
 *
 * <p>Command ids are {@code ab-<experiment>-start-<fleet>-<device>} and {@code ab-<experiment>-stop-<fleet>-<device>}:
 * an agent applies each once, whatever the redeliveries. They are tracked per device and re-sent until acknowledged
 * ({@link SplitCommands}, migration V16). Thread-safe: every call is its own transaction.
 */
public final class Experiments {
    private static final System.Logger LOG = System.getLogger(Experiments.class.getName());
    private final CloudStore store;
    private final ModelRegistry registry;
    private final FleetRegistry fleet;
    private final Clock clock;

    public Experiments(CloudStore store, ModelRegistry registry, FleetRegistry fleet, RolloutEngine.CommandSender sender, Leadership leadership,
            Clock clock) {
        this.store = store;
        this.registry = registry;
        this.fleet = fleet;
        this.clock = clock;
        this.tracked = new SplitCommands(store, sender, leadership, clock);
    }

    private final SplitCommands tracked;

    /**
     * Starts an experiment on every selected device that has {@code model} active: arm A is that active version (the same
     * on every device), arm B {@code candidate}.
     *
     * @throws ApiException 400 for a candidate that is not a registered version of the model, a share outside (0, 1), an
     *     unknown {@code splitBy}, a selector that does not parse, a candidate that is the active version (both arms the
     *     same), devices with different active versions; 409 when a rollout of the model is running or paused, no selected
     *     device serves the model or one of them already runs an experiment on it
     */
    public Experiment start(String model, String candidate, double share, String splitBy, String selector) {
        try {
            Checks.id(model, "model");
            Checks.id(candidate, "candidate");
        } catch (ProtocolException e) {
            throw new ApiException(400, "Invalid experiment", e.getMessage());
        }
        if (!(share > 0 && share < 1)) {
            throw new ApiException(400, "Invalid experiment", "share must be strictly between 0 and 1 (arm B's share of requests), got " + share);
        }
        if (!splitBy.equals("share") && !splitBy.equals("key")) {
            throw new ApiException(400, "Invalid experiment", "splitBy must be 'share' or 'key', got '" + splitBy + "'");
        }
        if (registry.version(model, candidate).isEmpty()) {
            throw new ApiException(400, "Unknown version", "model '" + model + "' has no registered version '" + candidate + "'");
        }
        // A rollout's gates read the model's telemetry per version: with arm B answering part of the traffic they would
        // judge a mix, and a deploy would move arm A under the experiment. One owner of a model at a time.
        List<String> rolling = store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT id, state FROM rollouts WHERE model = ? ORDER BY created_at")) {
                List<String> out = new ArrayList<>();
                try (ResultSet rs = Jdbc.bind(p, model).executeQuery()) {
                    while (rs.next()) {
                        if (io.edgefleet.cloud.rollout.RolloutState.of(rs.getString(2)).active()) {
                            out.add(rs.getString(1) + " (" + rs.getString(2) + ")");
                        }
                    }
                }
                return out;
            }
        });
        if (!rolling.isEmpty()) {
            throw new ApiException(409, "Rollout in progress", "rollout " + String.join(", ", rolling) + " of '" + model + "' is not finished:"
                    + " an experiment would split the traffic its gates judge; finish, abort or roll it back first");
        }
        Selector s;
        try {
            s = Selector.parse(selector);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "Invalid selector", e.getMessage());
        }
        List<DeviceRecord> devices = fleet.select(s).stream()
                .filter(d -> d.models().stream().anyMatch(m -> m.model().equals(model) && m.active().isPresent())).toList();
        if (devices.isEmpty()) {
            throw new ApiException(409, "No device", "no selected device has model '" + model + "' active");
        }
        TreeSet<String> actives = new TreeSet<>();
        for (DeviceRecord d : devices) {
            d.models().stream().filter(m -> m.model().equals(model)).map(ModelState::active).flatMap(Optional::stream).forEach(actives::add);
        }
        if (actives.contains(candidate)) {
            throw new ApiException(400, "Same version in both arms", "version " + candidate + " of model '" + model
                    + "' is already active on selected devices; arm B must differ from arm A");
        }
        if (actives.size() > 1) {
            throw new ApiException(400, "Mixed arm A", "the selected devices run different versions of '" + model + "' (" + String.join(", ", actives)
                    + "); select devices that run one version");
        }
        List<String> keys = devices.stream().map(d -> d.fleet() + "/" + d.device()).sorted().toList();
        Set<String> busy = new java.util.TreeSet<>();
        Set<String> running = new java.util.TreeSet<>();
        for (Experiment e : list()) {
            if (e.state().equals(Experiment.RUNNING) && e.model().equals(model) && e.devices().stream().anyMatch(keys::contains)) {
                e.devices().stream().filter(keys::contains).forEach(busy::add);
                running.add(e.id());
            }
        }
        if (!busy.isEmpty()) {
            String ids = String.join(", ", running);
            throw new ApiException(409, "Experiment running", "devices " + busy + " already run experiment " + ids + " on '" + model
                    + "'; stop it first (edgefleet experiment stop " + running.iterator().next() + ", or POST /api/v1/experiments/"
                    + running.iterator().next() + "/stop)");
        }
        String id = "ab-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        Experiment e = new Experiment(id, model, actives.first(), candidate, share, splitBy, keys, Experiment.RUNNING, clock.instant(),
                Optional.empty());
        java.util.Map<String, Command> starts = commands(e); // built (and so checked) before anything is stored
        store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO ab_experiments (id, model, version_a, version_b, share, split_by, devices, "
                    + "state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                Jdbc.bind(p, e.id(), e.model(), e.versionA(), e.versionB(), e.share(), e.splitBy(), String.join(",", keys), e.state(),
                        e.createdAt()).executeUpdate();
            }
            tracked.track(c, id, "start", starts); // with the experiment: no experiment without its commands
            return null;
        });
        LOG.log(System.Logger.Level.INFO, "experiment {0}: model {1}, arm A {2}, arm B {3}, {4} % by {5}, on {6} device(s)", id, model,
                e.versionA(), candidate, share * 100, splitBy, keys.size());
        tracked.runOnce(Optional.of(id));
        return e;
    }

    /**
     * Stops a running experiment: every device answers with arm A only and unloads arm B. Stopping a stopped one sends the
     * stop commands again (the same ids) and changes nothing else.
     *
     * @throws ApiException 404 for an unknown id
     */
    public Experiment stop(String id) {
        Experiment e = get(id).orElseThrow(() -> new ApiException(404, "No experiment", "no experiment '" + id + "'"));
        if (e.state().equals(Experiment.RUNNING)) {
            Instant now = clock.instant();
            Experiment stopped = new Experiment(e.id(), e.model(), e.versionA(), e.versionB(), e.share(), e.splitBy(), e.devices(),
                    Experiment.STOPPED, e.createdAt(), Optional.of(now));
            store.tx(c -> {
                try (PreparedStatement p = c.prepareStatement("UPDATE ab_experiments SET state = ?, stopped_at = ? WHERE id = ? AND state = ?")) {
                    if (Jdbc.bind(p, Experiment.STOPPED, now, id, Experiment.RUNNING).executeUpdate() == 1) {
                        tracked.cancelStarts(c, id);
                        tracked.track(c, id, "stop", commands(stopped));
                    }
                }
                return null;
            });
            e = get(id).orElseThrow();
            LOG.log(System.Logger.Level.INFO, "experiment {0} stopped: its devices answer with {1} only", id, e.versionA());
        }
        resend(e);
        return e;
    }

    /** Each device's ({@code fleet/device}) command for {@code e}'s state. */
    private java.util.Map<String, Command> commands(Experiment e) {
        boolean stop = e.state().equals(Experiment.STOPPED);
        java.util.Map<String, Command> out = new java.util.LinkedHashMap<>();
        for (String key : e.devices()) {
            String[] fd = key.split("/", 2);
            String commandId = e.id() + (stop ? "-stop-" : "-start-") + fd[0] + "-" + fd[1];
            out.put(key, Command.split(commandId, e.id(), e.model(), e.versionB(), e.share(), e.splitBy(), stop, clock.instant()));
        }
        return out;
    }

    /**
     * Sends {@code e}'s unacknowledged commands again now (start while running, stop once stopped), on the leader; agents
     * apply each id once. Otherwise they go at their re-send time ({@link SplitCommands}).
     */
    public void resend(Experiment e) {
        tracked.dueNow(e.id());
        tracked.runOnce(Optional.of(e.id()));
    }

    /** The split commands of the experiments, tracked per device; their re-sends ({@link SplitCommands#runOnce}) and acknowledgements. */
    public SplitCommands commands() {
        return tracked;
    }

    /**
     * Why a rollout of {@code model} may not start now: an experiment splits it (a rollout's deploys would replace arm A on
     * the experiment's devices and its gates would judge mixed traffic), naming the experiment and how to stop it. Empty
     * when none runs. The rollouts' check ({@code RolloutEngine.alsoRefuse}), the mirror of {@link #start}'s refusal of an
     * experiment while a rollout of the model is running. Any thread.
     */
    public Optional<io.edgefleet.cloud.rollout.RolloutException.Conflict> blocksRollout(String model) {
        return list().stream().filter(e -> e.state().equals(Experiment.RUNNING) && e.model().equals(model)).findFirst()
                .map(e -> new io.edgefleet.cloud.rollout.RolloutException.Conflict("Experiment running", Optional.empty(), "A/B experiment "
                        + e.id() + " splits '" + model + "' between " + e.versionA() + " and " + e.versionB() + " on " + e.devices().size()
                        + " device(s): a rollout would replace arm A under it; stop it first (POST /api/v1/experiments/" + e.id()
                        + "/stop, or edgefleet experiment stop " + e.id() + ")", false));
    }

    public Optional<Experiment> get(String id) {
        return list().stream().filter(e -> e.id().equals(id)).findFirst();
    }

    /** Every experiment, newest first. */
    public List<Experiment> list() {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT id, model, version_a, version_b, share, split_by, devices, state, created_at, "
                    + "stopped_at FROM ab_experiments ORDER BY created_at DESC, id")) {
                ResultSet r = p.executeQuery();
                List<Experiment> out = new ArrayList<>();
                while (r.next()) {
                    long stopped = r.getLong(10);
                    Optional<Instant> stoppedAt = r.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(stopped));
                    out.add(new Experiment(r.getString(1), r.getString(2), r.getString(3), r.getString(4), r.getDouble(5), r.getString(6),
                            List.of(r.getString(7).split(",")), r.getString(8), Instant.ofEpochMilli(r.getLong(9)), stoppedAt));
                }
                return out;
            }
        });
    }

    /**
     * Stores the A/B readings of the batches' records (the ingest role calls it after each group is stored); records of an
     * experiment this database does not know are kept all the same (the ingest role may run apart). A redelivered window
     * is kept once.
     */
    public void record(List<TelemetryBatch> batches) {
        List<Object[]> rows = new ArrayList<>();
        for (TelemetryBatch b : batches) {
            for (TelemetryRecord r : b.records()) {
                if (r.split().isEmpty()) {
                    continue;
                }
                SplitStats s = r.split().get();
                rows.add(new Object[] {s.experiment(), b.fleet(), b.device(), r.windowStart(), s.arm(), r.version(), s.requests(), s.errors(),
                        s.latencySumMillis(), s.latencySumSqMillis2(), s.confidenceCount(), s.confidenceSum(), s.confidenceSumSq(), s.labelled(),
                        s.correct()});
            }
        }
        if (rows.isEmpty()) {
            return;
        }
        store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO ab_readings (experiment_id, fleet, device, window_start, arm, version, "
                    + "requests, errors, latency_sum, latency_sum_sq, confidence_n, confidence_sum, confidence_sum_sq, labelled, correct) "
                    + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (experiment_id, fleet, device, window_start, arm) DO NOTHING")) {
                for (Object[] row : rows) {
                    Jdbc.bind(p, row).addBatch();
                }
                p.executeBatch();
            }
            return null;
        });
    }

    /**
     * The readings of experiment {@code e}'s arm {@code arm} ({@code a} or {@code b}) from its own devices only, all windows
     * together: a device outside the experiment (any fleet's device can send a split record naming any experiment id, and
     * such records are stored) does not count in its comparison.
     */
    public ArmTotals totals(Experiment e, String arm) {
        return totals(e.id(), arm, java.util.Set.copyOf(e.devices()));
    }

    /** The readings of {@code id}'s arm {@code arm} ({@code a} or {@code b}), all devices and windows together. */
    public ArmTotals totals(String id, String arm) {
        return totals(id, arm, null);
    }

    /** {@code devices} ({@code fleet/device} keys) null for every device. */
    private ArmTotals totals(String id, String arm, java.util.Set<String> devices) {
        return store.read(c -> {
            // Counts summed as doubles: a hostile device's huge (valid per window) counts must not overflow the integer SUM
            // (SQLite throws "integer overflow", PostgreSQL's numeric does not fit a long) and break the experiment's comparison;
            // exact while the totals stay below 2^53, saturated at Long.MAX_VALUE beyond.
            try (PreparedStatement p = c.prepareStatement("SELECT fleet || '/' || device, SUM(CAST(requests AS DOUBLE PRECISION)), "
                    + "SUM(CAST(errors AS DOUBLE PRECISION)), SUM(latency_sum), SUM(latency_sum_sq), SUM(CAST(confidence_n AS DOUBLE PRECISION)), "
                    + "SUM(confidence_sum), SUM(confidence_sum_sq), SUM(CAST(labelled AS DOUBLE PRECISION)), SUM(CAST(correct AS DOUBLE PRECISION)) "
                    + "FROM ab_readings WHERE experiment_id = ? AND arm = ? GROUP BY fleet, device")) {
                ResultSet r = Jdbc.bind(p, id, arm).executeQuery();
                double[] sum = new double[9];
                int n = 0;
                while (r.next()) {
                    if (devices != null && !devices.contains(r.getString(1))) {
                        continue;
                    }
                    n++;
                    for (int i = 0; i < sum.length; i++) {
                        sum[i] += r.getDouble(i + 2);
                    }
                }
                // (long) saturates at Long.MAX_VALUE (and an infinite sum); the saturated sums keep the per-window rules
                long requests = (long) sum[0];
                long errors = Math.min((long) sum[1], requests);
                long labelled = (long) sum[7];
                return new ArmTotals(requests, errors, sum[2], sum[3], Math.min((long) sum[4], requests - errors), sum[5], sum[6], n, labelled,
                        Math.min((long) sum[8], labelled));
            }
        });
    }
}
