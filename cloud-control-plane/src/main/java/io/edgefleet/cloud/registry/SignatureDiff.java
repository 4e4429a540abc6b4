package io.edgefleet.cloud.registry;

import io.edgefleet.protocols.manifest.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What a client of a model would notice between two variants: the inputs and outputs by name, each
 * with its datatype and shape ({@code -1} for a dynamic dimension). Order does not matter (Open
 * Inference Protocol requests name their tensors); quantization parameters do not either (they
 * change with every retraining of a quantized model and the runtime applies them). A pure function.
 */
public final class SignatureDiff {
    private SignatureDiff() {
    }

    /**
     * The differences from {@code before} to {@code after}, one sentence each, e.g.
     * {@code input 'x': datatype FP32 -> INT8}, {@code output 'probs': shape [-1,3] -> [-1,4]},
     * {@code input 'state': added}; empty when a client would see the same signature.
     */
    public static List<String> of(List<TensorSpec> inputsBefore, List<TensorSpec> outputsBefore, List<TensorSpec> inputsAfter,
            List<TensorSpec> outputsAfter) {
        List<String> out = new ArrayList<>();
        compare("input", inputsBefore, inputsAfter, out);
        compare("output", outputsBefore, outputsAfter, out);
        return out;
    }

    /** The differences between two registered variants. */
    public static List<String> of(VariantInfo before, VariantInfo after) {
        return of(before.inputs(), before.outputs(), after.inputs(), after.outputs());
    }

    private static void compare(String role, List<TensorSpec> before, List<TensorSpec> after, List<String> out) {
        Map<String, TensorSpec> old = byName(before);
        Map<String, TensorSpec> now = byName(after);
        for (TensorSpec b : old.values()) {
            Optional<TensorSpec> a = Optional.ofNullable(now.get(b.name()));
            if (a.isEmpty()) {
                out.add(role + " '" + b.name() + "': removed (was " + describe(b) + ")");
                continue;
            }
            if (a.get().datatype() != b.datatype()) {
                out.add(role + " '" + b.name() + "': datatype " + b.datatype() + " -> " + a.get().datatype());
            }
            if (!a.get().shape().equals(b.shape())) {
                out.add(role + " '" + b.name() + "': shape " + shape(b.shape()) + " -> " + shape(a.get().shape()));
            }
        }
        for (TensorSpec a : now.values()) {
            if (!old.containsKey(a.name())) {
                out.add(role + " '" + a.name() + "': added (" + describe(a) + ")");
            }
        }
    }

    private static Map<String, TensorSpec> byName(List<TensorSpec> specs) {
        Map<String, TensorSpec> out = new LinkedHashMap<>();
        specs.forEach(s -> out.putIfAbsent(s.name(), s));
        return out;
    }

    private static String describe(TensorSpec t) {
        return t.datatype() + " " + shape(t.shape());
    }

    static String shape(List<Long> shape) {
        return shape.stream().map(String::valueOf).collect(Collectors.joining(",", "[", "]"));
    }
}
