package io.edgefleet.engines;

import io.edgefleet.engines.InvalidInputException.Rule;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.protocols.oip.DataType;
import io.edgefleet.protocols.oip.InferTensor;
import io.edgefleet.protocols.oip.Shapes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The checks every request passes before any native call, for one loaded model. Nothing a client
 * sends reaches ONNX Runtime or TensorFlow Lite unless, for every input:
 * <ol>
 * <li>it is named by the model, once, and every model input is given ({@link Rule#NAME});
 * <li>its element type is the model's ({@link Rule#DATATYPE});
 * <li>its rank is the model's, each fixed dimension has the model's size and no dimension is over
 *     {@code 2^31-1} ({@link Rule#SHAPE}); negative dimensions, element counts over
 *     {@code 2^31-1} and data that does not fill its shape exactly cannot get this far: a
 *     {@link io.edgefleet.protocols.oip.TensorData} with any of them is never built (the codecs
 *     refuse it with {@link io.edgefleet.protocols.ProtocolException}, a 400);
 * <li>no dimension is 0 unless the model declares that dimension as a fixed 0: an empty batch is
 *     refused with 400, never run, because runtimes abort the process on some zero-sized tensors
 *     (ONNX Runtime 1.23 on Silero VAD with {@code [0,512]}) ({@link Rule#EMPTY});
 * <li>dynamic dimensions the model ties together by one symbolic name (ONNX {@code dim_param},
 *     e.g. {@code batch} in two inputs) have one size across all inputs ({@link Rule#INCONSISTENT_DIMS});
 * </ol>
 * and the whole request fits the per-request memory bound ({@link Rule#TOO_LARGE}): the bytes of
 * all inputs plus the bytes of every output whose shape is known from the model (fixed dimensions,
 * and symbolic ones bound by an input; a dimension nothing binds counts as 1, so the estimate is a
 * lower bound) must not exceed {@link EngineOptions#maxRequestBytes()}.
 *
 * <p>Every refusal is an {@link InvalidInputException} whose message names the model, the input,
 * what was expected and what came. Immutable and thread-safe.
 */
public final class InputRules {
    private final String model;
    private final ModelSignature signature;
    private final List<List<String>> inputDimNames;
    private final List<List<String>> outputDimNames;
    private final long maxRequestBytes;
    private final boolean dynamicInputs;

    /**
     * @param model the model's name, for messages
     * @param inputDimNames per input, in the signature's order, the symbolic name of each dimension
     *     ({@code ""} for none); an empty list when the runtime names no dimensions (TFLite)
     * @param outputDimNames the same for outputs
     * @param maxRequestBytes the per-request memory bound, bytes
     */
    public InputRules(String model, ModelSignature signature, List<List<String>> inputDimNames,
            List<List<String>> outputDimNames, long maxRequestBytes) {
        if (maxRequestBytes < 1) {
            throw new IllegalArgumentException("maxRequestBytes must be >= 1, got " + maxRequestBytes);
        }
        this.model = model;
        this.signature = signature;
        this.inputDimNames = names(inputDimNames, signature.inputs());
        this.outputDimNames = names(outputDimNames, signature.outputs());
        this.maxRequestBytes = maxRequestBytes;
        this.dynamicInputs = signature.inputs().stream().anyMatch(s -> s.shape().contains(-1L));
    }

    /** Rules for a runtime that names no dimensions. */
    public static InputRules unnamed(String model, ModelSignature signature, long maxRequestBytes) {
        return new InputRules(model, signature, List.of(), List.of(), maxRequestBytes);
    }

    private static List<List<String>> names(List<List<String>> given, List<TensorSpec> specs) {
        List<List<String>> out = new ArrayList<>();
        for (int i = 0; i < specs.size(); i++) {
            List<String> n = i < given.size() && given.get(i) != null ? given.get(i) : List.of();
            List<String> padded = new ArrayList<>();
            for (int d = 0; d < specs.get(i).shape().size(); d++) {
                // A name on a fixed dimension ties nothing: the size is already known.
                padded.add(d < n.size() && n.get(d) != null && specs.get(i).shape().get(d) == -1 ? n.get(d) : "");
            }
            out.add(Collections.unmodifiableList(padded));
        }
        return List.copyOf(out);
    }

    public long maxRequestBytes() {
        return maxRequestBytes;
    }

    /** Whether the model leaves some input dimension open, so a request chooses its size. */
    public boolean hasDynamicInputs() {
        return dynamicInputs;
    }

    /**
     * Whether a runtime refusal of these (already checked) inputs is plausibly the request's doing:
     * the request chose the size of a dimension the model leaves open beyond the batch, i.e. a
     * dynamic dimension other than the first of some input (an audio frame of a length the model
     * cannot compute), or gave different first-dimension sizes to inputs whose first dimension is
     * dynamic (a batch of 2 with a state for 1). A leading batch dimension alone is open in almost
     * every model, so a failure with only that chosen is the model's: otherwise a version that
     * fails on every request would pass as "client errors" and no watchdog would see it.
     *
     * @param ordered the inputs in the model's order, as {@link #check} returned them
     */
    public boolean requestChoseOpenShape(List<InferTensor> ordered) {
        Long batch = null;
        for (int i = 0; i < signature.inputs().size() && i < ordered.size(); i++) {
            List<Long> shape = signature.inputs().get(i).shape();
            for (int d = 1; d < shape.size(); d++) {
                if (shape.get(d) == -1L) {
                    return true;
                }
            }
            if (!shape.isEmpty() && shape.get(0) == -1L && ordered.get(i).shape().length > 0) {
                long b = ordered.get(i).shape()[0];
                if (batch != null && batch != b) {
                    return true;
                }
                batch = b;
            }
        }
        return false;
    }

    /**
     * Checks a request.
     *
     * @return the inputs in the model's order
     * @throws InvalidInputException naming the first rule broken
     */
    public List<InferTensor> check(List<InferTensor> inputs) {
        if (inModelOrder(inputs)) {
            // the usual request: every input once, in the model's order (names in a signature are unique)
            for (int i = 0; i < inputs.size(); i++) {
                checkInput(signature.inputs().get(i), inputs.get(i));
            }
            checkMemory(inputs, checkTies(inputs));
            return inputs;
        }
        Map<String, InferTensor> byName = new HashMap<>();
        for (InferTensor t : inputs) {
            if (byName.put(t.name(), t) != null) {
                throw new InvalidInputException(Rule.NAME, "model '" + model + "': input '" + t.name() + "' is given twice");
            }
            if (signature.input(t.name()).isEmpty()) {
                throw new InvalidInputException(Rule.NAME, "model '" + model + "' has no input '" + t.name() + "' (its inputs: "
                        + describe(signature.inputs()) + ")");
            }
        }
        List<InferTensor> ordered = new ArrayList<>(signature.inputs().size());
        for (TensorSpec spec : signature.inputs()) {
            InferTensor t = byName.get(spec.name());
            if (t == null) {
                throw new InvalidInputException(Rule.NAME, "model '" + model + "' is missing input '" + spec.name() + "' ("
                        + describe(List.of(spec)) + ")");
            }
            checkInput(spec, t);
            ordered.add(t);
        }
        Map<String, Long> bound = checkTies(ordered);
        checkMemory(ordered, bound);
        return ordered;
    }

    private boolean inModelOrder(List<InferTensor> inputs) {
        List<TensorSpec> specs = signature.inputs();
        if (inputs.size() != specs.size()) {
            return false;
        }
        for (int i = 0; i < specs.size(); i++) {
            if (!specs.get(i).name().equals(inputs.get(i).name())) {
                return false;
            }
        }
        return true;
    }

    private void checkInput(TensorSpec spec, InferTensor t) {
        if (t.datatype() != spec.datatype()) {
            throw new InvalidInputException(Rule.DATATYPE, "model '" + model + "' input '" + spec.name() + "': expected "
                    + spec.datatype() + ", got " + t.datatype());
        }
        checkShape(spec, t);
    }

    private void checkShape(TensorSpec spec, InferTensor t) {
        long[] shape = t.shape();
        String where = "model '" + model + "' input '" + spec.name() + "': ";
        if (shape.length != spec.shape().size()) {
            throw new InvalidInputException(Rule.SHAPE, where + "expected shape " + format(spec) + ", got " + Shapes.format(shape));
        }
        for (int i = 0; i < shape.length; i++) {
            long want = spec.shape().get(i);
            long got = shape[i];
            if (want >= 0 && got != want) {
                throw new InvalidInputException(Rule.SHAPE, where + "expected shape " + format(spec) + ", got " + Shapes.format(shape));
            }
            if (got == 0 && want != 0) {
                throw new InvalidInputException(Rule.EMPTY, where + "dimension " + i + " is 0 in " + Shapes.format(shape)
                        + " (expected " + format(spec) + "); empty tensors are refused: there is nothing to compute");
            }
            // Only next to a dimension the model fixes at 0 can one be this large (the element count is then 0).
            if (got > Integer.MAX_VALUE) {
                throw new InvalidInputException(Rule.SHAPE, where + "dimension " + i + " is " + got + " in " + Shapes.format(shape)
                        + ", over the runtimes' limit of " + Integer.MAX_VALUE);
            }
        }
    }

    /** @return each symbolic dimension name bound by the inputs, with its size */
    private Map<String, Long> checkTies(List<InferTensor> ordered) {
        Map<String, Long> size = new HashMap<>();
        Map<String, String> firstSeen = new HashMap<>();
        for (int k = 0; k < ordered.size(); k++) {
            List<String> names = inputDimNames.get(k);
            long[] shape = ordered.get(k).shape();
            for (int d = 0; d < names.size(); d++) {
                String n = names.get(d);
                if (n.isEmpty()) {
                    continue;
                }
                Long prev = size.putIfAbsent(n, shape[d]);
                if (prev == null) {
                    firstSeen.put(n, "input '" + ordered.get(k).name() + "' dimension " + d);
                } else if (prev != shape[d]) {
                    String here = "input '" + ordered.get(k).name() + "' dimension " + d;
                    throw new InvalidInputException(Rule.INCONSISTENT_DIMS, "model '" + model + "': " + here + " is " + shape[d]
                            + " but " + firstSeen.get(n) + " is " + prev + "; the model names both '" + n + "', so they must be equal");
                }
            }
        }
        return size;
    }

    private void checkMemory(List<InferTensor> ordered, Map<String, Long> bound) {
        long in = 0;
        for (InferTensor t : ordered) {
            in = saturatedAdd(in, t.data().byteSize());
        }
        long out = 0;
        for (int k = 0; k < signature.outputs().size(); k++) {
            out = saturatedAdd(out, outputBytes(signature.outputs().get(k), outputDimNames.get(k), bound));
        }
        long total = saturatedAdd(in, out);
        if (total > maxRequestBytes) {
            throw new InvalidInputException(Rule.TOO_LARGE, "model '" + model + "': this request needs at least " + total
                    + " bytes (inputs " + in + ", outputs " + out + "), over the per-request memory bound of " + maxRequestBytes
                    + " bytes; send fewer rows per request");
        }
    }

    /** Bytes of one output as far as its shape is known; unknown dimensions count as 1, BYTES elements as 4 bytes. */
    private static long outputBytes(TensorSpec spec, List<String> names, Map<String, Long> bound) {
        long n = spec.datatype() == DataType.BYTES ? 4 : spec.datatype().elementBytes();
        for (int d = 0; d < spec.shape().size(); d++) {
            long dim = spec.shape().get(d);
            if (dim < 0) {
                dim = names.get(d).isEmpty() ? 1 : bound.getOrDefault(names.get(d), 1L);
            }
            n = saturatedMultiply(n, dim);
        }
        return n;
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    private static long saturatedMultiply(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** The shapes of a request, {@code input [1,576], state [2,1,128]}: what messages about a runtime refusal name. */
    public static String shapes(List<InferTensor> inputs) {
        return inputs.stream().map(t -> t.name() + " " + Shapes.format(t.shape())).collect(Collectors.joining(", "));
    }

    /** {@code [-1,4]} as {@code [-1,4]}; the format of every shape in our messages. */
    public static String format(TensorSpec spec) {
        return spec.shape().stream().map(String::valueOf).collect(Collectors.joining(",", "[", "]"));
    }

    public static String describe(List<TensorSpec> specs) {
        return specs.stream().map(s -> s.name() + ":" + s.datatype() + format(s)).collect(Collectors.joining(", "));
    }
}
