package io.edgefleet.agent.health;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Whether the agent's listeners and receivers are alive: each part (HTTP listener, MQTT receiver)
 * registers a check that names its problem, or answers empty while it works. Read by CoAP
 * {@code /health} and by the HTTP liveness check, so that a listener that died turns the health
 * DOWN instead of leaving it UP. Thread-safe; checks are called on the reader's thread and must
 * not block.
 */
public final class ListenerHealth {
    private record Check(String part, Supplier<Optional<String>> problem) {
    }

    private final CopyOnWriteArrayList<Check> checks = new CopyOnWriteArrayList<>();

    /** Registers the check of one part; {@code problem} answers why the part is down, or empty. */
    public void add(String part, Supplier<Optional<String>> problem) {
        checks.add(new Check(part, problem));
    }

    /** Every part that is down now, with its reason, sorted by part; empty when all are up. */
    public Map<String, String> problems() {
        Map<String, String> out = new TreeMap<>();
        for (Check c : checks) {
            c.problem().get().ifPresent(p -> out.put(c.part(), p));
        }
        return out;
    }
}
