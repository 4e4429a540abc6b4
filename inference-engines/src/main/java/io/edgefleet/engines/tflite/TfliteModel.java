package io.edgefleet.engines.tflite;

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
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.lite.Interpreter;

/** A model on TensorFlow Lite: a pool of interpreters, one call per interpreter at a time. */
final class TfliteModel implements LoadedModel {
    private final String name;
    private final BoundedPool<Interpreter> pool;
    private final ModelSignature signature;
    private final Duration acquireTimeout;
    private final LoadStats stats;

    TfliteModel(String name, List<Interpreter> interpreters, ModelSignature signature, EngineOptions options, double loadMillis) {
        this.name = name;
        this.pool = new BoundedPool<>(interpreters, Interpreter::close, "model '" + name + "'");
        this.signature = signature;
        this.acquireTimeout = options.acquireTimeout();
        double first = -1;
        java.util.Optional<String> warmUpError = java.util.Optional.empty();
        if (options.warmUp()) {
            List<InferTensor> zeros = new ArrayList<>();
            for (TensorSpec s : signature.inputs()) {
                long[] shape = s.shape().stream().mapToLong(d -> d < 0 ? 1 : d).toArray();
                zeros.add(new InferTensor(s.name(), TensorBuffers.zeros(s.datatype(), shape)));
            }
            try {
                for (Interpreter it : interpreters) {
                    long t0 = System.nanoTime();
                    run(it, zeros);
                    if (first < 0) {
                        first = (System.nanoTime() - t0) / 1e6;
                    }
                }
            } catch (InferenceFailedException e) {
                warmUpError = java.util.Optional.of(e.getMessage());
            }
        }
        this.stats = new LoadStats(loadMillis, first, interpreters.size(),
                List.of(options.useXnnpack() ? "XNNPACK" : "CPU"), warmUpError);
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
        for (InferTensor t : ordered) {
            if (t.datatype() == DataType.BYTES) {
                throw new InvalidInputException("model '" + name + "' input '" + t.name() + "': BYTES inputs are not supported");
            }
        }
        Interpreter it = pool.acquire(acquireTimeout);
        try {
            return run(it, ordered);
        } finally {
            pool.release(it);
        }
    }

    private List<InferTensor> run(Interpreter it, List<InferTensor> ordered) {
        try {
            boolean resized = false;
            for (int i = 0; i < ordered.size(); i++) {
                int[] want = Arrays.stream(ordered.get(i).shape()).mapToInt(Math::toIntExact).toArray();
                if (!Arrays.equals(it.getInputTensor(i).shape(), want)) {
                    it.resizeInput(i, want);
                    resized = true;
                }
            }
            if (resized) {
                it.allocateTensors();
            }
            Object[] in = new Object[ordered.size()];
            for (int i = 0; i < in.length; i++) {
                in[i] = TensorBuffers.direct(ordered.get(i).data());
            }
            Map<Integer, Object> out = new HashMap<>();
            for (int i = 0; i < it.getOutputTensorCount(); i++) {
                out.put(i, ByteBuffer.allocateDirect(it.getOutputTensor(i).numBytes()).order(ByteOrder.nativeOrder()));
            }
            it.runForMultipleInputsOutputs(in, out);
            List<InferTensor> result = new ArrayList<>();
            for (int i = 0; i < it.getOutputTensorCount(); i++) {
                TensorSpec spec = signature.outputs().get(i);
                long[] shape = Arrays.stream(it.getOutputTensor(i).shape()).asLongStream().toArray();
                result.add(new InferTensor(spec.name(), TensorBuffers.read(spec.datatype(), shape, (ByteBuffer) out.get(i))));
            }
            return result;
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new InferenceFailedException("model '" + name + "': tflite failed: " + TfliteEngine.runtimeMessage(e.getMessage()), e);
        }
    }

    @Override
    public void close() {
        pool.close();
    }
}
