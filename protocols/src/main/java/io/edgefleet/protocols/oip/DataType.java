package io.edgefleet.protocols.oip;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;

/**
 * Tensor element types of the Open Inference Protocol v2, with their wire names. BF16 is
 * Triton's addition; the other thirteen are the KServe v2 list.
 */
public enum DataType {
    BOOL(1),
    UINT8(1),
    UINT16(2),
    UINT32(4),
    UINT64(8),
    INT8(1),
    INT16(2),
    INT32(4),
    INT64(8),
    FP16(2),
    BF16(2),
    FP32(4),
    FP64(8),
    /** Variable-length byte strings; in the binary extension each element is a 4-byte little-endian length then the bytes. */
    BYTES(-1);

    private final int elementBytes;

    DataType(int elementBytes) {
        this.elementBytes = elementBytes;
    }

    /** Bytes per element, or -1 for {@link #BYTES}. */
    public int elementBytes() {
        return elementBytes;
    }

    /** The name on the wire, e.g. {@code FP32}. */
    public String wire() {
        return name();
    }

    public boolean isFloatingPoint() {
        return this == FP16 || this == BF16 || this == FP32 || this == FP64;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64 -> true;
            default -> false;
        };
    }

    /** Jackson's entry point: the error path is {@code $}, prefixed with the field's location by the decoder. */
    @com.fasterxml.jackson.annotation.JsonCreator
    static DataType fromJson(String wire) {
        return fromWire(wire, "$");
    }

    @com.fasterxml.jackson.annotation.JsonValue
    String toJson() {
        return name();
    }

    /**
     * Parses a wire name; names are case-sensitive, as the protocol says.
     *
     * @throws ProtocolException at {@code path} when the name is not a v2 data type
     */
    public static DataType fromWire(String wire, String path) {
        if (wire != null) {
            for (DataType t : values()) {
                if (t.name().equals(wire)) {
                    return t;
                }
            }
        }
        throw new ProtocolException(path, "'" + (wire == null ? "null" : Checks.printable(wire))
                + "' is not a v2 datatype (BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, "
                + "FP16, BF16, FP32, FP64, BYTES)");
    }
}
