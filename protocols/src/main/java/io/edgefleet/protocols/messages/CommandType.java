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
    CONFIGURE("configure"),
    /**
     * Fetch and verify a version and load it as the model's <em>shadow</em> next to the active version: it runs on a
     * sampled share of live requests off the answer path and never answers (docs/shadow.md). Older agents refuse it
     * as an unknown type.
     */
    SHADOW("shadow");

    private final String wire;

    CommandType(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }
}
