package io.edgefleet.protocols.manifest;

import io.edgefleet.protocols.ProtocolException;

/** Affine quantization of an int8/uint8 tensor: {@code real = scale * (q - zeroPoint)}. */
public record Quantization(double scale, long zeroPoint) {
    public Quantization {
        if (!Double.isFinite(scale) || scale <= 0) {
            throw new ProtocolException("scale", "must be a finite number > 0, got " + scale);
        }
    }
}
