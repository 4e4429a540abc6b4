package io.edgefleet.protocols.topics;

import java.util.Optional;

/** The leaf of an EdgeFleet topic: what the message on it is. Wire names never change. */
public enum TopicKind {
    /** agent → cloud, retained, last will marks offline; QoS 1. */
    STATE("state"),
    /** agent → cloud, windowed telemetry batches; QoS 1. */
    TELEMETRY("telemetry"),
    /** cloud → agent, commands; QoS 1. */
    COMMAND("cmd"),
    /** agent → cloud, command acknowledgements; QoS 1. */
    COMMAND_ACK("cmd/ack"),
    /** agent → cloud, the agent's WARN and ERROR log records (central logs); QoS 1. */
    LOGS("logs"),
    /** device → agent, inference requests for one model; QoS 1, answered on the MQTT 5 response topic. */
    INFER("infer");

    private final String wire;

    TopicKind(String wire) {
        this.wire = wire;
    }

    /** The topic suffix as it appears on the wire, e.g. {@code cmd/ack}. */
    public String wire() {
        return wire;
    }

    static Optional<TopicKind> fromWire(String wire) {
        for (TopicKind k : values()) {
            if (k.wire.equals(wire)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }
}
