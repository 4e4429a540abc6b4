package io.edgefleet.engines;

import io.edgefleet.protocols.manifest.TensorSpec;
import java.util.List;
import java.util.Optional;

/**
 * What a loaded model takes and gives, read from the model itself.
 *
 * @param runtime {@code onnxruntime} or {@code tflite}
 * @param runtimeVersion the version of the runtime that read it
 * @param inputs in the model's order; shape dims of -1 are dynamic
 * @param outputs in the model's order
 */
public record ModelSignature(String runtime, String runtimeVersion, List<TensorSpec> inputs, List<TensorSpec> outputs) {
    public ModelSignature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    public Optional<TensorSpec> input(String name) {
        return inputs.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    public Optional<TensorSpec> output(String name) {
        return outputs.stream().filter(t -> t.name().equals(name)).findFirst();
    }
}
