package io.edgefleet.protocols.messages;

/** An EdgeFleet wire message: versioned, immutable, validated when built. */
public sealed interface Message permits DeviceState, TelemetryBatch, Command, CommandAck {
    /** The schema version the message was written with. */
    int schemaVersion();
}
