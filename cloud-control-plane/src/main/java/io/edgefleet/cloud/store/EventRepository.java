package io.edgefleet.cloud.store;

import com.fasterxml.jackson.core.type.TypeReference;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** The event log: stored first, then handed to listeners (the Kafka events producer). */
public final class EventRepository {
    private static final System.Logger LOG = System.getLogger(EventRepository.class.getName());

    private final CloudStore store;
    private final Clock clock;
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();

    public EventRepository(CloudStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    public void listen(Consumer<Event> l) {
        listeners.add(l);
    }

    public Event record(String kind, String subject, String actor, Map<String, ?> detail) {
        Instant at = clock.instant();
        Map<String, Object> d = Map.copyOf(detail);
        long id = store.tx(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO events (at, kind, subject, actor, detail) VALUES (?, ?, ?, ?, ?) RETURNING id")) {
                ResultSet k = Jdbc.bind(p, at, kind, subject, actor, Jdbc.json(d)).executeQuery();
                k.next();
                return k.getLong(1);
            }
        });
        Event e = new Event(id, at, kind, subject, Optional.ofNullable(actor), d);
        for (Consumer<Event> l : listeners) {
            try {
                l.accept(e);
            } catch (RuntimeException ex) {
                LOG.log(System.Logger.Level.WARNING, "event listener failed on {0}: {1}", kind, ex.getMessage());
            }
        }
        return e;
    }

    /** Events, newest first, optionally about one subject (exact) or a subject prefix ending in {@code /}. */
    public List<Event> list(Optional<String> subject, int limit) {
        return store.read(c -> {
            boolean prefix = subject.isPresent() && subject.get().endsWith("/");
            String sql = "SELECT * FROM events" + (subject.isEmpty() ? "" : prefix ? " WHERE substr(subject, 1, ?) = ?" : " WHERE subject = ?")
                    + " ORDER BY id DESC LIMIT ?";
            try (PreparedStatement p = c.prepareStatement(sql)) {
                int i = 1;
                if (prefix) { // "kws/": every subject under it, case-sensitive like the ids (SQLite's LIKE is not)
                    p.setInt(i++, subject.get().length());
                    p.setString(i++, subject.get());
                } else if (subject.isPresent()) {
                    p.setString(i++, subject.get());
                }
                p.setInt(i, limit);
                ResultSet r = p.executeQuery();
                List<Event> out = new ArrayList<>();
                while (r.next()) {
                    out.add(new Event(r.getLong("id"), Instant.ofEpochMilli(r.getLong("at")), r.getString("kind"), r.getString("subject"),
                            Optional.ofNullable(r.getString("actor")),
                            Jdbc.fromJson(r.getString("detail"), new TypeReference<Map<String, Object>>() { })));
                }
                return out;
            }
        });
    }
}
