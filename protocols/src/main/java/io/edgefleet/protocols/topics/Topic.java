package io.edgefleet.protocols.topics;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import java.util.Objects;
import java.util.Optional;

/**
 * One EdgeFleet MQTT topic, {@code ef/v1/{fleet}/{device}/{kind}[/{model}]}.
 *
 * <p>Fleet, device and model ids are validated against {@link Checks#ID}, so a topic built
 * here never holds an MQTT wildcard ({@code +}, {@code #}), a slash or an empty segment. The
 * subscription filters that the cloud uses (with wildcards) come from the static
 * {@code filter*} methods, never from this record.
 *
 * @param fleet the fleet id
 * @param device the device id
 * @param kind what the message is
 * @param model the model name; present exactly when {@code kind} is {@link TopicKind#INFER}
 */
public record Topic(String fleet, String device, TopicKind kind, Optional<String> model) {
    /** The root of every topic of this protocol version. */
    public static final String ROOT = "ef/v1";

    public Topic {
        Checks.id(fleet, "fleet");
        Checks.id(device, "device");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(model, "model");
        if (kind == TopicKind.INFER) {
            Checks.id(model.orElse(null), "model");
        } else if (model.isPresent()) {
            throw new ProtocolException("model", "only infer topics name a model");
        }
    }

    public static Topic state(String fleet, String device) {
        return new Topic(fleet, device, TopicKind.STATE, Optional.empty());
    }

    public static Topic telemetry(String fleet, String device) {
        return new Topic(fleet, device, TopicKind.TELEMETRY, Optional.empty());
    }

    public static Topic logs(String fleet, String device) {
        return new Topic(fleet, device, TopicKind.LOGS, Optional.empty());
    }

    public static Topic command(String fleet, String device) {
        return new Topic(fleet, device, TopicKind.COMMAND, Optional.empty());
    }

    public static Topic commandAck(String fleet, String device) {
        return new Topic(fleet, device, TopicKind.COMMAND_ACK, Optional.empty());
    }

    public static Topic infer(String fleet, String device, String model) {
        return new Topic(fleet, device, TopicKind.INFER, Optional.of(model));
    }

    /** The topic string, e.g. {@code ef/v1/plant-7/cam-0042/cmd/ack}. */
    public String value() {
        String base = ROOT + "/" + fleet + "/" + device + "/" + kind.wire();
        return model.map(m -> base + "/" + m).orElse(base);
    }

    @Override
    public String toString() {
        return value();
    }

    /**
     * Parses a concrete topic (no wildcards).
     *
     * @throws ProtocolException naming the segment that is wrong
     */
    public static Topic parse(String topic) {
        if (topic == null) {
            throw new ProtocolException("topic", "is required");
        }
        String[] s = topic.split("/", -1);
        if (s.length < 5 || !"ef".equals(s[0]) || !"v1".equals(s[1])) {
            throw new ProtocolException("topic", "'" + Checks.printable(topic)
                    + "' is not an EdgeFleet v1 topic: expected ef/v1/{fleet}/{device}/{kind}");
        }
        String fleet = s[2];
        String device = s[3];
        try {
            return switch (s.length) {
                case 5 -> new Topic(fleet, device, kind(s[4], topic), Optional.empty());
                case 6 -> {
                    if ("cmd".equals(s[4]) && "ack".equals(s[5])) {
                        yield new Topic(fleet, device, TopicKind.COMMAND_ACK, Optional.empty());
                    }
                    if ("infer".equals(s[4])) {
                        yield new Topic(fleet, device, TopicKind.INFER, Optional.of(s[5]));
                    }
                    throw unknownKind(s[4] + "/" + s[5]);
                }
                default -> throw new ProtocolException("topic", "'" + Checks.printable(topic)
                        + "' has " + s.length + " segments; EdgeFleet topics have 5 or 6");
            };
        } catch (ProtocolException e) {
            throw e.path().equals("topic") ? e : e.under("topic");
        }
    }

    private static TopicKind kind(String wire, String topic) {
        if ("infer".equals(wire)) {
            throw new ProtocolException("topic", "'" + Checks.printable(topic) + "' names no model after infer/");
        }
        return TopicKind.fromWire(wire).orElseThrow(() -> unknownKind(wire));
    }

    private static ProtocolException unknownKind(String wire) {
        return new ProtocolException("topic.kind", "'" + Checks.printable(wire)
                + "' is not one of state, telemetry, cmd, cmd/ack, infer/{model}");
    }

    /**
     * A subscription filter for one kind across every fleet and device, e.g.
     * {@code ef/v1/+/+/telemetry}; for {@link TopicKind#INFER}, every model: {@code ef/v1/+/+/infer/+}.
     */
    public static String filterAll(TopicKind kind) {
        return ROOT + "/+/+/" + kind.wire() + (kind == TopicKind.INFER ? "/+" : "");
    }

    /**
     * The MQTT 5 shared-subscription form of {@link #filterAll}, so several consumers in
     * {@code group} split the messages: {@code $share/{group}/ef/v1/+/+/telemetry}.
     */
    public static String sharedFilterAll(String group, TopicKind kind) {
        Checks.id(group, "group");
        return "$share/" + group + "/" + filterAll(kind);
    }

    /** Every inference topic of one device: {@code ef/v1/{fleet}/{device}/infer/+}. */
    public static String inferFilter(String fleet, String device) {
        Checks.id(fleet, "fleet");
        Checks.id(device, "device");
        return ROOT + "/" + fleet + "/" + device + "/infer/+";
    }
}
