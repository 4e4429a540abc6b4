package io.edgefleet.cloud.rollout;

import io.edgefleet.cloud.fleet.DeviceRecord;
import io.edgefleet.cloud.fleet.FleetRegistry;
import io.edgefleet.cloud.fleet.Selector;
import io.edgefleet.cloud.registry.ModelRegistry;
import io.edgefleet.cloud.registry.ModelVersion;
import io.edgefleet.cloud.registry.RegistryException;
import io.edgefleet.cloud.rollout.RolloutStore.DeviceRow;
import io.edgefleet.cloud.rollout.RolloutStore.RolloutRow;
import io.edgefleet.cloud.store.Aggregate;
import io.edgefleet.cloud.store.EventRepository;
import io.edgefleet.cloud.store.TelemetryRepository;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.sync.chunks.Sha256;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The rollout engine: a persisted state machine advanced only by stored events (acknowledgements,
 * time-outs, gate evaluations, operations), ticked on one thread.
 *
 * <p>Rollout: {@code running → paused | succeeded | rolled-back | aborted}. Device:
 * {@code pending → commanded → downloading → activated | failed | timed-out}, and
 * {@code rolling-back → rolled-back} when the rollout is rolled back. Devices are ordered by
 * SHA-256(rollout id, fleet/device), so the waves are stable across restarts and random with
 * respect to names. A device that matches the selector later joins the next wave. Commands are
 * idempotent (one command id per device and intent, the same id on every retry), retried after
 * {@code commandTimeout}, and finally {@code timed-out}: nothing stays in progress forever.
 * Only devices of the current and earlier waves are ever commanded.
 */
public final class RolloutEngine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RolloutEngine.class.getName());

    /** Sends a command to a device; false when it could not be handed to the broker (retried next tick). */
    @FunctionalInterface
    public interface CommandSender {
        boolean send(String fleet, String device, byte[] command);
    }

    private final RolloutStore store;
    /** The store the leader's writes go through: fenced by the fencing token held when the current tick (or rollback) began. */
    private RolloutStore fenced;
    private final io.edgefleet.cloud.lease.Leadership leadership;
    private final ModelRegistry registry;
    private final FleetRegistry fleet;
    private final TelemetryRepository telemetry;
    private final EventRepository events;
    private final CommandSender sender;
    private final Clock clock;
    private final ReadingsSource readings;
    /** Violation streaks of noisy gates per rollout and wave (rolloutId/wave); a restart starts them again, which only delays a failure. */
    private final Map<String, Gates.Streaks> streaks = new java.util.concurrent.ConcurrentHashMap<>();
    /** The latest gate evaluation per rollout id, for the live status; a restart forgets it until the next tick. */
    private final Map<String, Evaluation> evaluations = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The gates' latest evaluation of a rollout's current wave, as the engine saw it on a tick (every
     * tick while it runs, whether or not the wave is baked): the values next to the gates in force.
     *
     * @param at when it was evaluated
     * @param wave the wave evaluated, numbered from 1
     * @param verdict {@code pass}, {@code wait} or {@code fail}
     * @param detail every value computed (the keys of a {@code gate-passed} log entry: {@code requests},
     *     {@code errorRate}, {@code p95Ms}, {@code installFailures}, ..., {@code failures}, {@code notJudged})
     */
    public record Evaluation(Instant at, int wave, String verdict, Map<String, Object> detail) {
    }

    /** Shadow readings for shadow waves (docs/shadow.md); without them a shadow wave waits for telemetry. */
    private volatile Optional<ShadowReadings> shadowReadings = Optional.empty();

    /** Judges shadow waves on {@code r} (the ingest role writes them; the same database). Call before {@link #start}. */
    public void useShadowReadings(ShadowReadings r) {
        this.shadowReadings = Optional.of(r);
    }

    /** A rollout's shadow readings of its version, all devices together, if shadow readings are kept. Any thread. */
    public Optional<ShadowReadings.Totals> shadowTotals(String id) {
        return shadowReadings.flatMap(s -> store.get(id).map(r -> s.totals(id, r.model(), r.version(), keys(store.devices(id)))));
    }

    /** A rollout's shadow readings of its version per device and window, oldest first; empty when none are kept. Any thread. */
    public List<ShadowReadings.Row> shadowRows(String id) {
        return shadowReadings.flatMap(s -> store.get(id).map(r -> s.rows(id, r.model(), r.version(), keys(store.devices(id))))).orElse(List.of());
    }

    /** The {@code fleet/device} keys of a rollout's devices: only their shadow readings count (a device outside it cannot sway it). */
    private static java.util.Set<String> keys(List<DeviceRow> devices) {
        return devices.stream().map(DeviceRow::key).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    /** The latest evaluation of {@code id} since this process started, if any. Any thread. */
    public Optional<Evaluation> evaluation(String id) {
        return Optional.ofNullable(evaluations.get(id));
    }
    private final MessageCodec json = MessageCodec.json();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "rollout-engine");
        t.setDaemon(true);
        return t;
    });

    public RolloutEngine(RolloutStore store, ModelRegistry registry, FleetRegistry fleet, TelemetryRepository telemetry, EventRepository events,
            CommandSender sender, Clock clock) {
        this(store, registry, fleet, telemetry, events, sender, clock, io.edgefleet.cloud.lease.Leadership.SINGLE);
    }

    /**
     * An engine that ticks only while {@code leadership} says this replica leads (issue 18): its
     * writes are fenced by the leader's token and its commands carry it.
     */
    public RolloutEngine(RolloutStore store, ModelRegistry registry, FleetRegistry fleet, TelemetryRepository telemetry, EventRepository events,
            CommandSender sender, Clock clock, io.edgefleet.cloud.lease.Leadership leadership) {
        this.store = store;
        this.fenced = store;
        this.leadership = leadership;
        this.registry = registry;
        this.fleet = fleet;
        this.telemetry = telemetry;
        this.readings = new ReadingsSource(telemetry, fleet);
        this.events = events;
        this.sender = sender;
        this.clock = clock;
    }

    /**
     * Lets the drift gate ({@code noDriftAlarm}, issue 20) read the drift monitor's judged windows; without it a rollout
     * naming that gate waits, saying no drift monitor runs. Call before {@link #start}.
     */
    public void useDrift(io.edgefleet.cloud.drift.DriftMonitor monitor) {
        readings.drift(DriftReadings.of(monitor));
    }

    public void start(Duration tick) {
        ticker.scheduleWithFixedDelay(() -> {
            try {
                tick();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "rollout tick failed: {0}", e.toString());
            }
        }, 0, tick.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Creates and starts a rollout. Any thread.
     *
     * @throws RegistryException the model or version is unknown (404)
     * @throws RolloutException.UnusableTarget the version is deprecated
     * @throws RolloutException.Conflict a rollout of the model is running or paused, or a check added with
     *     {@link #alsoRefuse} refuses the model (an A/B experiment running on it)
     * @throws RolloutException.InvalidSpec no device matches the selector and the spec does not wait for devices
     */
    public synchronized RolloutRow create(RolloutSpec spec, String actor) {
        ModelVersion v = registry.version(spec.model(), spec.version())
                .orElseThrow(() -> ModelRegistry.notFound(spec.model(), spec.version()));
        if (v.deprecated()) {
            throw new RolloutException.UnusableTarget("Deprecated version", spec.model() + "/" + spec.version()
                    + " is deprecated; a rollout cannot target it");
        }
        for (RolloutRow r : store.list(Optional.empty())) {
            if (r.model().equals(spec.model()) && r.state().active()) {
                throw new RolloutException.Conflict("Rollout in progress", Optional.of(r.id()), "rollout " + r.id() + " of " + r.model()
                        + " is " + r.state() + "; finish, abort or roll it back first", false);
            }
        }
        for (java.util.function.Function<String, Optional<RolloutException.Conflict>> refusal : refusals) {
            Optional<RolloutException.Conflict> why = refusal.apply(spec.model());
            if (why.isPresent()) {
                throw why.get();
            }
        }
        if (!spec.waitsForDevices() && fleet.select(Selector.parse(spec.selector())).isEmpty()) {
            throw new RolloutException.InvalidSpec("No matching devices", "selector '" + spec.selector() + "' matches no device; "
                    + "set waitForDevices: true to create the rollout anyway and wait for devices to join");
        }
        String id = "ro-" + UUID.randomUUID().toString().substring(0, 8);
        Instant now = clock.instant();
        store.create(id, spec, actor, now);
        events.record("rollout.created", "rollout/" + id, actor, Map.of("model", spec.model(), "version", spec.version(),
                "selector", spec.selector()));
        return store.get(id).orElseThrow();
    }

    public Optional<RolloutRow> get(String id) {
        return store.get(id);
    }

    public List<RolloutRow> list() {
        return store.list(Optional.empty());
    }

    public List<DeviceRow> devices(String id) {
        return store.devices(id);
    }

    /** Every rollout's part for one device, the latest first (its command history). Any thread. */
    public List<RolloutStore.DeviceCommand> commandsOf(String fleet, String device, int limit) {
        return store.commandsOf(fleet, device, limit);
    }

    public List<RolloutStore.LogRow> logs(String id) {
        return store.logs(id);
    }

    /**
     * A rollout's whole status read between two ticks: the row, what it waits for, the per-wave
     * counts, the devices and the log all describe the same moment.
     *
     * @param rollout the stored row
     * @param waitingFor as {@link #waitingFor}
     * @param waves device counts per wave and state, keyed by the wave's index (0 for the first,
     *        as everywhere inside the engine; the API numbers waves from 1)
     * @param devices every device of the rollout
     * @param log operations and gate evaluations, oldest first
     */
    public record Snapshot(RolloutRow rollout, List<Waiting> waitingFor, Map<Integer, Map<String, Long>> waves, List<DeviceRow> devices,
            List<RolloutStore.LogRow> log) { }

    /**
     * The rollout's status as one consistent snapshot, or empty for an unknown id. A tick applies
     * acknowledgements and then records the wave's end in separate statements; reading the row and
     * the devices while one runs could show a wave installed with no bake and no telemetry deadline
     * (seen on a fast machine). Holding the engine's lock (the tick's) rules that out; it waits for
     * at most one tick. Any thread.
     */
    public synchronized Optional<Snapshot> snapshot(String id) {
        Optional<RolloutRow> found = store.get(id);
        if (found.isEmpty()) {
            return Optional.empty();
        }
        List<DeviceRow> devices = store.devices(id);
        return Optional.of(new Snapshot(found.get(), waitingFor(found.get(), devices), waves(devices), devices, store.logs(id)));
    }

    // ---- operations -------------------------------------------------------------------------

    /**
     * Applies an operator's operation ({@code pause}, {@code resume}, {@code abort}, {@code promote}, {@code rollback}). Any thread.
     *
     * @throws RolloutException.NotFound no rollout {@code id}
     * @throws RolloutException.Conflict the operation does not fit the rollout's state, or the row kept changing under it
     * @throws RolloutException.NotLeader a rollback asked of a replica that does not lead
     * @throws IllegalArgumentException {@code op} is none of those
     */
    public synchronized RolloutRow operate(String id, String op, String actor, String reason) {
        // the leader's tick on another replica may change the row between our read and write: read it again and
        // judge the operation anew, a few times, before telling the caller
        for (int attempt = 1;; attempt++) {
            try {
                return operateOnce(id, op, actor, reason);
            } catch (ConcurrentChange e) {
                if (attempt == 5) {
                    throw new RolloutException.Conflict("Concurrent change", Optional.of(id), "rollout " + id + " changed while " + op + " ran, "
                            + attempt + " times (another replica or operator); read it again and retry", true);
                }
            }
        }
    }

    private RolloutRow operateOnce(String id, String op, String actor, String reason) {
        RolloutRow r = store.get(id).orElseThrow(() -> new RolloutException.NotFound(id));
        Instant now = clock.instant();
        String why = reason == null || reason.isBlank() ? "(no reason given)" : reason;
        switch (op) {
            case "pause" -> {
                require(r, RolloutState.RUNNING, op);
                must(store.update(r, r.withState(RolloutState.PAUSED, Optional.of(why), now), log("paused", actor, Map.of("reason", why))));
            }
            case "resume" -> {
                require(r, RolloutState.PAUSED, op);
                // The telemetry-wait limit counts again from the resume (see telemetryWaitFrom).
                must(store.update(r, r.withState(RolloutState.RUNNING, Optional.of(why), now), log("resumed", actor, Map.of("reason", why))));
            }
            case "abort" -> {
                if (!r.state().active()) {
                    throw conflict(r, op);
                }
                // an abort stops where it is, but a shadow candidate answers no one and must not stay loaded (docs/shadow.md)
                List<DeviceRow> shadows = store.devices(id).stream().filter(d -> shadowLoaded(r, d)).toList();
                if (!shadows.isEmpty() && !leadership.isLeader()) {
                    throw new RolloutException.NotLeader(id, "aborting this rollout unloads its shadow candidates, whose commands come from "
                            + "the replica that leads (see GET /api/v1, field leader): retry, or send it there");
                }
                must(store.update(r, r.withState(RolloutState.ABORTED, Optional.of(why), now), log("aborted", actor, Map.of("reason", why))));
                if (!shadows.isEmpty()) {
                    fenced = store.fenced(leadership.fence());
                    LOG.log(System.Logger.Level.INFO, "rollout {0}: aborted; unloading the shadow candidate on {1} device(s)", id, shadows.size());
                    commandRollback(r, shadows, now);
                }
            }
            case "promote" -> {
                // Skips the current wave's bake and telemetry wait (never a failing gate); from paused it also resumes.
                if (!r.state().active()) {
                    throw conflict(r, op);
                }
                must(store.update(r, r.withPromoted(now), log("promoted", actor, Map.of("reason", why))));
            }
            case "rollback" -> {
                if (r.state() == RolloutState.ROLLED_BACK || r.state() == RolloutState.ABORTED) {
                    throw conflict(r, op);
                }
                if (!leadership.isLeader()) {
                    // its commands must come from the leader, between two of its ticks (a follower's rollback could cross a deploy)
                    throw new RolloutException.NotLeader(id, "this replica does not run rollouts; the replica that leads "
                            + "(see GET /api/v1, field leader) takes the rollback: retry, or send it there");
                }
                fenced = store.fenced(leadership.fence());
                rollBack(r, actor, why, Map.of("reason", why));
            }
            default -> throw new IllegalArgumentException("operation '" + op + "' is not one of pause, resume, abort, promote, rollback");
        }
        events.record("rollout." + op, "rollout/" + id, actor, Map.of("reason", why));
        LOG.log(System.Logger.Level.INFO, "rollout {0} wave {1}: {2} by {3}: {4}", id, r.wave() + 1, op, actor, why.isBlank() ? "(no reason)" : why);
        return store.get(id).orElseThrow();
    }

    /** A rollout row that changed between its read and the write (an operator on another replica, or the leader's tick). */
    private static void must(boolean written) {
        if (!written) {
            throw new ConcurrentChange();
        }
    }

    /** The rollout row changed between its read and a write from it: nothing was written; read again. */
    private static final class ConcurrentChange extends RuntimeException {
        ConcurrentChange() {
            super("the rollout changed between its read and this write (another replica or operator); nothing written, "
                    + "read again at the next tick", null, false, false);
        }
    }

    private static Optional<RolloutStore.LogEntry> log(String kind, String actor, Map<String, ?> detail) {
        return Optional.of(RolloutStore.LogEntry.of(kind, actor, detail));
    }

    private static void require(RolloutRow r, RolloutState state, String op) {
        if (r.state() != state) {
            throw conflict(r, op);
        }
    }

    private static RolloutException conflict(RolloutRow r, String op) {
        return new RolloutException.Conflict("Invalid operation", Optional.of(r.id()), "cannot " + op + " rollout " + r.id() + ": it is "
                + r.state(), false);
    }

    // ---- acknowledgements ---------------------------------------------------------------------

    private final java.util.concurrent.ConcurrentLinkedQueue<QueuedAck> acks = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /**
     * Queues a device's acknowledgement (any thread, never blocks), applied with the others queued at the start of the
     * next tick, on a leader or a follower alike ({@link #acknowledge}). The control plane's MQTT side does not queue
     * here: its {@code DeviceInbox} applies acks in batches through {@link #acknowledge} as they come.
     */
    public void onAck(CommandAck ack) {
        acks.add(new QueuedAck(Optional.empty(), ack));
    }

    /**
     * As {@link #onAck(CommandAck)}, for an acknowledgement that came on {@code fleet}'s topic: it is applied only to a
     * command of that fleet (and, as always, of the device it names).
     */
    public void onAck(String fleet, CommandAck ack) {
        acks.add(new QueuedAck(Optional.of(fleet), ack));
    }

    private record QueuedAck(Optional<String> fleet, CommandAck ack) {
    }

    private void drainAcks() {
        List<FleetAck> batch = new ArrayList<>();
        for (QueuedAck q = acks.poll(); q != null; q = acks.poll()) {
            batch.add(new FleetAck(q.fleet(), q.ack()));
        }
        try {
            acknowledge(batch);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "{0} acknowledgement(s) not applied: {1}", batch.size(), e.toString());
        }
    }

    synchronized void applyAck(CommandAck ack) {
        applyAck(Optional.empty(), ack);
    }

    synchronized void applyAck(Optional<String> fleet, CommandAck ack) {
        acknowledge(List.of(new FleetAck(fleet, ack)));
    }

    /**
     * A device's acknowledgement with the fleet of the topic it came on.
     *
     * @param fleet the topic's fleet; empty when unknown (the command id alone then finds the device)
     */
    public record FleetAck(Optional<String> fleet, CommandAck ack) {
    }

    /**
     * Applies acknowledgements now, in one transaction, on any replica, leader or not (issue 18: with a shared
     * subscription each ack reaches one replica; the leader's next tick reads the rows it changed through their change
     * sequence numbers). Not fenced by the lease: an ack is the device's report. The checks stay: an unknown command id
     * is not ours (ignored); an ack whose device (and fleet, when known) is not the command's is refused (ids are
     * predictable, and a device may only settle its own commands); a stale-token refusal and an ack answering a token
     * lower than the device's last command's are ignored. Any thread; blocks for the database.
     *
     * @return how many device rows changed
     */
    public int acknowledge(List<FleetAck> batch) {
        Instant now = clock.instant();
        int changed = store.acknowledge(batch.stream().map(a -> new RolloutStore.PendingAck(a.ack().commandId(), a.fleet(), a.ack().device(),
                owner -> decide(owner, a.fleet(), a.ack(), now))).toList());
        for (java.util.function.ToIntFunction<List<FleetAck>> other : otherAcks) {
            changed += other.applyAsInt(batch);
        }
        return changed;
    }

    private final List<java.util.function.ToIntFunction<List<FleetAck>>> otherAcks = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<java.util.function.Function<String, Optional<RolloutException.Conflict>>> refusals =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Adds a check that {@link #create} runs on the model before anything is stored: a conflict it returns is thrown (a 409
     * problem on the API). The A/B experiments refuse a rollout of a model they split ({@code Experiments.blocksRollout}):
     * its deploys would replace arm A under the experiment. Any thread; call at start-up.
     */
    public void alsoRefuse(java.util.function.Function<String, Optional<RolloutException.Conflict>> check) {
        refusals.add(check);
    }

    /**
     * Hands every batch {@link #acknowledge} applies to {@code other} as well, after the rollouts' rows (the A/B split
     * commands, {@code io.edgefleet.cloud.ab.SplitCommands}): one ack path for every command the control plane tracks.
     * {@code other} skips the acks that are not its own and returns how many rows it changed; what it throws fails the
     * batch like the rollouts' own transaction does (the inbox applies it again, one by one). Call before acks flow.
     */
    public void alsoAcknowledge(java.util.function.ToIntFunction<List<FleetAck>> other) {
        otherAcks.add(other);
    }

    /** What one acknowledgement writes over its command's device row (the rules of {@link #acknowledge}). */
    private static Optional<RolloutStore.DeviceWrite> decide(RolloutStore.CommandOwner owner, Optional<String> fleet, CommandAck ack, Instant now) {
        if (!owner.device().equals(ack.device()) || fleet.filter(f -> !f.equals(owner.fleet())).isPresent()) {
            LOG.log(System.Logger.Level.WARNING, "acknowledgement {0} refused: it came from {1}/{2}, the command is for {3}/{4}",
                    ack.commandId(), fleet.orElse("?"), ack.device(), owner.fleet(), owner.device());
            return Optional.empty();
        }
        if (ack.staleRefusal()) {
            // a deposed leader's late command, refused by the device: says nothing about the device's install
            LOG.log(System.Logger.Level.INFO, "acknowledgement {0} ignored: {1}", ack.commandId(), ack.error().orElseThrow().message());
            return Optional.empty();
        }
        java.util.OptionalLong issued = owner.commandToken();
        if (ack.fencingToken().isPresent() && issued.isPresent() && ack.fencingToken().getAsLong() < issued.getAsLong()) {
            LOG.log(System.Logger.Level.INFO, "acknowledgement {0} ({1}) ignored: it answers a command of fencing token {2}; the device "
                    + "was commanded again under token {3}", ack.commandId(), ack.phase().wire(), ack.fencingToken().getAsLong(), issued.getAsLong());
            return Optional.empty();
        }
        DeviceRow d = owner.row();
        if (d.commandId().isEmpty()) {
            // the device answered before the leader's record of the command committed: the ack records it
            d = d.withCommand(d.state(), ack.commandId(), Math.max(1, d.attempts()), now, ack.fencingToken());
        }
        Optional<String> err = ack.error().map(e -> e.code() + ": " + e.message());
        if (owner.intent() == Intent.ROLLBACK) {
            return switch (ack.phase()) {
                case ROLLED_BACK, ACTIVATED -> write(d.withState(DeviceState.ROLLED_BACK, Optional.empty(), false, now), Set.of());
                case FAILED -> write(d.withState(DeviceState.FAILED, err.map(e -> "rollback failed: " + e), false, now), Set.of());
                default -> Optional.empty();
            };
        }
        if (owner.intent() == Intent.SHADOW) {
            Set<DeviceState> settled = java.util.EnumSet.of(DeviceState.ROLLING_BACK, DeviceState.ROLLED_BACK, DeviceState.ACTIVATED);
            return switch (ack.phase()) {
                case DOWNLOADING, VERIFIED -> write(d.withState(DeviceState.DOWNLOADING, Optional.empty(), false, now),
                        java.util.EnumSet.of(DeviceState.ROLLING_BACK, DeviceState.ROLLED_BACK, DeviceState.ACTIVATED, DeviceState.SHADOWING,
                                DeviceState.FAILED, DeviceState.TIMED_OUT));
                case SHADOWING -> write(d.withState(DeviceState.SHADOWING, Optional.empty(), false, now), settled);
                case FAILED -> write(d.withState(DeviceState.FAILED, err, false, now), settled);
                default -> Optional.empty();
            };
        }
        Set<DeviceState> protect = java.util.EnumSet.of(DeviceState.ROLLING_BACK, DeviceState.ROLLED_BACK);
        return switch (ack.phase()) {
            case DOWNLOADING, VERIFIED -> write(d.withState(DeviceState.DOWNLOADING, Optional.empty(), false, now),
                    java.util.EnumSet.of(DeviceState.ROLLING_BACK, DeviceState.ROLLED_BACK, DeviceState.ACTIVATED, DeviceState.FAILED,
                            DeviceState.TIMED_OUT));
            case ACTIVATED -> write(d.withState(DeviceState.ACTIVATED, Optional.empty(), true, now), protect);
            case FAILED -> write(d.withState(DeviceState.FAILED, err, false, now), protect);
            case ROLLED_BACK -> write(d.withState(DeviceState.ROLLED_BACK, err, false, now), Set.of());
            default -> Optional.empty();
        };
    }

    private static Optional<RolloutStore.DeviceWrite> write(DeviceRow to, Set<DeviceState> unlessIn) {
        return Optional.of(new RolloutStore.DeviceWrite(to, unlessIn));
    }

    // ---- the loop ---------------------------------------------------------------------------

    /**
     * The device rows of each running rollout as this leader last read them, and the highest change sequence number
     * among them: a tick reads only the rows written since ({@link RolloutStore#devicesChangedSince}). Touched only
     * under the engine's lock; dropped when the rollout stops running or this replica stops leading.
     */
    private final Map<String, DeviceView> views = new HashMap<>();

    /** One rollout's devices by rank, as of change sequence number {@code seq}. */
    private static final class DeviceView {
        final java.util.TreeMap<String, DeviceRow> byRank = new java.util.TreeMap<>();
        long seq;

        void apply(List<DeviceRow> rows) {
            for (DeviceRow d : rows) {
                byRank.put(d.rank() + "\n" + d.key(), d);
                seq = Math.max(seq, d.seq());
            }
        }
    }

    /** A running rollout's devices by rank, reading only the rows written since the last call (all of them on the first). */
    private List<DeviceRow> current(String id) {
        DeviceView v = views.get(id);
        if (v == null) {
            v = new DeviceView();
            v.apply(store.devices(id));
            views.put(id, v);
        } else {
            v.apply(store.devicesChangedSince(id, v.seq));
        }
        return List.copyOf(v.byRank.values());
    }

    /**
     * One pass over the running rollouts, when this replica leads; otherwise it only applies the queued
     * acknowledgements (any replica may: {@link #acknowledge}).
     */
    public synchronized void tick() {
        if (!leadership.isLeader()) {
            drainAcks();
            streaks.clear();
            views.clear(); // another leader writes meanwhile: read every rollout whole again when leading
            return;
        }
        fenced = store.fenced(leadership.fence());
        drainAcks();
        List<RolloutRow> running = store.list(Optional.of(RolloutState.RUNNING));
        views.keySet().retainAll(running.stream().map(RolloutRow::id).collect(Collectors.toSet()));
        for (RolloutRow r : running) {
            try {
                advance(r);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "rollout {0}: {1}", r.id(), e.toString());
            }
        }
    }

    static String rank(String rolloutId, String fleet, String device) {
        return Sha256.hex((rolloutId + "\n" + fleet + "/" + device).getBytes(StandardCharsets.UTF_8));
    }


    private void advance(RolloutRow row) {
        RolloutRow r = row;
        RolloutSpec spec = r.spec();
        Instant now = clock.instant();
        int lastWave = spec.waves().size() - 1;
        // the fleet registry read once per rollout and tick: the selector's matches and the gates' reachability both come from it
        List<DeviceRecord> fleetNow = fleet.all();
        join(r, current(r.id()), fleetNow, lastWave, now);
        List<DeviceRow> devices = current(r.id());
        if (devices.isEmpty() && spec.waitsForDevices()) {
            return; // waitingFor says so; the selector is re-read every tick
        }
        if (r.waveStartedAt().isEmpty()) {
            must(fenced.update(r, r.withWaveStarted(now), log("wave-started", null,
                    Map.of("devices", devices.stream().filter(d -> d.wave() <= row.wave()).count()))));
            events.record("rollout.wave", "rollout/" + r.id(), null, Map.of("wave", r.wave() + 1));
            LOG.log(System.Logger.Level.INFO, "rollout {0} ({1} {2}): wave {3} of {4} started: {5} devices", r.id(), r.model(), spec.version(),
                    r.wave() + 1, spec.waves().size(), devices.stream().filter(d -> d.wave() <= row.wave()).count());
            r = store.get(r.id()).orElseThrow();
        }
        int w = r.wave();
        sendCommands(r, devices, now);
        devices = current(r.id());
        List<DeviceRow> wave = devices.stream().filter(d -> d.wave() <= w).toList();
        boolean shadowWave = spec.shadowWave(w);
        boolean done = wave.stream().allMatch(d -> settled(d, shadowWave));
        String streakKey = r.id() + "/" + w;
        Gates.Decision g = decide(r, devices, wave, now, ReadingsSource.byKey(fleetNow), streaks.getOrDefault(streakKey, Gates.Streaks.NONE));
        streaks.put(streakKey, g.streaks());
        evaluations.put(r.id(), new Evaluation(now, w + 1, g.verdict().name().toLowerCase(java.util.Locale.ROOT), g.detail()));
        if (g.verdict() == Gates.Verdict.FAIL) {
            streaks.remove(streakKey);
            fenced.log(r.id(), w, RolloutStore.LogEntry.of("gate-failed", null, g.detail()), now);
            LOG.log(System.Logger.Level.INFO, "rollout {0} wave {1}: verdict {2}: {3}; gates: {4}", r.id(), w + 1,
                    spec.rollbackOnFailure() ? "rollback" : "hold (paused)", g.reason(), values(spec, w, g.detail()));
            if (spec.rollbackOnFailure()) {
                rollBack(r, null, g.reason(), g.detail());
                events.record("rollout.rolled-back", "rollout/" + r.id(), null, Map.of("reason", g.reason()));
            } else {
                must(fenced.update(r, r.withState(RolloutState.PAUSED, Optional.of(g.reason()), now), log("paused", null,
                        Map.of("reason", g.reason()))));
                events.record("rollout.paused", "rollout/" + r.id(), null, Map.of("reason", g.reason()));
            }
            return;
        }
        if (!done) {
            return;
        }
        if (r.waveDoneAt().isEmpty()) {
            must(fenced.update(r, r.withWaveInstalled(now), log("wave-installed", null, Map.of("states", counts(wave)))));
            r = store.get(r.id()).orElseThrow();
        }
        Instant bakeEnd = r.waveDoneAt().orElseThrow().plus(spec.waves().get(w).bakeDuration());
        if (!r.promoted() && now.isBefore(bakeEnd)) {
            return;
        }
        Map<String, Object> detail = new LinkedHashMap<>(g.detail());
        if (g.verdict() == Gates.Verdict.WAIT) {
            if (r.promoted()) {
                detail.put("promoted", true);
            } else {
                Instant limit = telemetryWaitFrom(r, bakeEnd).plus(spec.telemetryWaitOf(w));
                if (now.isBefore(limit)) {
                    return;
                }
                String what = g.waiting().stream().map(Waiting::detail).collect(Collectors.joining("; "));
                String why = "waited " + spec.telemetryWaitOf(w) + " for telemetry in wave " + (w + 1) + ": " + what;
                // a shadow wave never proceeds without its evidence: the candidate would answer unjudged (an operator may promote)
                if (!spec.proceedAfterTelemetryWait(w) || spec.shadowWave(w)) {
                    LOG.log(System.Logger.Level.INFO, "rollout {0} wave {1}: verdict hold (paused): {2}; gates: {3}", r.id(), w + 1, why,
                            values(spec, w, g.detail()));
                    must(fenced.update(r, r.withState(RolloutState.PAUSED, Optional.of(why), now), log("paused", null,
                            Map.of("reason", why, "waitingFor", g.waiting()))));
                    events.record("rollout.paused", "rollout/" + r.id(), null, Map.of("reason", why));
                    return;
                }
                fenced.log(r.id(), w, RolloutStore.LogEntry.of("telemetry-wait-expired", null, Map.of("reason", why + "; onTelemetryWait: proceed")),
                        now);
                detail.put("proceededWithout", what);
            }
        }
        streaks.remove(streakKey);
        fenced.log(r.id(), w, RolloutStore.LogEntry.of("gate-passed", null, detail), now);
        LOG.log(System.Logger.Level.INFO, "rollout {0} wave {1}: verdict promote ({2}): gates passed{3}; gates: {4}", r.id(), w + 1,
                w == lastWave ? "last wave: rollout succeeded" : "to wave " + (w + 2), r.promoted() ? " (promoted by an operator)"
                        : detail.containsKey("proceededWithout") ? " without telemetry for " + detail.get("proceededWithout") : "",
                values(spec, w, g.detail()));
        if (w == lastWave) {
            must(fenced.update(r, r.withState(RolloutState.SUCCEEDED, Optional.empty(), now), log("succeeded", null,
                    Map.of("states", counts(devices)))));
            events.record("rollout.succeeded", "rollout/" + r.id(), null, Map.of("states", counts(devices)));
        } else {
            must(fenced.update(r, r.withNextWave(now), log("wave-advanced", null, Map.of("from", w + 1, "to", w + 2))));
        }
    }

    /** Whether a wave's device is done with the wave: a shadow wave's once shadowing (or failed), a normal wave's once terminal. */
    private static boolean settled(DeviceRow d, boolean shadowWave) {
        return shadowWave ? DeviceState.SHADOW_TERMINAL.contains(d.state()) : d.state().terminal();
    }

    /** The gates' decision on the current wave: {@link ShadowGate} for a shadow wave, {@link Gates} otherwise. */
    private Gates.Decision decide(RolloutRow r, List<DeviceRow> devices, List<DeviceRow> wave, Instant now, Map<String, DeviceRecord> records,
            Gates.Streaks prior) {
        RolloutSpec spec = r.spec();
        if (!spec.shadowWave(r.wave())) {
            return Gates.evaluate(spec.effectiveGates(), readings.read(r, devices, wave, now, records), prior);
        }
        List<DeviceRow> failed = devices.stream().filter(x -> x.state().installFailed()).toList();
        Optional<String> firstError = failed.stream().filter(x -> x.error().isPresent()).map(x -> x.key() + ": " + x.error().get()).findFirst();
        ShadowReadings.Totals t = shadowReadings.map(s -> s.totals(r.id(), r.model(), r.version(), keys(devices)))
                .orElse(ShadowReadings.Totals.of(List.of()));
        return ShadowGate.evaluate(spec.effectiveShadowGates(), t, failed.size(), firstError, spec.effectiveGates().maxInstallFailures().orElse(0));
    }

    /** The INFO line's readings of a verdict on wave {@code w}: the shadow readings of a shadow wave, {@link #gateValues} otherwise. */
    static String values(RolloutSpec spec, int w, Map<String, Object> d) {
        if (!spec.shadowWave(w)) {
            return gateValues(spec.effectiveGates(), d);
        }
        RolloutSpec.ShadowGates g = spec.effectiveShadowGates();
        java.util.function.Function<Object, String> num = o -> o instanceof Double x ? String.format(java.util.Locale.ROOT, "%.4f", x)
                : String.valueOf(o);
        return "shadowSamples=" + d.get("shadowSamples") + " (min " + g.minSamples().orElseThrow() + "), shadowAgreement="
                + num.apply(d.getOrDefault("shadowAgreement", "-")) + " (min " + num.apply(g.minAgreement().getAsDouble()) + "), shadowLatencyRatio="
                + num.apply(d.getOrDefault("shadowLatencyRatio", "-")) + " (max " + num.apply(g.maxLatencyRatio().getAsDouble())
                + "), shadowNonFinite=" + d.get("shadowNonFinite") + " (max " + g.maxNonFinite().orElseThrow() + "), shadowDropped="
                + d.get("shadowDropped") + ", installFailures=" + d.get("installFailures");
    }

    /**
     * The gate readings next to their thresholds for the INFO line of a verdict, e.g.
     * {@code installFailures=0 (max 0), errorRate=0.0120 (max 0.0500), errorRate-baseline=0.0020 (max 0.0500),
     * p95Ms=12.3 (baseline 10.1; ratio max 1.50)}; a gate without a threshold shows its reading only.
     */
    static String gateValues(RolloutSpec.Gates gates, Map<String, Object> d) {
        List<String> out = new ArrayList<>();
        java.util.function.BiConsumer<String, String> add = (k, v) -> out.add(k + "=" + v);
        java.util.function.Function<Object, String> num = o -> o instanceof Double x ? String.format(java.util.Locale.ROOT, "%.4f", x)
                : String.valueOf(o);
        add.accept("installFailures", d.get("installFailures") + gates.maxInstallFailures().map(m -> " (max " + m + ")").orElse(""));
        add.accept("stale", d.get("staleAfterUpdate") + gates.maxStale().map(m -> " (max " + m + ")").orElse(""));
        add.accept("requests", d.get("requests") + gates.minRequests().map(m -> " (min " + m + ")").orElse(""));
        add.accept("errorRate", num.apply(d.get("errorRate")) + (gates.maxErrorRate().isPresent()
                ? " (max " + num.apply(gates.maxErrorRate().getAsDouble()) + ")" : ""));
        if (d.containsKey("baselineErrorRate")) {
            add.accept("baselineErrorRate", num.apply(d.get("baselineErrorRate")) + (gates.maxErrorRateIncrease().isPresent()
                    ? " (increase max " + num.apply(gates.maxErrorRateIncrease().getAsDouble()) + ")" : ""));
        }
        Object p95 = d.get("p95Ms");
        add.accept("p95Ms", (p95 instanceof Double x ? String.format(java.util.Locale.ROOT, "%.1f", x) : String.valueOf(p95))
                + (d.get("baselineP95Ms") instanceof Double b ? String.format(java.util.Locale.ROOT, " (baseline %.1f", b)
                        + (gates.maxP95Ratio().isPresent() ? String.format(java.util.Locale.ROOT, "; ratio max %.2f)", gates.maxP95Ratio().getAsDouble()) : ")")
                        : ""));
        if (d.containsKey("meanConfidence") && d.containsKey("baselineMeanConfidence")) {
            add.accept("meanConfidence", num.apply(d.get("meanConfidence")) + " (baseline " + num.apply(d.get("baselineMeanConfidence"))
                    + (gates.maxConfidenceDrop().isPresent() ? "; drop max " + num.apply(gates.maxConfidenceDrop().getAsDouble()) : "") + ")");
        }
        add.accept("escalationShare", num.apply(d.get("escalationShare")) + (gates.maxEscalationShare().isPresent()
                ? " (max " + num.apply(gates.maxEscalationShare().getAsDouble()) + ")" : ""));
        add.accept("nonFiniteRate", num.apply(d.get("nonFiniteRate")) + (gates.maxNonFiniteRate().isPresent()
                ? " (max " + num.apply(gates.maxNonFiniteRate().getAsDouble()) + ")" : ""));
        if (gates.driftGate()) {
            add.accept("drift", d.containsKey("driftMaxPsi") ? d.get("driftWorstFeature") + " PSI " + num.apply(d.get("driftMaxPsi"))
                    + (Boolean.TRUE.equals(d.get("driftAlarm")) ? " in alarm" : "") + " (threshold " + num.apply(d.get("driftThreshold")) + ", "
                    + d.get("driftWindows") + " window(s) judged)" : "not judged yet");
        }
        return String.join(", ", out);
    }

    /** The telemetry-wait limit of the current wave counts from its bake's end, or from the last resume in this wave. */
    private Instant telemetryWaitFrom(RolloutRow r, Instant bakeEnd) {
        return store.lastLogAt(r.id(), r.wave(), "resumed").filter(t -> t.isAfter(bakeEnd)).orElse(bakeEnd);
    }

    /**
     * What a rollout waits for now, computed from the stored state and the telemetry the next
     * tick would judge (it changes nothing): empty for a finished rollout; {@code operator} for a
     * paused one; otherwise devices to join, installs in progress, bake left, telemetry evidence
     * (with the time left before {@code onTelemetryWait} applies) and violations awaiting
     * confirmation. Any thread.
     */
    public synchronized List<Waiting> waitingFor(String id) {
        Optional<RolloutRow> found = store.get(id);
        return found.isEmpty() ? List.of() : waitingFor(found.get(), store.devices(id));
    }

    private List<Waiting> waitingFor(RolloutRow r, List<DeviceRow> devices) {
        RolloutSpec spec = r.spec();
        if (r.state() == RolloutState.PAUSED) {
            return List.of(new Waiting("operator", Optional.empty(), 0, 1, Optional.empty(), "paused: " + r.reason().orElse("(no reason)")
                    + "; resume, promote or abort"));
        }
        if (r.state() != RolloutState.RUNNING) {
            return List.of();
        }
        Instant now = clock.instant();
        if (devices.isEmpty()) {
            return List.of(new Waiting("devices", Optional.of("selector"), 0, 1, Optional.empty(), spec.waitsForDevices()
                    ? "no device matches selector '" + spec.selector() + "' yet (waitForDevices: true)"
                    : "the next tick adds the devices that match selector '" + spec.selector() + "'"));
        }
        int w = r.wave();
        List<DeviceRow> wave = devices.stream().filter(d -> d.wave() <= w).toList();
        List<Waiting> out = new ArrayList<>();
        boolean shadowWave = spec.shadowWave(w);
        long installed = wave.stream().filter(d -> settled(d, shadowWave)).count();
        if (installed < wave.size()) {
            Map<String, Long> open = counts(wave.stream().filter(d -> !settled(d, shadowWave)).toList());
            out.add(new Waiting("install", Optional.empty(), installed, wave.size(), Optional.empty(), (wave.size() - installed)
                    + " device(s) of wave " + (w + 1) + " not yet activated, failed or timed out " + open));
        } else if (r.waveDoneAt().isEmpty()) {
            // acks are applied as they come (any replica), the wave recorded as installed at the leader's next tick
            out.add(new Waiting("install", Optional.empty(), installed, wave.size(), Optional.empty(), "all " + wave.size()
                    + " device(s) of wave " + (w + 1) + " activated, failed or timed out; the next tick records the wave as installed"));
        }
        Gates.Decision g = decide(r, devices, wave, now, ReadingsSource.byKey(fleet.all()), streaks.getOrDefault(r.id() + "/" + w,
                Gates.Streaks.NONE));
        if (g.verdict() == Gates.Verdict.FAIL) {
            out.add(new Waiting("gates", Optional.empty(), 0, 0, Optional.empty(), "failing, acted on at the next tick: " + g.reason()));
            return out;
        }
        Optional<Instant> bakeEnd = r.waveDoneAt().map(t -> t.plus(spec.waves().get(w).bakeDuration()));
        boolean baked = r.promoted() || bakeEnd.map(t -> !now.isBefore(t)).orElse(false);
        if (bakeEnd.isPresent() && !baked) {
            Duration bake = spec.waves().get(w).bakeDuration();
            long left = Duration.between(now, bakeEnd.get()).toMillis();
            out.add(new Waiting("bake", Optional.empty(), bake.toMillis() - left, bake.toMillis(), Optional.of(left),
                    "baking wave " + (w + 1) + ": " + Duration.ofMillis(left) + " left of " + bake));
        }
        if (!r.promoted()) {
            String then = spec.proceedAfterTelemetryWait(w) && !spec.shadowWave(w) ? "proceed" : "pause";
            Optional<Long> left = baked ? Optional.of(Duration.between(now, telemetryWaitFrom(r, bakeEnd.get()).plus(spec.telemetryWaitOf(w)))
                    .toMillis()) : Optional.empty();
            for (Waiting x : g.waiting()) {
                Waiting y = new Waiting(x.condition(), x.gate(), x.have(), x.need(), Optional.empty(), x.detail() + "; at most " + spec.telemetryWaitOf(w)
                        + " after the bake, then " + then);
                out.add(left.map(y::withLeftMillis).orElse(y));
            }
        }
        return out;
    }

    static Map<String, Long> counts(List<DeviceRow> devices) {
        return devices.stream().collect(Collectors.groupingBy(d -> d.state().wire(), LinkedHashMap::new, Collectors.counting()));
    }

    /** Adds selected devices not yet in the rollout: by rank into the waves at the start, later into the next wave. */
    private void join(RolloutRow r, List<DeviceRow> existing, List<DeviceRecord> fleetNow, int lastWave, Instant now) {
        Selector sel = Selector.parse(r.spec().selector());
        List<DeviceRecord> matching = fleetNow.stream().filter(d -> sel.matches(d, now, fleet.staleAfter())).toList();
        Set<String> known = new HashSet<>();
        existing.forEach(d -> known.add(d.key()));
        List<DeviceRecord> fresh = matching.stream().filter(d -> !known.contains(d.key())).toList();
        if (fresh.isEmpty()) {
            return;
        }
        List<DeviceRow> rows = new ArrayList<>();
        if (existing.isEmpty()) {
            List<DeviceRecord> sorted = new ArrayList<>(fresh);
            sorted.sort(Comparator.comparing(d -> rank(r.id(), d.fleet(), d.device())));
            int n = sorted.size();
            int[] cut = cutoffs(r.spec(), n);
            for (int i = 0; i < n; i++) {
                int wave = 0;
                while (wave < lastWave && i >= cut[wave]) {
                    wave++;
                }
                rows.add(row(r, sorted.get(i), wave, now));
            }
        } else {
            int wave = Math.min(r.wave() + (r.waveStartedAt().isPresent() ? 1 : 0), lastWave);
            fresh.forEach(d -> rows.add(row(r, d, wave, now)));
            fenced.log(r.id(), r.wave(), RolloutStore.LogEntry.of("joined", null, Map.of("devices", fresh.stream().map(DeviceRecord::key).toList(),
                    "wave", wave + 1)), now);
        }
        fenced.addDevices(r.id(), rows);
    }

    private static DeviceRow row(RolloutRow r, DeviceRecord d, int wave, Instant now) {
        Optional<String> current = d.activeVersion(r.model());
        boolean already = current.map(r.version()::equals).orElse(false);
        return DeviceRow.joining(d.fleet(), d.device(), rank(r.id(), d.fleet(), d.device()), wave, already ? DeviceState.ACTIVATED
                : DeviceState.PENDING, current, already ? Optional.of(now) : Optional.empty(),
                already ? Optional.of("already on " + r.version()) : Optional.empty(), now);
    }

    /** Cumulative device counts per wave; the last wave always takes everyone. */
    static int[] cutoffs(RolloutSpec spec, int n) {
        int[] cut = new int[spec.waves().size()];
        for (int i = 0; i < cut.length; i++) {
            RolloutSpec.Wave w = spec.waves().get(i);
            int c = w.percent().isPresent() ? (int) Math.ceil(n * w.percent().getAsDouble() / 100.0) : w.count().getAsInt();
            cut[i] = Math.min(n, Math.max(c, i == 0 ? Math.min(1, n) : cut[i - 1]));
        }
        cut[cut.length - 1] = n;
        return cut;
    }

    private void sendCommands(RolloutRow r, List<DeviceRow> devices, Instant now) {
        RolloutSpec spec = r.spec();
        int maxConcurrent = spec.maxConcurrent().orElse(Integer.MAX_VALUE);
        int maxPerMinute = spec.maxPerMinute().orElse(Integer.MAX_VALUE);
        int retries = spec.retries().orElse(2);
        Duration timeout = spec.timeout();
        long inFlight = devices.stream().filter(d -> d.state().inFlight()).count();
        long lastMinute = devices.stream().filter(d -> d.commandedAt().map(t -> t.isAfter(now.minusSeconds(60))).orElse(false)).count();
        List<DeviceRow> commanded = new ArrayList<>();
        // Retries and time-outs first: they hold concurrency slots already.
        for (DeviceRow d : devices) {
            if (!d.state().inFlight() || d.commandedAt().isEmpty() || d.commandedAt().get().plus(timeout).isAfter(now)) {
                continue;
            }
            if (d.attempts() <= retries) {
                if (send(r, d, d.commandId().orElseThrow()) && !fenced.writeDevicesIfUnchanged(r.id(), List.of(d.withCommand(DeviceState.COMMANDED,
                        d.commandId().orElseThrow(), d.attempts() + 1, now, leadership.token())), Set.of()).isEmpty()) {
                    fenced.log(r.id(), r.wave(), RolloutStore.LogEntry.of("retry", null, Map.of("device", d.key(), "attempt", d.attempts() + 1)),
                            now);
                }
            } else {
                fenced.writeDevicesIfUnchanged(r.id(), List.of(d.withState(DeviceState.TIMED_OUT, Optional.of("no activation within " + timeout
                        + " after " + d.attempts() + " attempt(s)"), false, now)), java.util.EnumSet.of(DeviceState.ACTIVATED, DeviceState.FAILED,
                        DeviceState.ROLLED_BACK, DeviceState.ROLLING_BACK, DeviceState.SHADOWING));
                inFlight--;
            }
        }
        for (DeviceRow d : devices) {
            if (inFlight >= maxConcurrent || lastMinute >= maxPerMinute) {
                break;
            }
            boolean shadowWave = spec.shadowWave(r.wave());
            // a shadow wave's device loads the candidate in shadow; a normal wave deploys it, to shadowing devices too
            if (d.wave() > r.wave() || !(d.state() == DeviceState.PENDING || d.state() == DeviceState.SHADOWING && !shadowWave)) {
                continue;
            }
            String cmd = (shadowWave ? Intent.SHADOW : Intent.DEPLOY).commandId(r.id(), d.key());
            if (send(r, d, cmd)) {
                // recorded together below: should the process die in between, the next leader sends the same command id again
                // (pending devices), which the agent applies once
                commanded.add(d.withCommand(DeviceState.COMMANDED, cmd, 1, now, leadership.token()));
                inFlight++;
                lastMinute++;
            }
        }
        // only over the rows as read: an acknowledgement applied meanwhile (by any replica) already recorded the command
        fenced.writeDevicesIfUnchanged(r.id(), commanded, Set.of());
    }

    private boolean send(RolloutRow r, DeviceRow d, String commandId) {
        Command c = Intent.of(commandId) == Intent.SHADOW ? Command.shadow(commandId, r.id(), r.model(), r.version(), clock.instant())
                : Command.deploy(commandId, r.id(), r.model(), r.version(), true, clock.instant());
        return sender.send(d.fleet(), d.device(), json.encode(fencing(c)));
    }

    /**
     * The command with the leader's fencing token. Checked before every send: a replica whose lease
     * ran out (its renew deadline passed) sends nothing more.
     *
     * @throws io.edgefleet.cloud.lease.LeaseLostException this replica no longer leads
     */
    private Command fencing(Command c) {
        if (!leadership.isLeader()) {
            throw new io.edgefleet.cloud.lease.LeaseLostException("no longer the leader: command " + c.commandId() + " not sent");
        }
        java.util.OptionalLong t = leadership.token();
        return t.isPresent() ? c.withFencingToken(t.getAsLong()) : c;
    }

    /** Commands every device of the rollout that may run the new version back to its previous one. */
    private void rollBack(RolloutRow r, String actor, String reason, Map<String, ?> detail) {
        Instant now = clock.instant();
        LOG.log(System.Logger.Level.INFO, "rollout {0} ({1} {2}): rolling back wave {3} and those before ({4}): {5}", r.id(), r.model(), r.version(),
                r.wave() + 1, actor == null ? "gate" : "by " + actor, reason);
        must(fenced.update(r, r.withState(RolloutState.ROLLED_BACK, Optional.of(reason), now), log("rolled-back", actor, detail)));
        // Timed-out devices too: their deploy may still land later. The rollback names the version to
        // return to, so a device that never switched treats it as done.
        Predicate<DeviceRow> touched = d -> (d.state() == DeviceState.ACTIVATED || d.state() == DeviceState.TIMED_OUT)
                && d.fromVersion().isPresent() && !d.fromVersion().get().equals(r.version()) || d.state().inFlight()
                || d.state() == DeviceState.SHADOWING; // a shadow candidate is unloaded (docs/shadow.md)
        commandRollback(r, current(r.id()).stream().filter(touched).toList(), now);
        views.remove(r.id());
    }

    /**
     * Whether {@code d} has (or may yet load) {@code r}'s shadow candidate: it acknowledged {@code shadowing}, or its shadow
     * command is in flight or timed out (it may still land).
     */
    private static boolean shadowLoaded(RolloutRow r, DeviceRow d) {
        boolean shadowCommand = d.commandId().filter(Intent.SHADOW.commandId(r.id(), d.key())::equals).isPresent();
        return d.state() == DeviceState.SHADOWING || shadowCommand && (d.state().inFlight() || d.state() == DeviceState.TIMED_OUT);
    }

    /**
     * Sends {@code devices} a rollback naming the version each ran before the rollout (which also unloads a shadow
     * candidate; a device already there acknowledges {@code rolled-back} at once) and records them {@code rolling-back}.
     */
    private void commandRollback(RolloutRow r, List<DeviceRow> devices, Instant now) {
        for (DeviceRow d : devices) {
            String cmd = Intent.ROLLBACK.commandId(r.id(), d.key());
            Command c = fencing(Command.rollback(cmd, r.id(), r.model(), d.fromVersion(), now));
            DeviceRow sent = d.withCommand(DeviceState.ROLLING_BACK, cmd, d.attempts(), now, c.fencingToken());
            fenced.writeDevice(r.id(), sent, Set.of());
            if (!sender.send(d.fleet(), d.device(), json.encode(c))) {
                fenced.writeDevice(r.id(), sent.withState(DeviceState.ROLLING_BACK, Optional.of("rollback command not sent: broker unreachable"),
                        false, now), Set.of());
            }
        }
    }

    /** The topic a command for a device goes to. */
    public static String topic(String fleet, String device) {
        return Topic.command(fleet, device).value();
    }

    /** Status summary: counts per wave (keyed by the wave's index, 0 for the first) and state. */
    public Map<Integer, Map<String, Long>> waves(String id) {
        return waves(store.devices(id));
    }

    private static Map<Integer, Map<String, Long>> waves(List<DeviceRow> devices) {
        Map<Integer, Map<String, Long>> out = new java.util.TreeMap<>();
        Map<Integer, List<DeviceRow>> byWave = new HashMap<>();
        devices.forEach(d -> byWave.computeIfAbsent(d.wave(), k -> new ArrayList<>()).add(d));
        byWave.forEach((w, l) -> out.put(w, counts(l)));
        return out;
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        try {
            ticker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}
