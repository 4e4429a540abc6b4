package io.edgefleet.protocols.messages;

import com.fasterxml.jackson.annotation.JsonValue;

/** How far an agent got with a command. Wire names never change. */
public enum AckPhase {
    RECEIVED("received", false),
    DOWNLOADING("downloading", false),
    VERIFIED("verified", false),
    ACTIVATED("activated", true),
    FAILED("failed", true),
    ROLLED_BACK("rolled-back", true),
    /** A {@code shadow} command is done: the candidate is loaded next to the active version and runs in shadow (docs/shadow.md). */
    SHADOWING("shadowing", true);

    private final String wire;
    private final boolean terminal;

    AckPhase(String wire, boolean terminal) {
        this.wire = wire;
        this.terminal = terminal;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    /** Whether no further acknowledgement follows for the command. */
    public boolean terminal() {
        return terminal;
    }
}
