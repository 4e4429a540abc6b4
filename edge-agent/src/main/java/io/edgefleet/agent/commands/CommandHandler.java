package io.edgefleet.agent.commands;

import io.edgefleet.agent.slots.ModelNotServedException;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.agent.slots.SlotException;
import io.edgefleet.agent.store.AgentStore;
import io.edgefleet.agent.store.CommandRecord;
import io.edgefleet.agent.store.SlotRecord;
import io.edgefleet.agent.store.VersionedFile;
import io.edgefleet.protocols.messages.AckError;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import java.time.Clock;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Consumer;

/**
 * Applies cloud commands to the agent's slots, exactly once per command id. Each command is
 * recorded when it arrives (with the version it leads to) and again when it ends; a redelivered
 * command gets its recorded outcome acknowledged again instead of running twice, and one that a
 * crash interrupted is finished, not repeated (a rollback whose target is already active is done).
 *
 * <p>Acknowledgements: {@code received}, then one of {@code activated} (activate; configure,
 * meaning applied), {@code rolled-back} (rollback) or {@code failed} with a code and a message.
 * Knows nothing of MQTT: acks go to the given consumer. Not thread-safe: one command at a time.
 */
public final class CommandHandler {
    private static final System.Logger LOG = System.getLogger(CommandHandler.class.getName());
    private final ModelSlots slots;
    private final AgentStore store;
    private final String device;
    private final Clock clock;
    private final Optional<Deployer> deployer;
    private final io.edgefleet.protocols.messages.MessageCodec json = io.edgefleet.protocols.messages.MessageCodec.json();

    public CommandHandler(ModelSlots slots, AgentStore store, String device, Clock clock) {
        this(slots, store, device, clock, Optional.empty());
    }

    private volatile Optional<io.edgefleet.agent.split.SplitRouter> splits = Optional.empty();

    /** Applies {@code split} commands (A/B experiments, docs/ab.md) to {@code router}; without one they fail as not supported. */
    public void splits(io.edgefleet.agent.split.SplitRouter router) {
        this.splits = Optional.of(router);
    }

    /**
     * A {@code split} command: start loads arm B (downloaded and verified like a deploy) and starts the split; stop returns
     * every request to arm A and unloads arm B. Acknowledged {@code activated} when done.
     */
    private CommandAck split(Command cmd, Consumer<CommandAck> ack) {
        if (splits.isEmpty()) {
            return failed(cmd, "not-supported", "this agent does not run A/B experiments");
        }
        io.edgefleet.agent.split.SplitRouter router = splits.get();
        String model = cmd.model();
        String version = cmd.version().orElseThrow();
        io.edgefleet.agent.split.SplitRouter.Experiment e;
        try {
            e = experiment(cmd);
        } catch (IllegalArgumentException | io.edgefleet.protocols.ProtocolException x) {
            return failed(cmd, "bad-settings", x.getMessage());
        }
        if (Boolean.parseBoolean(cmd.settings().get("stop"))) {
            router.stop(model, e.id());
            if (router.running(model).isEmpty()) {
                slots.dropArmB(model);
            }
            return done(cmd, AckPhase.ACTIVATED);
        }
        if (deployer.isEmpty()) {
            return failed(cmd, "not-supported", "this agent has no model sync configured (--sync-url)");
        }
        if (slots.activeVersions().getOrDefault(model, "").equals(version)) {
            return failed(cmd, "already-active", "version " + version + " of model '" + model + "' is active here; it cannot be arm B");
        }
        java.nio.file.Path file = deployer.get().fetch(model, version, downloading(cmd, ack));
        ack.accept(done(cmd, AckPhase.VERIFIED));
        slots.loadArmB(model, version, file);
        router.start(e);
        slots.keepCandidate(model, ModelSlots.CandidateRole.ARM_B, version, file, cmd.commandId()); // a restarted agent splits again
        return done(cmd, AckPhase.ACTIVATED);
    }

    /** The experiment a {@code split} command starts or stops, from its settings. */
    private static io.edgefleet.agent.split.SplitRouter.Experiment experiment(Command cmd) {
        String experiment = cmd.settings().getOrDefault("experiment", "");
        io.edgefleet.protocols.Checks.id(experiment, "settings.experiment");
        return new io.edgefleet.agent.split.SplitRouter.Experiment(experiment, cmd.model(), cmd.version().orElseThrow(),
                Double.parseDouble(cmd.settings().getOrDefault("share", "NaN")),
                io.edgefleet.agent.split.SplitRouter.SplitBy.of(cmd.settings().getOrDefault("splitBy", "share")));
    }

    /** Failed acks of candidates {@link #restoreCandidates} could not load again, sent by the next {@link #resumePending}. */
    private final java.util.List<CommandAck> notRestored = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Loads the candidates the store records again after a restart (issue 20): shadows (the shadow runner samples them
     * again) and arms B (the split of their experiment routes again, from the recorded command's settings), each verified
     * again ({@link ModelSlots#restoreCandidate}). A candidate that fails is forgotten, never loaded, logged as a warning,
     * and the command that loaded it is recorded and acknowledged {@code failed} with code {@value #NOT_RESTORED} and the
     * reason (the acks go out with the next {@link #resumePending}, once the transport is connected): the cloud then sees
     * the device's shadow or split as failed. Call once at start, after {@link ModelSlots#restore}, before commands run.
     *
     * @return how many candidates were loaded again
     */
    public int restoreCandidates() {
        int loaded = 0;
        for (io.edgefleet.agent.store.CandidateRecord r : slots.keptCandidates()) {
            Optional<Command> cmd = Optional.empty();
            try {
                cmd = store.commandPayload(r.commandId()).map(b -> json.decode(b, Command.class));
                if (cmd.isEmpty()) {
                    throw new SlotException("model '" + r.model() + "' version " + r.version() + ": the command that loaded it ("
                            + r.commandId() + ") is not recorded", null);
                }
                boolean armB = ModelSlots.CandidateRole.of(r.role()) == ModelSlots.CandidateRole.ARM_B;
                if (armB && splits.isEmpty()) {
                    throw new SlotException("this agent does not run A/B experiments", null);
                }
                io.edgefleet.agent.split.SplitRouter.Experiment e = armB ? experiment(cmd.get()) : null;
                slots.restoreCandidate(r, cmd.get().rolloutId());
                if (armB) {
                    splits.get().start(e);
                }
                loaded++;
                LOG.log(System.Logger.Level.INFO, "model {0}: version {1} loaded again as {2} after the restart (command {3})", r.model(),
                        r.version(), r.role(), r.commandId());
            } catch (RuntimeException e) {
                store.deleteCandidate(r.model(), r.role());
                String why = "the " + r.role() + " candidate " + r.model() + " " + r.version() + " was not loaded again after a restart: "
                        + e.getMessage();
                LOG.log(System.Logger.Level.WARNING, "{0}; dropped", why);
                cmd.ifPresent(c -> {
                    store.commandDone(c.commandId(), AckPhase.FAILED.wire(), Optional.of(NOT_RESTORED), Optional.of(why));
                    notRestored.add(failed(c, NOT_RESTORED, why));
                });
            }
        }
        return loaded;
    }

    /** The failure code of a candidate that could not be loaded again after a restart ({@link #restoreCandidates}). */
    public static final String NOT_RESTORED = "candidate-not-restored";

    public CommandHandler(ModelSlots slots, AgentStore store, String device, Clock clock, Optional<Deployer> deployer) {
        this.slots = slots;
        this.store = store;
        this.device = device;
        this.clock = clock;
        this.deployer = deployer;
    }

    /**
     * The fencing check (issue 18), made before a command is recorded: a command carrying a
     * fencing token lower than the highest this device has seen was issued by a control-plane
     * leader that has since been replaced, and is refused with {@link Command#STALE_CODE} and a
     * sentence naming both tokens; it is not recorded, so the same command id issued by the
     * current leader still runs. A higher token is remembered (persisted) before the command runs.
     * A command without a token passes.
     *
     * @return the reason to refuse, or empty to go on
     */
    public Optional<AckError> fence(Command cmd) {
        if (cmd.fencingToken().isEmpty()) {
            return Optional.empty();
        }
        long token = cmd.fencingToken().getAsLong();
        long seen = store.fencingToken();
        if (cmd.staleFor(seen)) {
            return Optional.of(new AckError(Command.STALE_CODE, "command " + cmd.commandId() + " carries fencing token " + token
                    + " but this device has seen token " + seen + " from a newer control-plane leader; refused as stale"));
        }
        if (token > seen) {
            store.raiseFencingToken(token);
        }
        return Optional.empty();
    }

    /**
     * Records a command durably (before the transport acknowledges it to the broker), unless it
     * is known already; returns what is known of an earlier delivery.
     */
    public Optional<CommandRecord> accept(Command cmd) {
        Optional<String> target = switch (cmd.type()) {
            case ACTIVATE, DEPLOY, SHADOW, SPLIT -> cmd.version();
            case ROLLBACK -> cmd.version().or(() -> store.slot(cmd.model()).flatMap(SlotRecord::previous).map(VersionedFile::version));
            case CONFIGURE -> Optional.empty();
        };
        return store.commandReceived(cmd.commandId(), cmd.type().wire(), cmd.model(), target, json.encode(cmd));
    }

    /** Whether a command with this id was recorded before (a redelivery, not a new command). */
    public boolean known(String commandId) {
        return store.command(commandId).isPresent();
    }

    /** Finishes the commands a crash interrupted, in the order they arrived. */
    public void resumePending(Consumer<CommandAck> ack) {
        for (CommandAck a : notRestored) {
            ack.accept(a);
            notRestored.remove(a);
        }
        for (byte[] payload : store.pendingCommands()) {
            process(json.decode(payload, Command.class), ack);
        }
    }

    public void handle(Command cmd, Consumer<CommandAck> ack) {
        Optional<AckError> stale = fence(cmd);
        if (stale.isPresent()) {
            ack.accept(CommandAck.failed(cmd, device, stale.get(), clock.instant()));
            return;
        }
        accept(cmd);
        process(cmd, ack);
    }

    /**
     * Runs a command {@link #accept accepted} before, unless the store says it already finished:
     * then its recorded outcome is acknowledged again (a redelivery), and nothing runs twice.
     * Commands are processed one at a time, so the store's answer is current.
     */
    public void process(Command cmd, Consumer<CommandAck> acks) {
        Consumer<CommandAck> ack = logged(cmd, acks);
        Optional<CommandRecord> current = store.command(cmd.commandId());
        boolean unfinished = current.isEmpty() || current.get().phase().equals(AckPhase.RECEIVED.wire())
                || current.get().phase().equals(AckPhase.DOWNLOADING.wire());
        if (!unfinished) {
            ack.accept(replay(cmd, current.get()));
            return;
        }
        Optional<String> target = current.flatMap(CommandRecord::target).or(() -> cmd.version());
        ack.accept(CommandAck.of(cmd, device, AckPhase.RECEIVED, clock.instant()));
        CommandAck outcome;
        try {
            outcome = run(cmd, target, ack);
        } catch (SlotException e) {
            outcome = failed(cmd, "activation-failed", e.getMessage());
        } catch (ModelNotServedException e) {
            outcome = failed(cmd, "unknown-model", e.getMessage());
        } catch (io.edgefleet.sync.signing.ManifestRejectedException e) {
            outcome = failed(cmd, "manifest-rejected", e.getMessage());
        } catch (io.edgefleet.sync.client.NoVariantException e) {
            outcome = failed(cmd, "no-variant", e.getMessage());
        } catch (io.edgefleet.sync.client.SyncUnauthorizedException e) {
            outcome = failed(cmd, "unauthorized", e.getMessage());
        } catch (io.edgefleet.sync.client.SyncException e) {
            outcome = failed(cmd, e.retriable() ? "download-failed" : "verification-failed", e.getMessage());
        } catch (RuntimeException e) {
            System.getLogger(CommandHandler.class.getName()).log(System.Logger.Level.ERROR, "command " + cmd.commandId() + " failed", e);
            outcome = failed(cmd, "internal-error", "the agent could not apply the command (an internal error; the agent's log has it)");
        }
        store.commandDone(cmd.commandId(), outcome.phase().wire(), outcome.error().map(AckError::code),
                outcome.error().map(AckError::message));
        ack.accept(outcome);
    }

    private CommandAck run(Command cmd, Optional<String> target, Consumer<CommandAck> ack) {
        if (cmd.expiredAt(clock.instant())) {
            return failed(cmd, "expired", "command " + cmd.commandId() + " expired at " + cmd.expiresAt().get());
        }
        String model = cmd.model();
        return switch (cmd.type()) {
            case ACTIVATE -> {
                String version = cmd.version().orElseThrow();
                if (slots.activeVersions().getOrDefault(model, "").equals(version)) {
                    yield done(cmd, AckPhase.ACTIVATED);
                }
                var file = slots.stagedFile(model, version);
                if (file.isEmpty()) {
                    yield failed(cmd, "not-staged", "version " + version + " of model '" + model
                            + "' is not on this device; deploy it first");
                }
                // the staged file is checked against the signed manifest again (fetched anew if it changed since)
                java.nio.file.Path checked = deployer.isPresent() ? deployer.get().fetch(model, version, downloading(cmd, ack)) : file.get();
                loading(cmd);
                slots.install(model, version, checked);
                yield done(cmd, AckPhase.ACTIVATED);
            }
            case ROLLBACK -> {
                slots.dropShadow(model); // a rollout that is rolled back runs its candidate nowhere, not even in shadow
                if (target.isPresent() && slots.activeVersions().getOrDefault(model, "").equals(target.get())) {
                    yield done(cmd, AckPhase.ROLLED_BACK); // a crash interrupted us after the swap, or the watchdog got there first
                }
                if (cmd.version().isPresent()) {
                    Optional<String> previous = store.slot(model).flatMap(SlotRecord::previous).map(VersionedFile::version);
                    if (!previous.equals(cmd.version())) {
                        yield failed(cmd, "rollback-target", "cannot roll " + model + " back to " + cmd.version().get()
                                + ": it is neither active (" + slots.activeVersions().getOrDefault(model, "none") + ") nor the previous version ("
                                + previous.orElse("none") + ")");
                    }
                }
                slots.rollback(model);
                yield done(cmd, AckPhase.ROLLED_BACK);
            }
            case CONFIGURE -> {
                store.saveSettings(model, cmd.settings());
                yield done(cmd, AckPhase.ACTIVATED);
            }
            case SPLIT -> split(cmd, ack);
            case SHADOW -> {
                if (deployer.isEmpty()) {
                    yield failed(cmd, "not-supported", "this agent has no model sync configured (--sync-url)");
                }
                String version = cmd.version().orElseThrow();
                if (slots.activeVersions().getOrDefault(model, "").equals(version)) {
                    yield failed(cmd, "already-active", "version " + version + " of model '" + model + "' is active here; it cannot run in shadow");
                }
                // downloaded and verified like a deploy, loaded next to the active version, never answering (docs/shadow.md)
                java.nio.file.Path file = deployer.get().fetch(model, version, downloading(cmd, ack));
                ack.accept(done(cmd, AckPhase.VERIFIED));
                slots.loadShadow(model, version, file, cmd.rolloutId());
                slots.keepCandidate(model, ModelSlots.CandidateRole.SHADOW, version, file, cmd.commandId()); // loaded again after a restart
                yield done(cmd, AckPhase.SHADOWING);
            }
            case DEPLOY -> {
                if (deployer.isEmpty()) {
                    yield failed(cmd, "not-supported", "this agent has no model sync configured (--sync-url)");
                }
                String version = cmd.version().orElseThrow();
                // always through the deployer: a file already here is re-checked against the signed manifest, not trusted by name
                java.nio.file.Path file = deployer.get().fetch(model, version, downloading(cmd, ack));
                if (!cmd.activate()) {
                    yield done(cmd, AckPhase.VERIFIED); // download-only: pre-staged, activated by a later command
                }
                ack.accept(done(cmd, AckPhase.VERIFIED));
                if (!slots.activeVersions().getOrDefault(model, "").equals(version)) {
                    loading(cmd);
                    slots.install(model, version, file);
                }
                yield done(cmd, AckPhase.ACTIVATED);
            }
        };
    }

    /**
     * The deploy steps as INFO lines (a failure as WARN, which central logs forward), each naming the
     * command, model and version: received, download started and done, verified, activated, rolled
     * back; the acknowledgements pass on unchanged.
     */
    private Consumer<CommandAck> logged(Command cmd, Consumer<CommandAck> ack) {
        String what = cmd.type().name().toLowerCase(java.util.Locale.ROOT) + " " + cmd.model() + cmd.version().map(v -> " " + v).orElse("");
        String rollout = cmd.rolloutId().map(r -> ", rollout " + r).orElse("");
        boolean[] downloading = {false};
        return a -> {
            switch (a.phase()) {
                case RECEIVED -> LOG.log(System.Logger.Level.INFO, "command {0}: {1} received{2}", cmd.commandId(), what, rollout);
                case DOWNLOADING -> {
                    double f = a.progress().orElse(0);
                    if (!downloading[0]) {
                        downloading[0] = true;
                        LOG.log(System.Logger.Level.INFO, "command {0}: {1}: downloading", cmd.commandId(), what);
                    }
                    if (f >= 1.0) {
                        LOG.log(System.Logger.Level.INFO, "command {0}: {1}: downloaded", cmd.commandId(), what);
                    }
                }
                case VERIFIED -> LOG.log(System.Logger.Level.INFO, "command {0}: {1}: verified against the signed manifest", cmd.commandId(), what);
                case ACTIVATED -> LOG.log(System.Logger.Level.INFO, "command {0}: {1}: activated", cmd.commandId(), what);
                case SHADOWING -> LOG.log(System.Logger.Level.INFO, "command {0}: {1}: loaded in shadow (runs on sampled requests, never answers)",
                        cmd.commandId(), what);
                case ROLLED_BACK -> LOG.log(System.Logger.Level.INFO, "command {0}: {1}: rolled back; {2} now serves {3}", cmd.commandId(), what,
                        cmd.model(), slots.activeVersions().getOrDefault(cmd.model(), "nothing"));
                case FAILED -> LOG.log(System.Logger.Level.WARNING, "command {0}: {1} failed: {2}", cmd.commandId(), what,
                        a.error().map(e -> e.code() + ": " + e.message()).orElse("failed"));
                default -> LOG.log(System.Logger.Level.INFO, "command {0}: {1}: {2}", cmd.commandId(), what, a.phase().wire());
            }
            ack.accept(a);
        };
    }

    private void loading(Command cmd) {
        LOG.log(System.Logger.Level.INFO, "command {0}: {1} {2}: loading as candidate and self-testing against the active version",
                cmd.commandId(), cmd.model(), cmd.version().orElse(""));
    }

    /** Progress of a download as {@code downloading} acks, one per 10 % and one at the end. */
    private java.util.function.DoubleConsumer downloading(Command cmd, Consumer<CommandAck> ack) {
        double[] reported = {-1};
        return f -> {
            if (f >= 1.0 || f - reported[0] >= 0.1) {
                reported[0] = f;
                ack.accept(new CommandAck(CommandAck.SCHEMA_VERSION, cmd.commandId(), cmd.rolloutId(), device,
                        AckPhase.DOWNLOADING, java.util.OptionalDouble.of(Math.min(1.0, f)), Optional.empty(), clock.instant()).answering(cmd));
            }
        };
    }

    private CommandAck done(Command cmd, AckPhase phase) {
        return CommandAck.of(cmd, device, phase, clock.instant());
    }

    private CommandAck failed(Command cmd, String code, String message) {
        return CommandAck.failed(cmd, device, new AckError(code, message), clock.instant());
    }

    private CommandAck replay(Command cmd, CommandRecord r) {
        AckPhase phase = java.util.Arrays.stream(AckPhase.values()).filter(p -> p.wire().equals(r.phase())).findFirst()
                .orElse(AckPhase.FAILED);
        Optional<AckError> error = phase == AckPhase.FAILED
                ? Optional.of(new AckError(r.errorCode().orElse("failed"), r.error().orElse("failed earlier")))
                : Optional.empty();
        return new CommandAck(CommandAck.SCHEMA_VERSION, cmd.commandId(), cmd.rolloutId(), device, phase, OptionalDouble.empty(),
                error, clock.instant()).answering(cmd);
    }

}
