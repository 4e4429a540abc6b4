package io.edgefleet.engines;

import io.edgefleet.engines.onnx.OnnxEngine;
import io.edgefleet.engines.tflite.TfliteEngine;
import java.nio.file.Path;

/** The engines, by runtime id or by model file. Each engine is a stateless singleton. */
public final class Engines {
    private static final InferenceEngine ONNX = new OnnxEngine();
    private static final InferenceEngine TFLITE = new TfliteEngine();

    private Engines() {
    }

    public static InferenceEngine onnx() {
        return ONNX;
    }

    public static InferenceEngine tflite() {
        return TFLITE;
    }

    /**
     * @throws IllegalArgumentException for a runtime id other than {@code onnxruntime} or {@code tflite}
     */
    public static InferenceEngine forRuntime(String runtime) {
        return switch (runtime) {
            case "onnxruntime", "onnx" -> ONNX;
            case "tflite" -> TFLITE;
            default -> throw new IllegalArgumentException("no engine for runtime '" + runtime + "' (onnxruntime, tflite)");
        };
    }

    /** The engine for a model file, by its format. */
    public static InferenceEngine forFile(Path file) {
        return forRuntime(ModelFiles.detectRuntime(file));
    }

    /** Inspects a file in this process: signature, size and hash. Only for files from a verified slot. */
    public static ModelInspection inspectInProcess(Path file) {
        InferenceEngine e = forFile(file);
        ModelSignature s = e.inspect(file);
        return ModelInspection.of(file.toString(), ModelFiles.size(file), ModelFiles.sha256(file), s);
    }
}
