package io.edgefleet.cloud.store;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A device, model or rollout event: what the control plane stores in {@code events} and, when
 * Kafka is configured, produces to {@code edgefleet.events.v1} keyed by subject.
 *
 * @param kind e.g. {@code device.online}, {@code device.offline}, {@code model.registered}
 * @param subject what it is about: {@code fleet/device}, {@code model/version}, a rollout id
 * @param actor who caused it (a token's name), when a person did
 */
public record Event(long id, Instant at, String kind, String subject, Optional<String> actor, Map<String, Object> detail) {
    public Event {
        actor = actor == null ? Optional.empty() : actor;
        detail = detail == null ? Map.of() : Map.copyOf(detail);
    }
}
