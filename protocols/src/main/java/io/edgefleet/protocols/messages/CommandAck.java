package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * An acknowledgement on {@code ef/v1/{fleet}/{device}/cmd/ack}.
 *
 * @param commandId the command acknowledged
 * @param rolloutId copied from the command
 * @param device the acknowledging device
 * @param phase how far it got
 * @param progress 0..1 within the phase (download progress), when known
 * @param error present exactly when the phase is {@code failed}
 * @param at when the agent reached the phase
 * @param fencingToken copied from the command (absent when it had none): the control plane does not
 *     act on an acknowledgement of a command issued under a lower token than the one it last
 *     commanded the device with
 */
public record CommandAck(int schemaVersion, String commandId, Optional<String> rolloutId, String device,
        AckPhase phase, OptionalDouble progress, Optional<AckError> error, Instant at, OptionalLong fencingToken) implements Message {
    public static final int SCHEMA_VERSION = 1;

    public CommandAck {
        Checks.schemaVersion(schemaVersion, SCHEMA_VERSION, "cmd/ack");
        Checks.id(commandId, "commandId");
        rolloutId = ModelState.versionOrEmpty(rolloutId, "rolloutId");
        Checks.id(device, "device");
        Checks.required(phase, "phase");
        progress = progress == null ? OptionalDouble.empty() : progress;
        if (progress.isPresent()) {
            Checks.fraction(progress.getAsDouble(), "progress");
        }
        error = error == null ? Optional.empty() : error;
        if (phase == AckPhase.FAILED && error.isEmpty()) {
            throw new ProtocolException("error", "is required when the phase is failed");
        }
        if (phase != AckPhase.FAILED && phase != AckPhase.ROLLED_BACK && error.isPresent()) {
            throw new ProtocolException("error", "is only allowed when the phase is failed or rolled-back");
        }
        Checks.required(at, "at");
        fencingToken = fencingToken == null ? OptionalLong.empty() : fencingToken;
    }

    /** An acknowledgement without a fencing token. */
    public CommandAck(int schemaVersion, String commandId, Optional<String> rolloutId, String device, AckPhase phase,
            OptionalDouble progress, Optional<AckError> error, Instant at) {
        this(schemaVersion, commandId, rolloutId, device, phase, progress, error, at, OptionalLong.empty());
    }

    /** This acknowledgement answering {@code cmd}: its fencing token copied. */
    public CommandAck answering(Command cmd) {
        return new CommandAck(schemaVersion, commandId, rolloutId, device, phase, progress, error, at, cmd.fencingToken());
    }

    /** Whether this is an agent's refusal of a command with a stale fencing token ({@link Command#STALE_CODE}). */
    public boolean staleRefusal() {
        return error.map(e -> e.code().equals(Command.STALE_CODE)).orElse(false);
    }

    public static CommandAck of(Command cmd, String device, AckPhase phase, Instant at) {
        return new CommandAck(SCHEMA_VERSION, cmd.commandId(), cmd.rolloutId(), device, phase, OptionalDouble.empty(),
                Optional.empty(), at, cmd.fencingToken());
    }

    public static CommandAck failed(Command cmd, String device, AckError error, Instant at) {
        return new CommandAck(SCHEMA_VERSION, cmd.commandId(), cmd.rolloutId(), device, AckPhase.FAILED,
                OptionalDouble.empty(), Optional.of(error), at, cmd.fencingToken());
    }
}
