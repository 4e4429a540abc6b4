package io.edgefleet.protocols.oip;

import io.edgefleet.protocols.ProtocolException;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A v2 inference request: {@code POST /v2/models/{m}[/versions/{v}]/infer}.
 *
 * @param id optional request id, echoed in the response
 * @param parameters request parameters
 * @param inputs at least one input; names unique
 * @param outputs the outputs asked for; empty means all
 */
public record InferRequest(Optional<String> id, Parameters parameters, List<InferTensor> inputs,
        List<RequestedOutput> outputs) {
    public InferRequest {
        Objects.requireNonNull(id, "id");
        parameters = parameters == null ? Parameters.EMPTY : parameters;
        inputs = List.copyOf(inputs);
        outputs = outputs == null ? List.of() : List.copyOf(outputs);
        if (inputs.isEmpty()) {
            throw new ProtocolException("$.inputs", "must hold at least one input");
        }
        unique(inputs.stream().map(InferTensor::name).toList(), "$.inputs");
        unique(outputs.stream().map(RequestedOutput::name).toList(), "$.outputs");
    }

    static void unique(List<String> names, String path) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < names.size(); i++) {
            if (!seen.add(names.get(i))) {
                throw new ProtocolException(path + "[" + i + "].name", "'" + names.get(i) + "' appears twice");
            }
        }
    }

    public static InferRequest of(InferTensor... inputs) {
        return new InferRequest(Optional.empty(), Parameters.EMPTY, List.of(inputs), List.of());
    }

    public InferRequest withId(String newId) {
        return new InferRequest(Optional.of(newId), parameters, inputs, outputs);
    }

    public Optional<InferTensor> input(String name) {
        return inputs.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /**
     * Whether output {@code name} is to be returned in the binary tail: the output's own
     * {@code binary_data} wins, else the request's {@code binary_data_output}.
     */
    public boolean wantsBinary(String name) {
        for (RequestedOutput o : outputs) {
            if (o.name().equals(name) && o.parameters().bool(Parameters.BINARY_DATA).isPresent()) {
                return o.binaryData();
            }
        }
        return parameters.bool(Parameters.BINARY_DATA_OUTPUT).orElse(false);
    }
}
