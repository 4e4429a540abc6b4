package io.edgefleet.protocols.topics;

import io.edgefleet.protocols.Checks;
import java.util.List;
import java.util.Objects;

/**
 * What each identity may do at the MQTT broker: the one definition of the broker's rights, used by
 * the Mosquitto configuration generator, the embedded broker's authorizer and the docs. A pure
 * function; any thread.
 *
 * <p>An identity is a certificate's subject common name, which both brokers take as the MQTT user
 * name: {@code fleet/device} for a device, a bare name without a slash for a service. The rights:
 * <table>
 * <caption>broker rights</caption>
 * <tr><th>identity</th><th>publishes</th><th>subscribes</th></tr>
 * <tr><td>device {@code F/D}</td>
 *     <td>{@code ef/v1/F/D/state} (retained; also its will), {@code ef/v1/F/D/telemetry}, {@code ef/v1/F/D/logs},
 *     {@code ef/v1/F/D/cmd/ack}, {@code ef/v1/F/+/infer/+} (requests to agents of its fleet),
 *     {@code ef/replies/F/+/#} (answers to requesters of its fleet)</td>
 *     <td>{@code ef/v1/F/D/cmd}, {@code ef/v1/F/D/infer/+}, {@code ef/replies/F/D/#}</td></tr>
 * <tr><td>{@value #CONTROL}</td><td>{@code ef/v1/+/+/cmd}</td>
 *     <td>{@code ef/v1/+/+/state}, {@code ef/v1/+/+/cmd/ack} (also shared: {@code $share/{group}/...}), {@code ef/v1/+/+/logs}</td></tr>
 * <tr><td>{@value #INGEST}</td><td>nothing</td>
 *     <td>{@code ef/v1/+/+/telemetry}, also shared: {@code $share/{group}/ef/v1/+/+/telemetry}</td></tr>
 * <tr><td>anyone else</td><td>nothing</td><td>nothing</td></tr>
 * </table>
 *
 * <p>Matching follows MQTT 5.0 section 4.7: a publish is allowed when its topic (no wildcards) matches
 * one of the identity's publish filters; a subscription is allowed when every topic its filter can
 * match is matched by one granted filter (so {@code #}, {@code ef/v1/+/+/cmd} or {@code ef/v1/F/+/cmd}
 * asked by a device are refused, while the exact granted filter or a narrower one is allowed).
 * Topics and filters starting with {@code $} ({@code $SYS}, {@code $CONTROL}) are never granted; the
 * only {@code $share/{group}/} subscriptions allowed are the ingest service's (telemetry) and the control service's (states and acks). A malformed topic or
 * filter is refused, never an error.
 */
public final class TopicRights {
    /** The control plane's command and state service. */
    public static final String CONTROL = "cloud-control";
    /** The control plane's telemetry ingest service (may use shared subscriptions). */
    public static final String INGEST = "cloud-ingest";

    private static final String SHARE = "$share/";

    /** What a client asks the broker for. */
    public enum Action {
        /** Sending a PUBLISH (including a will or a retained message) to a concrete topic. */
        PUBLISH,
        /** Subscribing with a topic filter (wildcards allowed). */
        SUBSCRIBE
    }

    /**
     * One granted filter.
     *
     * @param action publish or subscribe
     * @param filter an MQTT topic filter, without a {@code $share/} prefix
     * @param shared for a subscription, whether it may also be asked as {@code $share/{group}/filter}
     */
    public record Rule(Action action, String filter, boolean shared) {
        public Rule {
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(filter, "filter");
        }
    }

    private TopicRights() {
    }

    /**
     * Every filter granted to {@code identity}, in a stable order (publishes first); empty for an
     * identity that has no rights (an unknown service, a malformed name).
     *
     * @param identity a certificate common name: {@code fleet/device} or a service name
     */
    public static List<Rule> rules(String identity) {
        if (identity == null) {
            return List.of();
        }
        int slash = identity.indexOf('/');
        if (slash >= 0) {
            String fleet = identity.substring(0, slash);
            String device = identity.substring(slash + 1);
            if (!Checks.ID.matcher(fleet).matches() || !Checks.ID.matcher(device).matches()) {
                return List.of();
            }
            ReplySpace own = new ReplySpace(fleet, device);
            return List.of(
                    pub(Topic.state(fleet, device).value()),
                    pub(Topic.telemetry(fleet, device).value()),
                    pub(Topic.logs(fleet, device).value()),
                    pub(Topic.commandAck(fleet, device).value()),
                    pub(Topic.ROOT + "/" + fleet + "/+/infer/+"),
                    pub(ReplySpace.fleetFilter(fleet)),
                    sub(Topic.command(fleet, device).value()),
                    sub(Topic.inferFilter(fleet, device)),
                    sub(own.filter()));
        }
        return switch (identity) {
            case CONTROL -> List.of(
                    pub(Topic.filterAll(TopicKind.COMMAND)),
                    // shared too: replicas on one database split the states and acks (docs/control-plane.md "Replicas")
                    new Rule(Action.SUBSCRIBE, Topic.filterAll(TopicKind.STATE), true),
                    new Rule(Action.SUBSCRIBE, Topic.filterAll(TopicKind.COMMAND_ACK), true),
                    sub(Topic.filterAll(TopicKind.LOGS)));
            case INGEST -> List.of(new Rule(Action.SUBSCRIBE, Topic.filterAll(TopicKind.TELEMETRY), true));
            default -> List.of();
        };
    }

    /**
     * Whether {@code identity} may {@code action} on {@code topic}: a concrete topic for
     * {@link Action#PUBLISH}, a topic filter (possibly {@code $share/{group}/...}) for
     * {@link Action#SUBSCRIBE}.
     */
    public static boolean allows(String identity, Action action, String topic) {
        Objects.requireNonNull(action, "action");
        if (topic == null || topic.isEmpty() || topic.indexOf('\0') >= 0) {
            return false;
        }
        List<Rule> rules = rules(identity);
        if (action == Action.PUBLISH) {
            if (topic.startsWith("$") || topic.contains("+") || topic.contains("#")) {
                return false;
            }
            return rules.stream().anyMatch(r -> r.action() == Action.PUBLISH && matches(r.filter(), topic));
        }
        boolean shared = false;
        String filter = topic;
        if (topic.startsWith(SHARE)) {
            int end = topic.indexOf('/', SHARE.length());
            String group = end < 0 ? "" : topic.substring(SHARE.length(), end);
            if (!Checks.ID.matcher(group).matches()) {
                return false;
            }
            shared = true;
            filter = topic.substring(end + 1);
        }
        if (filter.startsWith("$") || !validFilter(filter)) {
            return false;
        }
        for (Rule r : rules) {
            if (r.action() == Action.SUBSCRIBE && (!shared || r.shared()) && covers(r.filter(), filter)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the concrete {@code topic} matches {@code filter} (MQTT 5.0 section 4.7). */
    static boolean matches(String filter, String topic) {
        String[] f = filter.split("/", -1);
        String[] t = topic.split("/", -1);
        for (int i = 0; i < f.length; i++) {
            if (f[i].equals("#")) {
                return true; // also matches the parent level: a/# matches a
            }
            if (i >= t.length || !(f[i].equals("+") || f[i].equals(t[i]))) {
                return false;
            }
        }
        return f.length == t.length;
    }

    /** Whether every topic {@code asked} can match is matched by {@code granted}. */
    static boolean covers(String granted, String asked) {
        String[] g = granted.split("/", -1);
        String[] a = asked.split("/", -1);
        for (int i = 0; i < g.length; i++) {
            if (g[i].equals("#")) {
                return true;
            }
            if (i >= a.length) {
                return false;
            }
            if (a[i].equals("#")) {
                return false; // a multi-level wildcard asked where the grant has a fixed depth
            }
            if (!(g[i].equals("+") || (!a[i].equals("+") && g[i].equals(a[i])))) {
                return false;
            }
        }
        return g.length == a.length;
    }

    private static boolean validFilter(String filter) {
        String[] s = filter.split("/", -1);
        for (int i = 0; i < s.length; i++) {
            String level = s[i];
            if (level.equals("#")) {
                if (i != s.length - 1) {
                    return false;
                }
            } else if (!level.equals("+") && (level.contains("+") || level.contains("#"))) {
                return false;
            }
        }
        return true;
    }

    private static Rule pub(String filter) {
        return new Rule(Action.PUBLISH, filter, false);
    }

    private static Rule sub(String filter) {
        return new Rule(Action.SUBSCRIBE, filter, false);
    }
}
