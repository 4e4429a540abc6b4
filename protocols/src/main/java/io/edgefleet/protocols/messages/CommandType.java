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
    SHADOW("shadow"),
    /**
     * Start or stop an A/B experiment on the device (docs/ab.md): fetch and verify {@code version} (arm B), load it
     * next to the active version (arm A), and answer a share of the model's requests with it, by share or by a sticky
     * client key; settings {@code experiment}, {@code share}, {@code splitBy} ({@code share} or {@code key}), and
     * {@code stop=true} to return every request to arm A. Older agents refuse it as an unknown type.
     */
    SPLIT("split");

    private final String wire;

    CommandType(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }
}
