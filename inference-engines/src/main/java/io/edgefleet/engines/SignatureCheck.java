package io.edgefleet.engines;

import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.InferTensor;
import java.util.List;

/**
 * Checks inputs against a bare signature (no symbolic dimension names, no memory bound): the
 * rules of {@link InputRules} that need nothing but the signature. A loaded model checks with its
 * own {@link InputRules}, through {@link LoadedModel#check}.
 */
public final class SignatureCheck {
    private SignatureCheck() {
    }

    /**
     * @return the inputs in the model's order
     * @throws InvalidInputException for a missing, extra, duplicated, mistyped, misshapen or empty input
     */
    public static List<InferTensor> ordered(String model, ModelSignature sig, List<InferTensor> inputs) {
        return InputRules.unnamed(model, sig, Long.MAX_VALUE).check(inputs);
    }

    /** {@code [-1,4]} as {@code [-1,4]}; the format of every shape in our messages. */
    public static String format(TensorSpec spec) {
        return InputRules.format(spec);
    }

    public static String describe(List<TensorSpec> specs) {
        return InputRules.describe(specs);
    }
}
