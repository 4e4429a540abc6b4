package io.edgefleet.protocols.oip;

import io.edgefleet.protocols.ProtocolException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A v2 inference response.
 *
 * @param modelName the model that answered
 * @param modelVersion the version that answered (EdgeFleet always sets it)
 * @param id the request id, when the request had one
 * @param parameters response parameters, e.g. where the answer was computed
 * @param outputs output tensors; names unique
 */
public record InferResponse(String modelName, Optional<String> modelVersion, Optional<String> id,
        Parameters parameters, List<InferTensor> outputs) {
    public InferResponse {
        if (modelName == null || modelName.isEmpty()) {
            throw new ProtocolException("$.model_name", "is required");
        }
        Objects.requireNonNull(modelVersion, "modelVersion");
        Objects.requireNonNull(id, "id");
        parameters = parameters == null ? Parameters.EMPTY : parameters;
        outputs = List.copyOf(outputs);
        InferRequest.unique(outputs.stream().map(InferTensor::name).toList(), "$.outputs");
    }

    public Optional<InferTensor> output(String name) {
        return outputs.stream().filter(t -> t.name().equals(name)).findFirst();
    }
}
