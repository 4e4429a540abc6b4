package io.edgefleet.engines;

import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.Shapes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Checks inputs against a signature before any native call, with messages that name model, input and rule. */
public final class SignatureCheck {
    private SignatureCheck() {
    }

    /**
     * @return the inputs in the model's order
     * @throws InvalidInputException for a missing, extra, duplicated, mistyped or misshapen input
     */
    public static List<InferTensor> ordered(String model, ModelSignature sig, List<InferTensor> inputs) {
        Map<String, InferTensor> byName = new HashMap<>();
        for (InferTensor t : inputs) {
            if (byName.put(t.name(), t) != null) {
                throw new InvalidInputException("model '" + model + "': input '" + t.name() + "' is given twice");
            }
            if (sig.input(t.name()).isEmpty()) {
                throw new InvalidInputException("model '" + model + "' has no input '" + t.name() + "' (its inputs: "
                        + describe(sig.inputs()) + ")");
            }
        }
        for (TensorSpec spec : sig.inputs()) {
            InferTensor t = byName.get(spec.name());
            if (t == null) {
                throw new InvalidInputException("model '" + model + "' is missing input '" + spec.name() + "' ("
                        + describe(List.of(spec)) + ")");
            }
            if (t.datatype() != spec.datatype()) {
                throw new InvalidInputException("model '" + model + "' input '" + spec.name() + "': expected "
                        + spec.datatype() + ", got " + t.datatype());
            }
            if (!fits(spec, t.shape())) {
                throw new InvalidInputException("model '" + model + "' input '" + spec.name() + "': expected shape "
                        + format(spec) + ", got " + Shapes.format(t.shape()));
            }
        }
        return sig.inputs().stream().map(s -> byName.get(s.name())).toList();
    }

    static boolean fits(TensorSpec spec, long[] shape) {
        if (spec.shape().size() != shape.length) {
            return false;
        }
        for (int i = 0; i < shape.length; i++) {
            long d = spec.shape().get(i);
            if (d != -1 && d != shape[i]) {
                return false;
            }
        }
        return true;
    }

    /** {@code [-1,4]} as {@code [-1,4]}; the format of every shape in our messages. */
    public static String format(TensorSpec spec) {
        return spec.shape().stream().map(String::valueOf).collect(Collectors.joining(",", "[", "]"));
    }

    public static String describe(List<TensorSpec> specs) {
        return specs.stream().map(s -> s.name() + ":" + s.datatype() + format(s)).collect(Collectors.joining(", "));
    }
}
