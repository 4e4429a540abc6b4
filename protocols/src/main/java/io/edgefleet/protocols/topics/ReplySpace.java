package io.edgefleet.protocols.topics;

import io.edgefleet.protocols.Checks;
import java.util.Optional;

/**
 * The reply space of one requester: the only topics an agent answers MQTT inference requests on
 * (the MQTT 5 Response Topic, MQTT 5.0 section 4.10), {@code ef/replies/{fleet}/{device}[/...]}.
 *
 * <p>A requester (a device of the fleet, named {@code fleet/device} by its certificate) subscribes
 * to its own space only; the broker's rules let the agents of a fleet publish into the spaces of
 * that fleet and nowhere else. So a request cannot point the answer at a command topic or at
 * another fleet, and no requester reads another's answers. The space sits outside {@code ef/v1/}
 * so no fleet or device id can make a reply topic look like a device topic.
 *
 * @param fleet the requester's fleet ({@link Checks#ID})
 * @param device the requester's device id ({@link Checks#ID})
 */
public record ReplySpace(String fleet, String device) {
    /** The root of every reply space. */
    public static final String ROOT = "ef/replies";

    public ReplySpace {
        Checks.id(fleet, "fleet");
        Checks.id(device, "device");
    }

    /** {@code ef/replies/{fleet}/{device}}: the space's own topic, also the prefix of its sub-topics. */
    public String topic() {
        return ROOT + "/" + fleet + "/" + device;
    }

    /** {@code ef/replies/{fleet}/{device}/#}: what the requester subscribes to. */
    public String filter() {
        return topic() + "/#";
    }

    /** {@code ef/replies/{fleet}/+/#}: what the agents of {@code fleet} may publish to. */
    public static String fleetFilter(String fleet) {
        Checks.id(fleet, "fleet");
        return ROOT + "/" + fleet + "/+/#";
    }

    /**
     * The reply space {@code responseTopic} lies in, if it is a concrete topic inside one: the root,
     * two valid ids, then any further non-empty segments without wildcards.
     */
    public static Optional<ReplySpace> of(String responseTopic) {
        if (responseTopic == null || !responseTopic.startsWith(ROOT + "/") || responseTopic.contains("+")
                || responseTopic.contains("#")) {
            return Optional.empty();
        }
        String[] s = responseTopic.substring(ROOT.length() + 1).split("/", -1);
        if (s.length < 2 || !Checks.ID.matcher(s[0]).matches() || !Checks.ID.matcher(s[1]).matches()) {
            return Optional.empty();
        }
        for (int i = 2; i < s.length; i++) {
            if (s[i].isEmpty()) {
                return Optional.empty();
            }
        }
        return Optional.of(new ReplySpace(s[0], s[1]));
    }
}
