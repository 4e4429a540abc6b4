package io.edgefleet.agent.store;

import java.util.Optional;

/** A command as the agent recorded it: its last phase and, when it failed, why. */
public record CommandRecord(String commandId, String type, String model, Optional<String> target, String phase,
        Optional<String> errorCode, Optional<String> error) {
}
