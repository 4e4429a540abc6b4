package io.edgefleet.engines.tflite;

import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.InferenceEngine;
import io.edgefleet.engines.LoadedModel;
import io.edgefleet.engines.ModelFiles;
import io.edgefleet.engines.ModelLoadException;
import io.edgefleet.engines.ModelSignature;
import io.edgefleet.profiles.probe.NativeLibraryUnavailableException;
import io.edgefleet.profiles.probe.TfliteNative;
import io.edgefleet.protocols.manifest.Quantization;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.DataType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.Tensor;

/**
 * TensorFlow Lite 2.6.2 through JNI. Interpreters are not thread-safe, so a loaded model holds a
 * pool of them. The JNI library is loaded by {@link TfliteNative} before any interpreter exists.
 */
public final class TfliteEngine implements InferenceEngine {
    @Override
    public String runtime() {
        return "tflite";
    }

    @Override
    public String version() {
        loadNative("(none)");
        return org.tensorflow.lite.TensorFlowLite.runtimeVersion();
    }

    static void loadNative(String file) {
        try {
            TfliteNative.load();
        } catch (NativeLibraryUnavailableException e) {
            throw new ModelLoadException(file, e.getMessage(), e);
        }
    }

    @Override
    public ModelSignature inspect(Path file) {
        ModelFiles.detectRuntime(file);
        Interpreter it = open(file, new Interpreter.Options().setNumThreads(1).setUseXNNPACK(false));
        try {
            return signature(it, file);
        } finally {
            it.close();
        }
    }

    @Override
    public LoadedModel load(Path file, String model, EngineOptions options) {
        ModelFiles.detectRuntime(file);
        long start = System.nanoTime();
        int pool = options.effectivePoolSize(ModelFiles.size(file), Runtime.getRuntime().availableProcessors());
        List<Interpreter> interpreters = new ArrayList<>();
        try {
            for (int i = 0; i < pool; i++) {
                interpreters.add(open(file, new Interpreter.Options().setNumThreads(options.threads())
                        .setUseXNNPACK(options.useXnnpack())));
            }
            ModelSignature sig = signature(interpreters.get(0), file);
            return new TfliteModel(model, interpreters, sig, options, (System.nanoTime() - start) / 1e6);
        } catch (RuntimeException e) {
            interpreters.forEach(Interpreter::close);
            throw e;
        }
    }

    private static Interpreter open(Path file, Interpreter.Options options) {
        loadNative(file.toString());
        try {
            return new Interpreter(file.toFile(), options);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new ModelLoadException(file.toString(), runtimeMessage(e.getMessage()), e);
        }
    }

    /**
     * TFLite's own words, without the Java wrapper's prefix: "Internal error: Cannot create
     * interpreter: Didn't find op for builtin opcode 'CAST' version '3'..." keeps everything after
     * the prefix and joins the lines.
     */
    static String runtimeMessage(String m) {
        if (m == null) {
            return "TensorFlow Lite refused the model";
        }
        String s = m.replace("Internal error: ", "").replace("Cannot create interpreter: ", "").strip();
        String joined = String.join(" ", s.lines().map(String::strip).filter(l -> !l.isEmpty()).toList());
        // TFLite repeats a complaint once per offending tensor; the first few say it all.
        return joined.length() > 400 ? joined.substring(0, 400) + "... (" + (joined.length() - 400) + " more characters)" : joined;
    }

    private ModelSignature signature(Interpreter it, Path file) {
        List<TensorSpec> in = new ArrayList<>();
        for (int i = 0; i < it.getInputTensorCount(); i++) {
            in.add(spec(it.getInputTensor(i), file));
        }
        List<TensorSpec> out = new ArrayList<>();
        for (int i = 0; i < it.getOutputTensorCount(); i++) {
            out.add(spec(it.getOutputTensor(i), file));
        }
        return new ModelSignature(runtime(), org.tensorflow.lite.TensorFlowLite.runtimeVersion(), in, out);
    }

    static TensorSpec spec(Tensor t, Path file) {
        DataType type;
        try {
            type = dataType(t.dataType());
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file.toString(), "tensor '" + t.name() + "' has an element type the TensorFlow Lite "
                    + "2.6 Java API does not support (" + e.getMessage() + ")", e);
        }
        int[] sig = t.shapeSignature();
        List<Long> shape = new ArrayList<>();
        for (int d : sig) {
            shape.add((long) d);
        }
        Optional<Quantization> q = Optional.empty();
        Tensor.QuantizationParams p = t.quantizationParams();
        if (p != null && p.getScale() > 0 && (type == DataType.INT8 || type == DataType.UINT8 || type == DataType.INT16
                || type == DataType.INT32)) {
            q = Optional.of(new Quantization(p.getScale(), p.getZeroPoint()));
        }
        return new TensorSpec(t.name(), type, shape, q);
    }

    static DataType dataType(org.tensorflow.lite.DataType t) {
        return switch (t) {
            case FLOAT32 -> DataType.FP32;
            case INT32 -> DataType.INT32;
            case UINT8 -> DataType.UINT8;
            case INT64 -> DataType.INT64;
            case STRING -> DataType.BYTES;
            case BOOL -> DataType.BOOL;
            case INT16 -> DataType.INT16;
            case INT8 -> DataType.INT8;
        };
    }
}
