package io.edgefleet.cloud.fleet;

import io.edgefleet.cloud.store.DeviceRepository;
import io.edgefleet.cloud.store.EventRepository;
import io.edgefleet.protocols.messages.DeviceState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fleet registry: devices appear on their first retained {@code state} message (or when pre-
 * registered with tags), go {@code offline} when their last will (or a clean goodbye) arrives, and
 * read {@code stale} once nothing has arrived from them for {@code staleAfter}: a status is never
 * more optimistic than the evidence. Agents republish their state every heartbeat, so a quiet but
 * healthy device stays online. Transitions are recorded as events ({@code device.registered},
 * {@code device.online}, {@code device.offline}, {@code device.stale}).
 */
public final class FleetRegistry {
    private final DeviceRepository repo;
    private final EventRepository events;
    private final Clock clock;
    private final Duration staleAfter;
    private final Set<String> stale = ConcurrentHashMap.newKeySet();

    public FleetRegistry(DeviceRepository repo, EventRepository events, Duration staleAfter, Clock clock) {
        this.repo = repo;
        this.events = events;
        this.staleAfter = staleAfter;
        this.clock = clock;
    }

    public Duration staleAfter() {
        return staleAfter;
    }

    public Instant now() {
        return clock.instant();
    }

    /** Applies a device's state message. */
    public DeviceRecord onState(DeviceState s) {
        DeviceRepository.StateChange c = repo.applyState(s, clock.instant());
        String key = s.fleet() + "/" + s.device();
        if (c.isNew()) {
            events.record("device.registered", key, null, Map.of("profile", s.profile(), "online", s.online()));
        }
        if (c.online() && stale.remove(key) && c.wasOnline()) {
            events.record("device.online", key, null, Map.of("after", "stale"));
        } else if (c.online() != c.wasOnline() && !c.isNew()) {
            events.record(c.online() ? "device.online" : "device.offline", key, null, Map.of());
        }
        if (!c.online()) {
            stale.remove(key);
        }
        return c.now();
    }

    /**
     * Applies many state messages in one transaction ({@link DeviceRepository#applyStates}), then records their events
     * as {@link #onState} does, each device's in its order. Any thread; blocks for the database.
     *
     * @return how many states were applied
     */
    public int onStates(List<DeviceState> states) {
        List<DeviceRepository.Applied> applied = repo.applyStates(states, clock.instant());
        for (DeviceRepository.Applied c : applied) {
            String key = c.key();
            if (c.isNew()) {
                events.record("device.registered", key, null, Map.of("profile", c.profile(), "online", c.online()));
            }
            if (c.online() && stale.remove(key) && c.wasOnline()) {
                events.record("device.online", key, null, Map.of("after", "stale"));
            } else if (c.online() != c.wasOnline() && !c.isNew()) {
                events.record(c.online() ? "device.online" : "device.offline", key, null, Map.of());
            }
            if (!c.online()) {
                stale.remove(key);
            }
        }
        return applied.size();
    }

    /** Records {@code device.stale} for devices that crossed the threshold since the last sweep. */
    public int sweep() {
        Instant now = clock.instant();
        int n = 0;
        for (DeviceRecord d : repo.list(Optional.empty())) {
            if (d.status(now, staleAfter) == DeviceRecord.Status.STALE && stale.add(d.key())) {
                events.record("device.stale", d.key(), null, Map.of("lastSeen", d.lastSeen().map(Instant::toString).orElse("")));
                n++;
            } else if (d.status(now, staleAfter) == DeviceRecord.Status.ONLINE) {
                stale.remove(d.key());
            }
        }
        return n;
    }

    public DeviceRecord register(String fleet, String device, List<String> tags, Optional<String> profile, String actor) {
        boolean existed = repo.get(fleet, device).isPresent();
        DeviceRecord d = repo.register(fleet, device, tags, profile, clock.instant());
        events.record(existed ? "device.updated" : "device.registered", d.key(), actor, Map.of("tags", tags));
        return d;
    }

    public Optional<DeviceRecord> get(String fleet, String device) {
        return repo.get(fleet, device);
    }

    /** The device's agent RSS in its last kept resource report measured before {@code before} (the memory gate's baseline). */
    public Optional<Long> rssBefore(String fleet, String device, Instant before) {
        return repo.rssBefore(fleet, device, before);
    }

    /** Every device of every fleet, in one read (for callers that judge many devices at once, such as the rollout gates). */
    public List<DeviceRecord> all() {
        return repo.list(Optional.empty());
    }

    public List<DeviceRecord> select(Selector s) {
        Instant now = clock.instant();
        return repo.list(s.fleet()).stream().filter(d -> s.matches(d, now, staleAfter)).toList();
    }
}
