package io.edgefleet.cloud.fleet;

import io.edgefleet.protocols.messages.ModelState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the fleet registry knows about one device.
 *
 * @param online what the device last said (its retained state, or its last will: false)
 * @param stateAt when the registry received the device's last state message
 * @param statusChangedAt when {@code online} last flipped
 * @param lastSeen the last time anything arrived from the device (state or telemetry)
 * @param registeredAt first state, or pre-registration
 * @param enrolledAt when the device last received a certificate through enrolment (empty: never enrolled)
 * @param runtimes which model runtimes load on the device, with the reason for those that do not, from its last
 *     online state; empty until an agent that reports them (issue 16) has connected
 * @param resources what the device's agent last reported using (CPU, memory, disk), with its telemetry; empty until an
 *     agent that reports them (issue 17) has sent a batch
 * @param resourcesAt when the agent measured {@code resources} (its batch's {@code sentAt})
 */
public record DeviceRecord(String fleet, String device, Optional<String> profile, Optional<String> agentVersion, List<String> tags,
        List<ModelState> models, boolean online, Optional<Instant> stateAt, Optional<Instant> statusChangedAt, Optional<Instant> lastSeen,
        Instant registeredAt, Optional<Instant> enrolledAt, List<io.edgefleet.protocols.messages.RuntimeReport> runtimes,
        Optional<io.edgefleet.protocols.messages.ResourceUsage> resources, Optional<Instant> resourcesAt) {
    public DeviceRecord {
        resources = resources == null ? Optional.empty() : resources;
        resourcesAt = resourcesAt == null ? Optional.empty() : resourcesAt;
        tags = List.copyOf(tags);
        models = List.copyOf(models);
        runtimes = runtimes == null ? List.of() : List.copyOf(runtimes);
    }

    /** {@code registered} (never heard from), {@code online}, {@code offline} (said so, or its will did), {@code stale} (silent too long). */
    public enum Status {
        REGISTERED, ONLINE, OFFLINE, STALE;

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * The truthful status at {@code now}: a device that said it was online but has not been heard
     * from for longer than {@code staleAfter} is {@code stale}, never {@code online}.
     */
    public Status status(Instant now, Duration staleAfter) {
        if (lastSeen.isEmpty()) {
            return Status.REGISTERED;
        }
        if (!online) {
            return Status.OFFLINE;
        }
        return lastSeen.get().plus(staleAfter).isBefore(now) ? Status.STALE : Status.ONLINE;
    }

    /** Since when the status holds: for stale, the moment it crossed the threshold. */
    public Optional<Instant> statusSince(Instant now, Duration staleAfter) {
        return switch (status(now, staleAfter)) {
            case REGISTERED -> Optional.of(registeredAt);
            case STALE -> lastSeen.map(t -> t.plus(staleAfter));
            case ONLINE, OFFLINE -> statusChangedAt.or(() -> stateAt);
        };
    }

    /** The active version of a model on this device. */
    public Optional<String> activeVersion(String model) {
        return models.stream().filter(m -> m.model().equals(model)).findFirst().flatMap(ModelState::active);
    }

    public String key() {
        return fleet + "/" + device;
    }
}
