package io.edgefleet.cli;

import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.oip.TensorData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/** Reads {@code [NAME=]FILE} input arguments of {@code edgefleet model run}. */
final class InputFiles {
    private InputFiles() {
    }

    static InferTensor read(String arg, List<TensorSpec> inputs) {
        String name;
        Path file;
        int eq = arg.indexOf('=');
        if (eq > 0) {
            name = arg.substring(0, eq);
            file = Path.of(arg.substring(eq + 1));
        } else if (inputs.size() == 1) {
            name = inputs.get(0).name();
            file = Path.of(arg);
        } else {
            throw new IllegalArgumentException("the model has " + inputs.size() + " inputs ("
                    + String.join(", ", inputs.stream().map(TensorSpec::name).toList()) + "): name each one as NAME=FILE");
        }
        TensorSpec spec = inputs.stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("the model has no input '" + name + "' (its inputs: "
                        + String.join(", ", inputs.stream().map(TensorSpec::name).toList()) + ")"));
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read input file " + file, e);
        }
        if (file.toString().endsWith(".json")) {
            return json(name, file, bytes);
        }
        return raw(name, spec, file, bytes);
    }

    private static InferTensor json(String name, Path file, byte[] bytes) {
        String tensor = new String(bytes, StandardCharsets.UTF_8).strip();
        String body = "{\"inputs\":[" + tensor.replaceFirst("^\\{", "{\"name\":" + quote(name) + ",") + "]}";
        try {
            InferRequest r = OipCodec.create().decodeRequest(body.getBytes(StandardCharsets.UTF_8), OptionalInt.empty());
            InferTensor t = r.inputs().get(0);
            return new InferTensor(name, t.data());
        } catch (ProtocolException e) {
            throw new IllegalArgumentException("input file " + file + ": " + e.getMessage().replace("$.inputs[0]", "$"), e);
        }
    }

    private static InferTensor raw(String name, TensorSpec spec, Path file, byte[] bytes) {
        int size = spec.datatype().elementBytes();
        if (size < 1) {
            throw new IllegalArgumentException("input '" + name + "' is " + spec.datatype() + ": give it as a .json tensor");
        }
        if (bytes.length % size != 0) {
            throw new IllegalArgumentException("input file " + file + ": " + bytes.length + " bytes is not a whole number of "
                    + spec.datatype() + " elements (" + size + " bytes each)");
        }
        long elements = bytes.length / size;
        long[] shape = spec.shape().stream().mapToLong(Long::longValue).toArray();
        long known = 1;
        int dynamic = -1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                if (dynamic >= 0) {
                    throw new IllegalArgumentException("input '" + name + "' has more than one dynamic dimension: give it as a .json tensor");
                }
                dynamic = i;
            } else {
                known *= shape[i];
            }
        }
        if (dynamic >= 0) {
            if (known == 0 || elements % known != 0) {
                throw new IllegalArgumentException("input file " + file + ": " + elements + " elements do not fill shape "
                        + spec.shape() + " for any size of its dynamic dimension");
            }
            shape[dynamic] = elements / known;
        } else if (known != elements) {
            throw new IllegalArgumentException("input file " + file + ": " + elements + " " + spec.datatype()
                    + " elements, but input '" + name + "' of shape " + spec.shape() + " needs " + known);
        }
        return new InferTensor(name, TensorData.ofRaw(spec.datatype(), shape, bytes));
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
