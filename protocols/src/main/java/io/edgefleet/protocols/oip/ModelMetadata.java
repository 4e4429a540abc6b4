package io.edgefleet.protocols.oip;

import java.util.List;
import java.util.Objects;

/**
 * {@code GET /v2/models/{m}[/versions/{v}]}.
 *
 * @param name model name
 * @param versions versions this server holds
 * @param platform e.g. {@code onnxruntime_onnx} or {@code tensorflow_tflite}
 */
public record ModelMetadata(String name, List<String> versions, String platform, List<TensorMetadata> inputs,
        List<TensorMetadata> outputs) {
    public ModelMetadata {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(platform, "platform");
        versions = List.copyOf(versions);
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }
}
