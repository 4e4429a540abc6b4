package io.edgefleet.protocols.messages;

import com.fasterxml.jackson.annotation.JsonValue;

/** How a model slot on an agent is doing. Wire names never change. */
public enum ModelHealth {
    HEALTHY("healthy"),
    DEGRADED("degraded"),
    FAILING("failing"),
    UNKNOWN("unknown");

    private final String wire;

    ModelHealth(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }
}
