package io.edgefleet.protocols.oip;

import java.util.Objects;

/**
 * A named tensor with its data: an input of a request or an output of a response.
 *
 * @param name the tensor name as the model declares it
 * @param data type, shape and elements
 * @param parameters tensor parameters (never the transport-only {@code binary_data_size})
 */
public record InferTensor(String name, TensorData data, Parameters parameters) {
    public InferTensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(data, "data");
        parameters = parameters == null ? Parameters.EMPTY : parameters.without(Parameters.BINARY_DATA_SIZE);
    }

    public InferTensor(String name, TensorData data) {
        this(name, data, Parameters.EMPTY);
    }

    public DataType datatype() {
        return data.type();
    }

    public long[] shape() {
        return data.shape();
    }
}
