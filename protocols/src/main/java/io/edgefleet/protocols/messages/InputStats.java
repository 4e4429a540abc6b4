package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.ProtocolException;

/** Statistics of one input tensor's elements over a window, for drift detection. */
public record InputStats(double mean, double std, double min, double max) {
    public InputStats {
        if (!Double.isFinite(mean) || !Double.isFinite(std) || !Double.isFinite(min) || !Double.isFinite(max)) {
            throw new ProtocolException("mean", "input statistics must be finite numbers");
        }
        if (std < 0) {
            throw new ProtocolException("std", "must be >= 0, got " + std);
        }
        if (min > max) {
            throw new ProtocolException("min", "min " + min + " is above max " + max);
        }
    }
}
