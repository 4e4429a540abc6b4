package io.edgefleet.engines.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.edgefleet.engines.BoundedPool;
import io.edgefleet.engines.EngineException;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.InferenceFailedException;
import io.edgefleet.engines.InputRules;
import io.edgefleet.engines.InvalidInputException;
import io.edgefleet.engines.LoadStats;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.ModelSignature;
import io.edgefleet.engines.TensorBuffers;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.TensorData;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * A model on ONNX Runtime: one thread-safe session, with {@code poolSize} concurrent calls at
 * most. Every request passes {@link InputRules} before it reaches the session. ONNX Runtime keeps
 * no state between runs (a recurrent model's state is an input and an output), so requests are
 * isolated by construction.
 */
final class OnnxModel implements LoadedModel {
    private static final System.Logger LOG = System.getLogger(OnnxModel.class.getName());
    private final String name;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final OrtSession.SessionOptions options;
    private final ModelSignature signature;
    private final InputRules rules;
    private final BoundedPool<Integer> slots;
    private final Duration acquireTimeout;
    private final LoadStats stats;
    /** Per slot and input, a direct buffer and the ORT tensor over it, reused across calls. */
    private final Feed[][] feeds;
    /** Per slot, the map handed to {@code session.run}: same keys every call. */
    private final List<Map<String, OnnxTensor>> feedMaps;

    /**
     * A direct buffer and the ONNX Runtime tensor that wraps it: ORT reads a direct buffer in place,
     * so refilling the buffer feeds the next call without creating a native tensor again, as long
     * as the shape stays. Owned by one slot: only the thread holding that slot touches it.
     */
    private static final class Feed {
        ByteBuffer buffer;
        OnnxTensor tensor;
        long[] shape;

        void close() {
            if (tensor != null) {
                tensor.close();
                tensor = null;
            }
        }
    }

    OnnxModel(String name, OrtEnvironment env, OrtSession session, OrtSession.SessionOptions options,
            ModelSignature signature, InputRules rules, int poolSize, EngineOptions engineOptions, List<String> providers,
            double loadMillis) {
        this.name = name;
        this.env = env;
        this.session = session;
        this.options = options;
        this.signature = signature;
        this.rules = rules;
        this.slots = new BoundedPool<>(IntStream.range(0, poolSize).boxed().toList(), i -> { }, "model '" + name + "'");
        this.acquireTimeout = engineOptions.acquireTimeout();
        this.feeds = new Feed[poolSize][signature.inputs().size()];
        this.feedMaps = new ArrayList<>(poolSize);
        for (int i = 0; i < poolSize; i++) {
            for (int j = 0; j < signature.inputs().size(); j++) {
                feeds[i][j] = new Feed();
            }
            feedMaps.add(new HashMap<>());
        }
        double first = -1;
        Optional<String> warmUpError = Optional.empty();
        if (engineOptions.warmUp()) {
            long t0 = System.nanoTime();
            try {
                infer(TensorBuffers.zeroInputs(signature.inputs()));
                first = (System.nanoTime() - t0) / 1e6;
            } catch (InferenceFailedException | InvalidInputException e) {
                // For the operator (load stats), so the runtime's own words are kept.
                String why = detail(e);
                warmUpError = Optional.of(why);
                LOG.log(System.Logger.Level.INFO, "model {0}: warm-up on zeros failed, first request pays the setup: {1}", name, why);
            }
        }
        this.stats = new LoadStats(loadMillis, first, poolSize, providers, warmUpError);
    }

    private static String detail(EngineException e) {
        Optional<String> d = e instanceof InvalidInputException i ? i.runtimeDetail()
                : e instanceof InferenceFailedException f ? f.runtimeDetail() : Optional.empty();
        return e.getMessage() + d.map(x -> ": " + x).orElse("");
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
            if (OnnxTypes.javaTypeOf(t.datatype()).isEmpty()) {
                throw new InvalidInputException(InvalidInputException.Rule.DATATYPE, "model '" + name + "' input '" + t.name()
                        + "': ONNX Runtime's Java API cannot pass " + t.datatype());
            }
        }
        return ordered;
    }

    @Override
    public List<InferTensor> infer(List<InferTensor> inputs) {
        return run(check(inputs));
    }

    @Override
    public List<InferTensor> inferChecked(List<InferTensor> checked) {
        return run(checked);
    }

    private List<InferTensor> run(List<InferTensor> ordered) {
        Integer slot = slots.acquire(acquireTimeout);
        try {
            Map<String, OnnxTensor> feed = feedMaps.get(slot);
            for (int i = 0; i < ordered.size(); i++) {
                InferTensor t = ordered.get(i);
                feed.put(t.name(), fill(feeds[slot][i], t));
            }
            try (OrtSession.Result result = session.run(feed)) {
                List<InferTensor> out = new ArrayList<>(signature.outputs().size());
                for (TensorSpec spec : signature.outputs()) {
                    OnnxValue v = result.get(spec.name()).orElseThrow();
                    if (!(v instanceof OnnxTensor ot)) {
                        throw new InferenceFailedException("model '" + name + "' output '" + spec.name() + "' is not a tensor", null);
                    }
                    long[] shape = ot.getInfo().getShape();
                    // getByteBuffer is already a fresh copy in Java memory: adopt it rather than copy it twice more
                    TensorData data = TensorBuffers.adopt(spec.datatype(), shape, ot.getByteBuffer());
                    out.add(new InferTensor(spec.name(), data));
                }
                return out;
            }
        } catch (OrtException e) {
            throw failure(e, ordered);
        } finally {
            slots.release(slot);
        }
    }

    /** Copies the input's bytes into the slot's direct buffer; a new ORT tensor only when the shape changed. */
    private OnnxTensor fill(Feed f, InferTensor t) throws OrtException {
        long[] shape = t.shape();
        ByteBuffer src = t.data().buffer();
        int bytes = src.remaining();
        if (f.tensor == null || !Arrays.equals(f.shape, shape)) {
            f.close();
            if (f.buffer == null || f.buffer.capacity() < bytes) {
                f.buffer = ByteBuffer.allocateDirect(Math.max(bytes, 16)).order(ByteOrder.nativeOrder());
            }
            f.buffer.clear().limit(bytes);
            f.tensor = OnnxTensor.createTensor(env, f.buffer, shape, OnnxTypes.javaType(t.datatype()));
            f.shape = shape;
        }
        f.buffer.clear();
        f.buffer.put(src);
        return f.tensor;
    }

    /**
     * Whose fault a failed run is. The graph is fixed once loaded, so a run that fails on inputs
     * which passed {@link InputRules} fails because of those inputs when ONNX Runtime says the
     * argument is invalid or reports a plain failure, and the request chose the size of a dimension
     * the model leaves open beyond the batch ({@link InputRules#requestChoseOpenShape}: the model
     * takes shapes it cannot compute, such as an audio frame of the wrong length; the request
     * picked one). Anything else (inputs of a shape the model declares, an engine, provider or
     * runtime exception) is the model's or the runtime's. Either way the message names the model
     * and the shapes only; ONNX Runtime's text (node names) stays in the exception's detail.
     */
    private EngineException failure(OrtException e, List<InferTensor> ordered) {
        OrtException.OrtErrorCode code = e.getCode();
        boolean refused = (code == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT || code == OrtException.OrtErrorCode.ORT_FAIL)
                && rules.requestChoseOpenShape(ordered);
        if (refused) {
            return new InvalidInputException(InvalidInputException.Rule.REFUSED_BY_RUNTIME, "model '" + name
                    + "' cannot compute inputs of shapes " + InputRules.shapes(ordered)
                    + ": the runtime refused them (the model constrains its inputs beyond its declared shapes)", e);
        }
        return new InferenceFailedException("model '" + name + "': the runtime failed on inputs of shapes "
                + InputRules.shapes(ordered), e);
    }

    @Override
    public void close() {
        slots.close();
        for (Feed[] perSlot : feeds) {
            for (Feed f : perSlot) {
                f.close();
            }
        }
        try {
            session.close();
        } catch (OrtException e) {
            // the session is gone either way; nothing a caller can do
        } finally {
            options.close();
        }
    }
}
