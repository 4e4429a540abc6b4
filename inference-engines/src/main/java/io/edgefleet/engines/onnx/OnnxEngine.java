package io.edgefleet.engines.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.InferenceEngine;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.ModelFiles;
import io.edgefleet.engines.ModelLoadException;
import io.edgefleet.engines.ModelSignature;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.DataType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * ONNX Runtime through its Java API. One {@link OrtSession} per loaded model (ORT sessions run
 * concurrently), with the pool bounding how many calls run at once.
 */
public final class OnnxEngine implements InferenceEngine {
    private static final System.Logger LOG = System.getLogger(OnnxEngine.class.getName());

    @Override
    public String runtime() {
        return "onnxruntime";
    }

    @Override
    public String version() {
        return env().getVersion();
    }

    static OrtEnvironment env() {
        try {
            return OrtEnvironment.getEnvironment();
        } catch (LinkageError | RuntimeException e) {
            throw new ModelLoadException("(none)", "ONNX Runtime native library does not load on "
                    + io.edgefleet.profiles.probe.NativeLibraryUnavailableException.platform() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public ModelSignature inspect(Path file) {
        ModelFiles.detectRuntime(file);
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions();
                OrtSession s = env().createSession(file.toString(), o)) {
            return signature(s);
        } catch (OrtException e) {
            throw new ModelLoadException(file.toString(), e.getMessage(), e);
        }
    }

    @Override
    public LoadedModel load(Path file, String model, EngineOptions options) {
        ModelFiles.detectRuntime(file);
        long start = System.nanoTime();
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        List<String> used = new ArrayList<>();
        try {
            o.setIntraOpNumThreads(options.threads());
            o.setInterOpNumThreads(1);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            // A failed run is an OrtException that we report (a 4xx to the client, a log line of ours); the runtime
            // would also print it to stderr in red, which reads like a crash in a journal (e.g. a warm-up on zeros
            // that the model's shape constraints refuse)
            o.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
            for (String p : options.providers()) {
                if (p.equals("cuda")) {
                    addCuda(o, model, used);
                } else if (!p.equals("cpu")) {
                    LOG.log(System.Logger.Level.WARNING, "model {0}: execution provider {1} is not supported here; skipped", model, p);
                }
            }
            used.add("CPU");
            OrtSession session = env().createSession(file.toString(), o);
            ModelSignature sig = signature(session);
            int pool = options.effectivePoolSize(ModelFiles.size(file), Runtime.getRuntime().availableProcessors());
            io.edgefleet.engines.InputRules rules = new io.edgefleet.engines.InputRules(model, sig,
                    dimNames(session.getInputInfo()), dimNames(session.getOutputInfo()), options.maxRequestBytes());
            return new OnnxModel(model, env(), session, o, sig, rules, pool, options, used, (System.nanoTime() - start) / 1e6);
        } catch (OrtException e) {
            o.close();
            throw new ModelLoadException(file.toString(), e.getMessage(), e);
        }
    }

    private static void addCuda(OrtSession.SessionOptions o, String model, List<String> used) {
        try {
            if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
                LOG.log(System.Logger.Level.INFO, "model {0}: CUDA execution provider not in this ONNX Runtime build; using CPU", model);
                return;
            }
            o.addCUDA(0);
            used.add("CUDA");
        } catch (OrtException | RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.WARNING, "model {0}: CUDA execution provider failed ({1}); falling back to CPU",
                    model, e.getMessage());
        }
    }

    private ModelSignature signature(OrtSession s) throws OrtException {
        return new ModelSignature(runtime(), version(), specs(s.getInputInfo()), specs(s.getOutputInfo()));
    }

    private static List<TensorSpec> specs(Map<String, NodeInfo> infos) {
        List<TensorSpec> out = new ArrayList<>();
        for (NodeInfo n : infos.values()) {
            if (!(n.getInfo() instanceof TensorInfo t)) {
                throw new ModelLoadException(n.getName(), "is not a tensor (" + n.getInfo() + "); only tensor inputs and outputs are supported");
            }
            List<Long> shape = new ArrayList<>();
            for (long d : t.getShape()) {
                shape.add(d < 0 ? -1L : d);
            }
            out.add(new TensorSpec(n.getName(), dataType(t), shape, Optional.empty()));
        }
        return out;
    }

    /** Per tensor, in the session's order, the symbolic name of each dimension ({@code ""} for none). */
    private static List<List<String>> dimNames(Map<String, NodeInfo> infos) {
        List<List<String>> out = new ArrayList<>();
        for (NodeInfo n : infos.values()) {
            String[] names = n.getInfo() instanceof TensorInfo t ? t.getDimensionNames() : null;
            out.add(names == null ? List.of() : java.util.Arrays.stream(names).map(x -> x == null ? "" : x).toList());
        }
        return out;
    }

    static DataType dataType(TensorInfo t) {
        return switch (t.onnxType) {
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT -> DataType.FP32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 -> DataType.FP16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16 -> DataType.BF16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE -> DataType.FP64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 -> DataType.INT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 -> DataType.UINT8;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16 -> DataType.INT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16 -> DataType.UINT16;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 -> DataType.INT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32 -> DataType.UINT32;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 -> DataType.INT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64 -> DataType.UINT64;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL -> DataType.BOOL;
            case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING -> DataType.BYTES;
            default -> throw new ModelLoadException("(tensor)", "element type " + t.onnxType + " is not supported");
        };
    }
}
