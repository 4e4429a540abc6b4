package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import java.util.Objects;
import java.util.Optional;

/**
 * One model's slots on an agent.
 *
 * @param model the model name
 * @param active the version answering requests, if any
 * @param candidate a version staged or under self-test, if any
 * @param previous the version a rollback returns to, if any
 * @param health how the active version is doing
 */
public record ModelState(String model, Optional<String> active, Optional<String> candidate, Optional<String> previous,
        ModelHealth health) {
    public ModelState {
        Checks.id(model, "model");
        active = versionOrEmpty(active, "active");
        candidate = versionOrEmpty(candidate, "candidate");
        previous = versionOrEmpty(previous, "previous");
        Checks.required(health, "health");
        if (active.isPresent() && active.equals(candidate)) {
            throw new ProtocolException("candidate", "'" + candidate.get() + "' is already the active version");
        }
    }

    static Optional<String> versionOrEmpty(Optional<String> v, String field) {
        if (v == null || v.isEmpty()) {
            return Optional.empty();
        }
        Checks.id(v.get(), field);
        return v;
    }

    public static ModelState active(String model, String version) {
        return new ModelState(model, Optional.of(Objects.requireNonNull(version)), Optional.empty(), Optional.empty(),
                ModelHealth.HEALTHY);
    }
}
