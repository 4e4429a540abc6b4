package io.edgefleet.protocols.manifest;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.oip.DataType;
import java.util.List;
import java.util.Optional;

/**
 * An input or output of a model variant, as recorded at registration.
 *
 * @param name tensor name
 * @param datatype element type, with Open Inference Protocol names
 * @param shape dimensions; {@code -1} marks a dynamic one
 * @param quantization scale and zero point of a quantized tensor
 */
public record TensorSpec(String name, DataType datatype, List<Long> shape, Optional<Quantization> quantization) {
    public TensorSpec {
        Checks.requiredText(name, "name");
        Checks.required(datatype, "datatype");
        shape = Checks.list(shape, "shape");
        for (int i = 0; i < shape.size(); i++) {
            if (shape.get(i) < -1) {
                throw new ProtocolException("shape[" + i + "]", "dimension must be >= -1, got " + shape.get(i));
            }
        }
        quantization = quantization == null ? Optional.empty() : quantization;
    }
}
