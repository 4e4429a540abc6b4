package io.edgefleet.protocols;

/**
 * Bounds that every decoder enforces before it builds anything, so an oversize or deeply
 * nested payload is refused with a {@link ProtocolException} instead of exhausting memory.
 *
 * @param maxMessageBytes the largest encoded message accepted, in bytes
 * @param maxTensorElements the largest number of elements one tensor may declare
 * @param maxNestingDepth the deepest JSON/CBOR nesting accepted
 */
public record DecodeLimits(int maxMessageBytes, long maxTensorElements, int maxNestingDepth) {
    /** 16 MiB messages, 16 Mi elements per tensor, 64 levels of nesting. */
    public static final DecodeLimits DEFAULT = new DecodeLimits(16 * 1024 * 1024, 16L * 1024 * 1024, 64);

    public DecodeLimits {
        if (maxMessageBytes < 1 || maxTensorElements < 1 || maxNestingDepth < 2) {
            throw new IllegalArgumentException("limits must be positive (nesting depth >= 2)");
        }
    }

    public DecodeLimits withMaxMessageBytes(int bytes) {
        return new DecodeLimits(bytes, maxTensorElements, maxNestingDepth);
    }

    public DecodeLimits withMaxTensorElements(long elements) {
        return new DecodeLimits(maxMessageBytes, elements, maxNestingDepth);
    }

    /** Refuses {@code length} bytes when over the message limit. */
    public void checkSize(long length, String what) {
        if (length > maxMessageBytes) {
            throw new ProtocolException("$", what + " is " + length + " bytes, over the limit of "
                    + maxMessageBytes + " bytes");
        }
    }
}
