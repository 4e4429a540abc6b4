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
import io.edgefleet.protocols.messages.CommandType;
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
    private final ModelSlots slots;
    private final AgentStore store;
    private final String device;
    private final Clock clock;

    public CommandHandler(ModelSlots slots, AgentStore store, String device, Clock clock) {
        this.slots = slots;
        this.store = store;
        this.device = device;
        this.clock = clock;
    }

    public void handle(Command cmd, Consumer<CommandAck> ack) {
        Optional<String> target = switch (cmd.type()) {
            case ACTIVATE, DEPLOY -> cmd.version();
            case ROLLBACK -> store.slot(cmd.model()).flatMap(SlotRecord::previous).map(VersionedFile::version);
            case CONFIGURE -> Optional.empty();
        };
        Optional<CommandRecord> known = store.commandReceived(cmd.commandId(), cmd.type().wire(), cmd.model(), target);
        if (known.isPresent() && !known.get().phase().equals(AckPhase.RECEIVED.wire())) {
            ack.accept(replay(cmd, known.get()));
            return;
        }
        ack.accept(CommandAck.of(cmd, device, AckPhase.RECEIVED, clock.instant()));
        Optional<String> recordedTarget = known.flatMap(CommandRecord::target).or(() -> target);
        CommandAck outcome;
        try {
            outcome = run(cmd, recordedTarget);
        } catch (SlotException e) {
            outcome = failed(cmd, "activation-failed", e.getMessage());
        } catch (ModelNotServedException e) {
            outcome = failed(cmd, "unknown-model", e.getMessage());
        } catch (RuntimeException e) {
            outcome = failed(cmd, "internal-error", "the agent could not apply the command: " + e.getClass().getSimpleName());
        }
        store.commandDone(cmd.commandId(), outcome.phase().wire(), outcome.error().map(AckError::code),
                outcome.error().map(AckError::message));
        ack.accept(outcome);
    }

    private CommandAck run(Command cmd, Optional<String> target) {
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
                slots.install(model, version, file.get());
                yield done(cmd, AckPhase.ACTIVATED);
            }
            case ROLLBACK -> {
                if (target.isPresent() && slots.activeVersions().getOrDefault(model, "").equals(target.get())) {
                    yield done(cmd, AckPhase.ROLLED_BACK); // a crash interrupted us after the swap: finished already
                }
                slots.rollback(model);
                yield done(cmd, AckPhase.ROLLED_BACK);
            }
            case CONFIGURE -> {
                store.saveSettings(model, cmd.settings());
                yield done(cmd, AckPhase.ACTIVATED);
            }
            case DEPLOY -> failed(cmd, "not-supported", "deploy needs model sync, which this agent build does not have yet");
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
                error, clock.instant());
    }

    /** Whether a type is handled by this agent build (deploy arrives with model sync). */
    public static boolean supported(CommandType t) {
        return t != CommandType.DEPLOY;
    }
}
