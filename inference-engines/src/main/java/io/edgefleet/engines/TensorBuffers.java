package io.edgefleet.engines;

import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Moves tensor elements between {@link TensorData} (little-endian) and the direct buffers the
 * native runtimes read and write. Every platform the runtimes ship for is little-endian.
 */
public final class TensorBuffers {
    static {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new ExceptionInInitializerError("EdgeFleet's engines need a little-endian platform");
        }
    }

    private TensorBuffers() {
    }

    /** A direct, native-order buffer holding the elements. */
    public static ByteBuffer direct(TensorData t) {
        byte[] bytes = t.toByteArray();
        ByteBuffer b = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.nativeOrder());
        b.put(bytes).rewind();
        return b;
    }

    /** Zeros of {@code type} with a concrete {@code shape}: the warm-up input. */
    public static TensorData zeros(DataType type, long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return TensorData.ofRaw(type, shape, new byte[Math.toIntExact(n * type.elementBytes())]);
    }

    /** Zeros for every input of a signature, dynamic dimensions as 1: the warm-up and benchmark input. */
    public static java.util.List<io.edgefleet.protocols.oip.InferTensor> zeroInputs(
            java.util.List<io.edgefleet.protocols.manifest.TensorSpec> specs) {
        java.util.List<io.edgefleet.protocols.oip.InferTensor> out = new java.util.ArrayList<>();
        for (io.edgefleet.protocols.manifest.TensorSpec s : specs) {
            long[] shape = s.shape().stream().mapToLong(d -> d < 0 ? 1 : d).toArray();
            out.add(new io.edgefleet.protocols.oip.InferTensor(s.name(), zeros(s.datatype(), shape)));
        }
        return out;
    }

    /**
     * The remaining bytes of {@code b} as a tensor, taking over {@code b}'s array when it is a heap
     * buffer whose array holds exactly those bytes (a fresh copy nobody else holds, such as ONNX
     * Runtime's {@code OnnxTensor.getByteBuffer()}); the caller must not use {@code b} after.
     */
    public static TensorData adopt(DataType type, long[] shape, ByteBuffer b) {
        if (b.hasArray() && b.arrayOffset() == 0 && b.position() == 0 && b.remaining() == b.array().length) {
            return TensorData.adoptRaw(type, shape, b.array());
        }
        return read(type, shape, b);
    }

    /** The remaining bytes of {@code b} as a tensor. */
    public static TensorData read(DataType type, long[] shape, ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        d.rewind();
        byte[] bytes = new byte[d.remaining()];
        d.get(bytes);
        return TensorData.ofRaw(type, shape, bytes);
    }
}
