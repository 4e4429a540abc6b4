package io.edgefleet.engines;

import io.edgefleet.protocols.manifest.TensorSpec;
import java.util.List;

/**
 * A model file as its runtime sees it.
 *
 * @param file the path inspected
 * @param runtime {@code onnxruntime} or {@code tflite}
 * @param runtimeVersion the runtime that loaded it
 * @param sizeBytes file size
 * @param sha256 of the file, lowercase hex
 * @param inputs input tensors (dtype, shape with -1 for dynamic dims, quantization of int8/uint8)
 * @param outputs output tensors
 */
public record ModelInspection(String file, String runtime, String runtimeVersion, long sizeBytes, String sha256,
        List<TensorSpec> inputs, List<TensorSpec> outputs) {
    public ModelInspection {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public static ModelInspection of(String file, long sizeBytes, String sha256, ModelSignature s) {
        return new ModelInspection(file, s.runtime(), s.runtimeVersion(), sizeBytes, sha256, s.inputs(), s.outputs());
    }

    public ModelSignature signature() {
        return new ModelSignature(runtime, runtimeVersion, inputs, outputs);
    }
}
