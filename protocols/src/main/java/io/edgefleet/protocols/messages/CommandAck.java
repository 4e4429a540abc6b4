package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalDouble;

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
 */
public record CommandAck(int schemaVersion, String commandId, Optional<String> rolloutId, String device,
        AckPhase phase, OptionalDouble progress, Optional<AckError> error, Instant at) implements Message {
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
    }

    public static CommandAck of(Command cmd, String device, AckPhase phase, Instant at) {
        return new CommandAck(SCHEMA_VERSION, cmd.commandId(), cmd.rolloutId(), device, phase, OptionalDouble.empty(),
                Optional.empty(), at);
    }

    public static CommandAck failed(Command cmd, String device, AckError error, Instant at) {
        return new CommandAck(SCHEMA_VERSION, cmd.commandId(), cmd.rolloutId(), device, AckPhase.FAILED,
                OptionalDouble.empty(), Optional.of(error), at);
    }
}
