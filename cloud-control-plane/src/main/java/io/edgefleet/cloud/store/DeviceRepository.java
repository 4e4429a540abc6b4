package io.edgefleet.cloud.store;

import com.fasterxml.jackson.core.type.TypeReference;
import io.edgefleet.cloud.fleet.DeviceRecord;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.ModelState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The fleet registry's rows: one per (fleet, device). */
public final class DeviceRepository {
    private final CloudStore store;

    public DeviceRepository(CloudStore store) {
        this.store = store;
    }

    /** How a state message changed a device. */
    public record StateChange(boolean isNew, boolean wasOnline, boolean online, DeviceRecord now) {
    }

    /**
     * Applies a state message received at {@code at}. An offline state (a last will, registered when
     * the agent connected) flips only the online flag: its model list may predate later activations.
     */
    public StateChange applyState(DeviceState s, Instant at) {
        return store.tx(c -> {
            Optional<DeviceRecord> before = get(c, s.fleet(), s.device());
            boolean wasOnline = before.map(DeviceRecord::online).orElse(false);
            if (before.isEmpty()) {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO devices (fleet, device, profile, agent_version, models, online, "
                        + "state_at, status_changed_at, last_seen, registered_at, runtimes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                    Jdbc.bind(p, s.fleet(), s.device(), s.profile(), s.agentVersion(), Jdbc.json(s.models()), s.online(), at, at, at, at,
                            Jdbc.json(s.runtimes())).executeUpdate();
                }
            } else if (s.online()) {
                try (PreparedStatement p = c.prepareStatement("UPDATE devices SET profile = ?, agent_version = ?, models = ?, online = 1, "
                        + "state_at = ?, status_changed_at = CASE WHEN online = 0 THEN ? ELSE status_changed_at END, "
                        + "last_seen = CASE WHEN last_seen > ? THEN last_seen ELSE ? END, runtimes = ? WHERE fleet = ? AND device = ?")) {
                    Jdbc.bind(p, s.profile(), s.agentVersion(), Jdbc.json(s.models()), at, at, at, at, Jdbc.json(s.runtimes()), s.fleet(), s.device())
                            .executeUpdate();
                }
            } else {
                try (PreparedStatement p = c.prepareStatement("UPDATE devices SET online = 0, state_at = ?, "
                        + "status_changed_at = CASE WHEN online = 1 THEN ? ELSE status_changed_at END WHERE fleet = ? AND device = ?")) {
                    Jdbc.bind(p, at, at, s.fleet(), s.device()).executeUpdate();
                }
            }
            DeviceRecord now = get(c, s.fleet(), s.device()).orElseThrow();
            return new StateChange(before.isEmpty(), wasOnline, now.online(), now);
        });
    }

    /** What applying one state changed. @param key {@code fleet/device} @param profile the state's device profile */
    public record Applied(String key, String profile, boolean isNew, boolean wasOnline, boolean online) {
    }

    /**
     * Applies many state messages in one transaction, in their order for each device (the control plane's batches of
     * state messages, issue 18). Made of statements that are atomic by themselves or lock the row they read, so it runs
     * at read committed on PostgreSQL: a replica applying another batch at the same time waits for a row both touch
     * instead of failing the whole batch; the devices are visited in key order so two batches never wait on each other
     * in a cycle.
     *
     * @return one entry per state, in the order applied (by key, each device's states in their order)
     */
    public List<Applied> applyStates(List<DeviceState> states, Instant at) {
        if (states.isEmpty()) {
            return List.of();
        }
        List<DeviceState> sorted = new java.util.ArrayList<>(states);
        sorted.sort(java.util.Comparator.comparing((DeviceState s) -> s.fleet()).thenComparing(DeviceState::device)); // stable
        String lock = store.kind() == DatabaseSettings.Kind.POSTGRESQL ? " FOR UPDATE" : "";
        return store.tx(CloudStore.Isolation.READ_COMMITTED, c -> {
            List<Applied> out = new java.util.ArrayList<>(sorted.size());
            try (PreparedStatement insert = c.prepareStatement("INSERT INTO devices (fleet, device, profile, agent_version, models, online, "
                    + "state_at, status_changed_at, last_seen, registered_at, runtimes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    + "ON CONFLICT(fleet, device) DO NOTHING");
                    PreparedStatement read = c.prepareStatement("SELECT online FROM devices WHERE fleet = ? AND device = ?" + lock);
                    PreparedStatement online = c.prepareStatement("UPDATE devices SET profile = ?, agent_version = ?, models = ?, online = 1, "
                            + "state_at = ?, status_changed_at = CASE WHEN online = 0 THEN ? ELSE status_changed_at END, "
                            + "last_seen = CASE WHEN last_seen > ? THEN last_seen ELSE ? END, runtimes = ? WHERE fleet = ? AND device = ?");
                    PreparedStatement offline = c.prepareStatement("UPDATE devices SET online = 0, state_at = ?, "
                            + "status_changed_at = CASE WHEN online = 1 THEN ? ELSE status_changed_at END WHERE fleet = ? AND device = ?")) {
                for (DeviceState s : sorted) {
                    String key = s.fleet() + "/" + s.device();
                    if (Jdbc.bind(insert, s.fleet(), s.device(), s.profile(), s.agentVersion(), Jdbc.json(s.models()), s.online(), at, at, at, at,
                            Jdbc.json(s.runtimes())).executeUpdate() == 1) {
                        out.add(new Applied(key, s.profile(), true, false, s.online()));
                        continue;
                    }
                    boolean wasOnline;
                    try (ResultSet r = Jdbc.bind(read, s.fleet(), s.device()).executeQuery()) {
                        wasOnline = r.next() && r.getInt(1) == 1;
                    }
                    if (s.online()) {
                        Jdbc.bind(online, s.profile(), s.agentVersion(), Jdbc.json(s.models()), at, at, at, at, Jdbc.json(s.runtimes()), s.fleet(),
                                s.device()).executeUpdate();
                    } else {
                        Jdbc.bind(offline, at, at, s.fleet(), s.device()).executeUpdate();
                    }
                    out.add(new Applied(key, s.profile(), false, wasOnline, s.online()));
                }
            }
            return out;
        });
    }

    /**
     * Marks a device as heard from at {@code at} (a telemetry batch), inside the ingest transaction.
     * A device never seen before gets a row (online, profile unknown until its state arrives).
     */
    public static void touch(Connection c, String fleet, String device, Instant at) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO devices (fleet, device, online, status_changed_at, last_seen, registered_at) "
                + "VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT(fleet, device) DO UPDATE SET last_seen = CASE WHEN devices.last_seen > excluded.last_seen "
                + "THEN devices.last_seen ELSE excluded.last_seen END")) {
            Jdbc.bind(p, fleet, device, at, at, at).executeUpdate();
        }
    }

    /** Pre-registers a device (or updates its tags and expected profile); returns the row. */
    public DeviceRecord register(String fleet, String device, List<String> tags, Optional<String> profile, Instant at) {
        return store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO devices (fleet, device, profile, tags, registered_at) VALUES (?, ?, ?, ?, ?) "
                    + "ON CONFLICT(fleet, device) DO UPDATE SET tags = excluded.tags, profile = COALESCE(excluded.profile, devices.profile)")) {
                Jdbc.bind(p, fleet, device, profile, Jdbc.json(tags), at).executeUpdate();
            }
            return get(c, fleet, device).orElseThrow();
        });
    }

    /**
     * Records that {@code fleet/device} enrolled at {@code at} (a row is created for a device not yet
     * registered), inside the caller's transaction; true when the device had no row before.
     */
    public static boolean markEnrolled(Connection c, String fleet, String device, Instant at) throws SQLException {
        boolean isNew = get(c, fleet, device).isEmpty();
        try (PreparedStatement p = c.prepareStatement("INSERT INTO devices (fleet, device, registered_at, enrolled_at) VALUES (?, ?, ?, ?) "
                + "ON CONFLICT(fleet, device) DO UPDATE SET enrolled_at = excluded.enrolled_at")) {
            Jdbc.bind(p, fleet, device, at, at).executeUpdate();
        }
        return isNew;
    }

    public Optional<DeviceRecord> get(String fleet, String device) {
        return store.read(c -> get(c, fleet, device));
    }

    private static Optional<DeviceRecord> get(Connection c, String fleet, String device) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT * FROM devices WHERE fleet = ? AND device = ?")) {
            ResultSet r = Jdbc.bind(p, fleet, device).executeQuery();
            return r.next() ? Optional.of(row(r)) : Optional.empty();
        }
    }

    /** Every device, optionally of one fleet, ordered by fleet and id. */
    public List<DeviceRecord> list(Optional<String> fleet) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM devices" + (fleet.isPresent() ? " WHERE fleet = ?" : "")
                    + " ORDER BY fleet, device")) {
                if (fleet.isPresent()) {
                    p.setString(1, fleet.get());
                }
                ResultSet r = p.executeQuery();
                List<DeviceRecord> out = new ArrayList<>();
                while (r.next()) {
                    out.add(row(r));
                }
                return out;
            }
        });
    }

    private static DeviceRecord row(ResultSet r) throws SQLException {
        return new DeviceRecord(r.getString("fleet"), r.getString("device"), Optional.ofNullable(r.getString("profile")),
                Optional.ofNullable(r.getString("agent_version")),
                Jdbc.fromJson(r.getString("tags"), new TypeReference<List<String>>() { }),
                Jdbc.fromJson(r.getString("models"), new TypeReference<List<ModelState>>() { }),
                r.getInt("online") == 1, Jdbc.instant(r, "state_at"), Jdbc.instant(r, "status_changed_at"), Jdbc.instant(r, "last_seen"),
                Instant.ofEpochMilli(r.getLong("registered_at")), Jdbc.instant(r, "enrolled_at"),
                Jdbc.fromJson(r.getString("runtimes"), new TypeReference<List<io.edgefleet.protocols.messages.RuntimeReport>>() { }),
                Optional.ofNullable(r.getString("resources"))
                        .map(j -> Jdbc.fromJson(j, new TypeReference<io.edgefleet.protocols.messages.ResourceUsage>() { })),
                Jdbc.instant(r, "resources_at"));
    }

    /**
     * Keeps {@code usage} as the device's latest resource use when it was measured at or after the one stored (batches of
     * a device can arrive out of order after a broker outage). Called inside the ingest transaction.
     */
    public static void resources(Connection c, String fleet, String device, io.edgefleet.protocols.messages.ResourceUsage usage,
            Instant measuredAt) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE devices SET resources = ?, resources_at = ? WHERE fleet = ? AND device = ? "
                + "AND (resources_at IS NULL OR resources_at <= ?)")) {
            Jdbc.bind(p, Jdbc.json(usage), measuredAt, fleet, device, measuredAt).executeUpdate();
        }
        if (usage.processRssBytes() > 0) {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO device_resources_history (fleet, device, at, process_rss_bytes) "
                    + "SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM device_resources_history WHERE fleet = ? AND device = ? "
                    + "AND at > ? AND at <= ?) ON CONFLICT DO NOTHING")) {
                Jdbc.bind(p, fleet, device, measuredAt, usage.processRssBytes(), fleet, device,
                        measuredAt.toEpochMilli() - RSS_HISTORY_SPACING_MILLIS, measuredAt).executeUpdate();
            }
        }
    }

    /** The least time between two kept RSS samples of a device (10,000 devices: 2.9 million rows a day). */
    public static final long RSS_HISTORY_SPACING_MILLIS = 300_000;

    /** The device's agent RSS in its last kept report measured before {@code before}. */
    public Optional<Long> rssBefore(String fleet, String device, Instant before) {
        return store.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT process_rss_bytes FROM device_resources_history WHERE fleet = ? "
                    + "AND device = ? AND at < ? ORDER BY at DESC LIMIT 1")) {
                ResultSet r = Jdbc.bind(p, fleet, device, before).executeQuery();
                return r.next() ? Optional.of(r.getLong(1)) : Optional.empty();
            }
        });
    }
}
