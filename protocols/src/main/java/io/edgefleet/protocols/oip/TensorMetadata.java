package io.edgefleet.protocols.oip;

import io.edgefleet.protocols.ProtocolException;
import java.util.Objects;

/**
 * A model input or output as the metadata endpoint describes it. A dimension of {@code -1}
 * is variable-size (dynamic).
 */
public record TensorMetadata(String name, DataType datatype, long[] shape) {
    public TensorMetadata {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(datatype, "datatype");
        shape = shape.clone();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < -1) {
                throw new ProtocolException("shape[" + i + "]", "dimension must be >= -1, got " + shape[i]);
            }
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Whether a concrete shape fits this one (same rank; equal dims where this one is not -1). */
    public boolean accepts(long[] concrete) {
        if (concrete.length != shape.length) {
            return false;
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] != -1 && shape[i] != concrete[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorMetadata t && t.name.equals(name) && t.datatype == datatype
                && java.util.Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, datatype, java.util.Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + ":" + datatype + Shapes.format(shape);
    }
}
