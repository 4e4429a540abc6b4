package io.edgefleet.engines.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.edgefleet.engines.BoundedPool;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.InferenceFailedException;
import io.edgefleet.engines.InvalidInputException;
import io.edgefleet.engines.LoadStats;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.ModelSignature;
import io.edgefleet.engines.SignatureCheck;
import io.edgefleet.engines.TensorBuffers;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/** A model on ONNX Runtime: one thread-safe session, with {@code poolSize} concurrent calls at most. */
final class OnnxModel implements LoadedModel {
    private static final System.Logger LOG = System.getLogger(OnnxModel.class.getName());
    private final String name;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final OrtSession.SessionOptions options;
    private final ModelSignature signature;
    private final BoundedPool<Integer> slots;
    private final Duration acquireTimeout;
    private final LoadStats stats;
    /** Per slot and input, a direct buffer reused across calls (ORT reads it in place, without a copy). */
    private final java.nio.ByteBuffer[][] buffers;

    OnnxModel(String name, OrtEnvironment env, OrtSession session, OrtSession.SessionOptions options,
            ModelSignature signature, int poolSize, EngineOptions engineOptions, List<String> providers, double loadMillis) {
        this.name = name;
        this.env = env;
        this.session = session;
        this.options = options;
        this.signature = signature;
        this.slots = new BoundedPool<>(IntStream.range(0, poolSize).boxed().toList(), i -> { }, "model '" + name + "'");
        this.acquireTimeout = engineOptions.acquireTimeout();
        this.buffers = new java.nio.ByteBuffer[poolSize][signature.inputs().size()];
        double first = -1;
        java.util.Optional<String> warmUpError = java.util.Optional.empty();
        if (engineOptions.warmUp()) {
            long t0 = System.nanoTime();
            try {
                infer(TensorBuffers.zeroInputs(signature.inputs()));
                first = (System.nanoTime() - t0) / 1e6;
            } catch (InferenceFailedException e) {
                warmUpError = java.util.Optional.of(e.getMessage());
                LOG.log(System.Logger.Level.INFO, "model {0}: warm-up on zeros failed, first request pays the setup: {1}",
                        name, e.getMessage());
            }
        }
        this.stats = new LoadStats(loadMillis, first, poolSize, providers, warmUpError);
    }

    @Override
    public ModelSignature signature() {
        return signature;
    }

    @Override
    public LoadStats stats() {
        return stats;
    }

    @Override
    public List<InferTensor> infer(List<InferTensor> inputs) {
        List<InferTensor> ordered = SignatureCheck.ordered(name, signature, inputs);
        Map<String, OnnxTensor> feed = new HashMap<>();
        Integer slot = slots.acquire(acquireTimeout);
        try {
            for (int i = 0; i < ordered.size(); i++) {
                InferTensor t = ordered.get(i);
                OnnxJavaType jt = OnnxTypes.javaTypeOf(t.datatype()).orElseThrow(() -> new InvalidInputException(
                        "model '" + name + "' input '" + t.name() + "': ONNX Runtime's Java API cannot pass " + t.datatype()));
                java.nio.ByteBuffer b = buffers[slot][i];
                int bytes = (int) t.data().byteSize();
                if (b == null || b.capacity() < bytes) {
                    b = java.nio.ByteBuffer.allocateDirect(Math.max(bytes, 16)).order(java.nio.ByteOrder.nativeOrder());
                    buffers[slot][i] = b;
                }
                b.clear();
                b.put(t.data().buffer());
                b.flip();
                feed.put(t.name(), OnnxTensor.createTensor(env, b, t.shape(), jt));
            }
            try (OrtSession.Result result = session.run(feed)) {
                List<InferTensor> out = new ArrayList<>();
                for (TensorSpec spec : signature.outputs()) {
                    OnnxValue v = result.get(spec.name()).orElseThrow();
                    if (!(v instanceof OnnxTensor ot)) {
                        throw new InferenceFailedException("model '" + name + "' output '" + spec.name() + "' is not a tensor", null);
                    }
                    long[] shape = ot.getInfo().getShape();
                    TensorData data = TensorBuffers.read(spec.datatype(), shape, ot.getByteBuffer());
                    out.add(new InferTensor(spec.name(), data));
                }
                return out;
            }
        } catch (OrtException e) {
            throw new InferenceFailedException("model '" + name + "': onnxruntime failed: " + e.getMessage(), e);
        } finally {
            feed.values().forEach(OnnxTensor::close);
            slots.release(slot);
        }
    }

    @Override
    public void close() {
        slots.close();
        try {
            session.close();
        } catch (OrtException e) {
            // the session is gone either way; nothing a caller can do
        } finally {
            options.close();
        }
    }
}
