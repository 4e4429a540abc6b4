package io.edgefleet.protocols.manifest;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import io.edgefleet.protocols.ProtocolException;

/** Numeric precision a model variant computes in. Wire names never change. */
public enum Precision {
    INT8("int8"),
    UINT8("uint8"),
    FP16("fp16"),
    BF16("bf16"),
    FP32("fp32");

    private final String wire;

    Precision(String wire) {
        this.wire = wire;
    }

    @JsonValue
    public String wire() {
        return wire;
    }

    /** Parses a wire name; the error path is {@code $}, to be prefixed by the caller's location. */
    @JsonCreator
    public static Precision fromWire(String wire) {
        for (Precision p : values()) {
            if (p.wire.equals(wire)) {
                return p;
            }
        }
        throw new ProtocolException("$", "'" + wire + "' is not one of int8, uint8, fp16, bf16, fp32");
    }
}
