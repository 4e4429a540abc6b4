package io.edgefleet.protocols.messages;

import com.fasterxml.jackson.annotation.JsonValue;

/** What a command asks of an agent. Wire names never change. */
public enum CommandType {
    /** Fetch and stage a version as candidate; activate it when the command says so. */
    DEPLOY("deploy"),
    /** Make a staged version active. */
    ACTIVATE("activate"),
    /** Go back to the previous version. */
    ROLLBACK("rollback"),
    /** Change settings of a model (escalation policy and the like). */
    CONFIGURE("configure");

    private final String wire;

    CommandType(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }
}
