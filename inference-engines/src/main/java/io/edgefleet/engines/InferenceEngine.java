package io.edgefleet.engines;

import java.nio.file.Path;

/**
 * One model runtime. Implementations: ONNX Runtime ({@code onnxruntime}) and TensorFlow Lite
 * through JNI ({@code tflite}); get them from {@link Engines}.
 *
 * <p>Loading runs native code on the model file in this process. A file that did not come from a
 * verified local slot must first pass {@link io.edgefleet.engines.isolation.IsolatedVerifier},
 * which loads it in a short-lived child JVM, because a hostile file can crash the process.
 */
public interface InferenceEngine {
    /** Runtime id, as manifests and profiles name it. */
    String runtime();

    /** The native runtime's version; loads the native library. */
    String version();

    /**
     * Loads the file, reads its signature and releases it.
     *
     * @throws ModelLoadException with the runtime's own message when it refuses the file
     */
    ModelSignature inspect(Path file);

    /**
     * Loads the file for inference with a pool of sessions sized by {@code options}.
     *
     * @throws ModelLoadException with the runtime's own message when it refuses the file
     */
    default LoadedModel load(Path file, EngineOptions options) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return load(file, dot > 0 ? n.substring(0, dot) : n, options);
    }

    /**
     * As {@link #load(Path, EngineOptions)}, naming the model in messages {@code modelName}
     * (the agent keeps versions in files named after the version, not the model).
     */
    LoadedModel load(Path file, String modelName, EngineOptions options);
}
