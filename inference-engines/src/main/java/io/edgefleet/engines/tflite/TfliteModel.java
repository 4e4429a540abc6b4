package io.edgefleet.engines.tflite;

import io.edgefleet.engines.BoundedPool;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.InferenceFailedException;
import io.edgefleet.engines.InvalidInputException;
import io.edgefleet.engines.LoadStats;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.ModelSignature;
import io.edgefleet.engines.InputRules;
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

/**
 * A model on TensorFlow Lite: a pool of interpreters, one call per interpreter at a time. Every
 * request passes {@link InputRules} before it reaches an interpreter.
 *
 * <p>Requests are isolated: ops such as {@code UNIDIRECTIONAL_SEQUENCE_LSTM}, {@code RNN} and
 * {@code SVDF} keep their activation and cell state in variable tensors that survive an
 * invocation, so without care one client's input would change the next client's answer on the
 * same pooled interpreter. Each invocation therefore starts with
 * {@link Interpreter#resetVariableTensors()}: the variable tensors go back to the values the model
 * file gives them (zeros when it gives none), as on a fresh interpreter.
 */
final class TfliteModel implements LoadedModel {
    /**
     * An interpreter with the shapes it is allocated for and direct buffers reused across calls,
     * so a call costs one copy in and one copy out, not an allocation per tensor.
     */
    private static final class Slot {
        final Interpreter interpreter;
        final int[][] inputShapes;
        final ByteBuffer[] in;
        final ByteBuffer[] out;
        final Map<Integer, Object> outMap = new HashMap<>();

        Slot(Interpreter it) {
            this.interpreter = it;
            this.inputShapes = new int[it.getInputTensorCount()][];
            this.in = new ByteBuffer[inputShapes.length];
            this.out = new ByteBuffer[it.getOutputTensorCount()];
            for (int i = 0; i < inputShapes.length; i++) {
                inputShapes[i] = it.getInputTensor(i).shape();
            }
            resizeBuffers();
        }

        void resizeBuffers() {
            for (int i = 0; i < in.length; i++) {
                in[i] = ensure(in[i], interpreter.getInputTensor(i).numBytes());
            }
            for (int i = 0; i < out.length; i++) {
                out[i] = ensure(out[i], interpreter.getOutputTensor(i).numBytes());
                outMap.put(i, out[i]);
            }
        }

        private static ByteBuffer ensure(ByteBuffer b, int bytes) {
            if (b != null && b.capacity() == bytes) {
                return b;
            }
            return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
        }
    }

    private final String name;
    private final BoundedPool<Slot> pool;
    private final ModelSignature signature;
    private final InputRules rules;
    private final Duration acquireTimeout;
    private final LoadStats stats;

    TfliteModel(String name, List<Interpreter> interpreters, ModelSignature signature, EngineOptions options, double loadMillis) {
        this.name = name;
        this.pool = new BoundedPool<>(interpreters.stream().map(Slot::new).toList(), slot -> slot.interpreter.close(),
                "model '" + name + "'");
        this.signature = signature;
        this.rules = InputRules.unnamed(name, signature, options.maxRequestBytes());
        this.acquireTimeout = options.acquireTimeout();
        double first = -1;
        java.util.Optional<String> warmUpError = java.util.Optional.empty();
        if (options.warmUp()) {
            List<InferTensor> zeros = TensorBuffers.zeroInputs(signature.inputs());
            try {
                for (Slot it : pool.items()) {
                    long t0 = System.nanoTime();
                    run(it, zeros);
                    if (first < 0) {
                        first = (System.nanoTime() - t0) / 1e6;
                    }
                }
            } catch (InferenceFailedException e) {
                warmUpError = java.util.Optional.of(e.getMessage() + e.runtimeDetail().map(d -> ": " + d).orElse(""));
            } catch (InvalidInputException e) {
                warmUpError = java.util.Optional.of(e.getMessage() + e.runtimeDetail().map(d -> ": " + d).orElse(""));
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
    public List<InferTensor> check(List<InferTensor> inputs) {
        List<InferTensor> ordered = rules.check(inputs);
        for (InferTensor t : ordered) {
            if (t.datatype() == DataType.BYTES) {
                throw new InvalidInputException(InvalidInputException.Rule.DATATYPE, "model '" + name + "' input '" + t.name()
                        + "': BYTES inputs are not supported");
            }
        }
        return ordered;
    }

    @Override
    public List<InferTensor> infer(List<InferTensor> inputs) {
        List<InferTensor> ordered = check(inputs);
        Slot slot = pool.acquire(acquireTimeout);
        try {
            return run(slot, ordered);
        } finally {
            pool.release(slot);
        }
    }

    private List<InferTensor> run(Slot slot, List<InferTensor> ordered) {
        Interpreter it = slot.interpreter;
        boolean resized = false;
        try {
            for (int i = 0; i < ordered.size(); i++) {
                long[] shape = ordered.get(i).shape();
                if (!sameShape(slot.inputShapes[i], shape)) {
                    int[] want = Arrays.stream(shape).mapToInt(Math::toIntExact).toArray();
                    it.resizeInput(i, want);
                    slot.inputShapes[i] = want;
                    resized = true;
                }
            }
            if (resized) {
                it.allocateTensors();
                slot.resizeBuffers();
            }
            for (int i = 0; i < ordered.size(); i++) {
                ByteBuffer b = slot.in[i];
                b.clear();
                b.put(ordered.get(i).data().buffer());
                b.rewind();
            }
            for (ByteBuffer b : slot.out) {
                b.clear();
            }
            it.resetVariableTensors();
            it.runForMultipleInputsOutputs(slot.in, slot.outMap);
            List<InferTensor> result = new ArrayList<>(slot.out.length);
            for (int i = 0; i < slot.out.length; i++) {
                TensorSpec spec = signature.outputs().get(i);
                long[] shape = resized || spec.shape().contains(-1L)
                        ? Arrays.stream(it.getOutputTensor(i).shape()).asLongStream().toArray()
                        : spec.shape().stream().mapToLong(Long::longValue).toArray();
                result.add(new InferTensor(spec.name(), TensorBuffers.read(spec.datatype(), shape, slot.out[i])));
            }
            return result;
        } catch (IllegalArgumentException | IllegalStateException e) {
            // The interpreter may be half-resized: the next call on this slot resizes and allocates afresh.
            java.util.Arrays.fill(slot.inputShapes, null);
            throw failure(e, ordered);
        }
    }

    /**
     * Whose fault a failed run is. The graph is fixed once loaded, so when the model leaves an input
     * dimension open beyond the batch (or inputs disagree on an open batch size;
     * {@link InputRules#requestChoseOpenShape}), the request chose its size, and TFLite then refused to resize, allocate or
     * run, the request chose a shape the model cannot compute: the client's (TFLite has no error
     * codes to tell more). A model with only fixed shapes that fails is the model's or the
     * runtime's. The message names the model and the shapes only; TFLite's own text stays in the
     * exception's detail.
     */
    private io.edgefleet.engines.EngineException failure(RuntimeException e, List<InferTensor> ordered) {
        RuntimeException detail = new IllegalStateException(TfliteEngine.runtimeMessage(e.getMessage()), e);
        if (rules.requestChoseOpenShape(ordered)) {
            return new InvalidInputException(InvalidInputException.Rule.REFUSED_BY_RUNTIME, "model '" + name
                    + "' cannot compute inputs of shapes " + InputRules.shapes(ordered)
                    + ": the runtime refused them (the model constrains its inputs beyond its declared shapes)", detail);
        }
        return new InferenceFailedException("model '" + name + "': the runtime failed on inputs of shapes "
                + InputRules.shapes(ordered), detail);
    }

    private static boolean sameShape(int[] have, long[] want) {
        if (have == null || have.length != want.length) {
            return false;
        }
        for (int i = 0; i < have.length; i++) {
            if (have[i] != want[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        pool.close();
    }
}
