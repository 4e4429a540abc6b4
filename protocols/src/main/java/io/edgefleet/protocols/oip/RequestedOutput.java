package io.edgefleet.protocols.oip;

import java.util.Objects;

/**
 * An output the client asks for by name.
 *
 * @param name the output tensor name
 * @param parameters e.g. {@code binary_data: true}
 */
public record RequestedOutput(String name, Parameters parameters) {
    public RequestedOutput {
        Objects.requireNonNull(name, "name");
        parameters = parameters == null ? Parameters.EMPTY : parameters;
    }

    public RequestedOutput(String name) {
        this(name, Parameters.EMPTY);
    }

    /** Whether this output should come back in the binary tail. */
    public boolean binaryData() {
        return parameters.bool(Parameters.BINARY_DATA).orElse(false);
    }
}
