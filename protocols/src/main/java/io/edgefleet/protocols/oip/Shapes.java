package io.edgefleet.protocols.oip;

import io.edgefleet.protocols.ProtocolException;
import java.util.Arrays;

/** Shape arithmetic with overflow and sign checks. */
public final class Shapes {
    private Shapes() {
    }

    /**
     * The number of elements of a concrete shape (no dynamic dims).
     *
     * @throws ProtocolException at {@code path} for a negative dim or a count over {@code maxElements}
     */
    public static long elementCount(long[] shape, long maxElements, String path) {
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = shape[i];
            if (d < 0) {
                throw new ProtocolException(path + "[" + i + "]", "dimension must be >= 0, got " + d);
            }
            if (d != 0 && count > maxElements / d) {
                throw new ProtocolException(path, "shape " + format(shape) + " holds more than "
                        + maxElements + " elements");
            }
            count *= d;
        }
        if (count > maxElements) {
            throw new ProtocolException(path, "shape " + format(shape) + " holds more than " + maxElements + " elements");
        }
        return count;
    }

    /** {@code [1,1960]}, the form used in every error message. */
    public static String format(long[] shape) {
        return Arrays.toString(shape).replace(" ", "");
    }
}
