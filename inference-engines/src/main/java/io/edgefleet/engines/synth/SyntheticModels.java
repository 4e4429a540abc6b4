package io.edgefleet.engines.synth;

import io.edgefleet.protocols.manifest.Quantization;
import io.edgefleet.protocols.oip.DataType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Small real models with known weights, written on demand: the tests compare their outputs with
 * values computed in Java, the benchmark runs them when no model file is given, and the demo
 * deploys them. Each method writes one file into {@code dir} and returns its path.
 */
public final class SyntheticModels {
    /** Weights of the 4-feature, 3-class linear classifier both runtimes get: {@code W[in][out]}. */
    public static final float[][] W = {
        {0.5f, -1.0f, 0.25f},
        {1.5f, 0.5f, -0.75f},
        {-0.5f, 2.0f, 1.0f},
        {0.0f, 0.25f, -1.25f},
    };
    public static final float[] B = {0.1f, -0.2f, 0.3f};

    private SyntheticModels() {
    }

    /** ONNX: {@code probs = Softmax(Gemm(x[N,4], W, B))}, x FP32 with a dynamic batch dimension. */
    public static Path classifierOnnx(Path dir) {
        float[] w = new float[12];
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 3; j++) {
                w[i * 3 + j] = W[i][j];
            }
        }
        byte[] model = OnnxGraph.create("classifier")
                .input("x", DataType.FP32, -1, 4)
                .initializer("W", DataType.FP32, new long[] {4, 3}, floats(w))
                .initializer("B", DataType.FP32, new long[] {3}, floats(B))
                .node("Gemm", List.of("x", "W", "B"), List.of("logits"))
                .node("Softmax", List.of("logits"), List.of("probs"), Map.of("axis", 1L))
                .output("probs", DataType.FP32, -1, 3)
                .toBytes();
        return write(dir.resolve("classifier.onnx"), model);
    }

    /**
     * ONNX: a 2-class classifier of {@code x[N,2]} whose decision boundary is the line at angle {@code thetaRadians}:
     * {@code probs = Softmax(scale * [p, -p])} with {@code p = x0 cos(theta) + x1 sin(theta)}, so class 0 when
     * {@code p > 0}. Two of these with angles {@code a} and {@code b} disagree on the top class for a share
     * {@code |a - b| / pi} of inputs drawn from any rotation-invariant distribution (e.g. a standard normal): the shadow
     * tests' candidates with a known disagreement. {@code scale} changes the confidence and never the class.
     *
     * @param file the file name to write in {@code dir}, e.g. {@code v2.onnx}
     */
    public static Path rotatedClassifierOnnx(Path dir, String file, double thetaRadians, double scale) {
        float c = (float) (scale * Math.cos(thetaRadians));
        float s = (float) (scale * Math.sin(thetaRadians));
        byte[] model = OnnxGraph.create("rotated")
                .input("x", DataType.FP32, -1, 2)
                .initializer("W", DataType.FP32, new long[] {2, 2}, floats(c, -c, s, -s))
                .node("MatMul", List.of("x", "W"), List.of("logits"))
                .node("Softmax", List.of("logits"), List.of("probs"), Map.of("axis", 1L))
                .output("probs", DataType.FP32, -1, 2)
                .toBytes();
        return write(dir.resolve(file), model);
    }

    /** ONNX: {@code y = x * NaN}, so every output is NaN: the "misbehaving model". */
    public static Path nanOnnx(Path dir) {
        byte[] model = OnnxGraph.create("nan")
                .input("x", DataType.FP32, 1, 2)
                .initializer("nan", DataType.FP32, new long[] {1}, floats(Float.NaN))
                .node("Mul", List.of("x", "nan"), List.of("y"))
                .output("y", DataType.FP32, 1, 2)
                .toBytes();
        return write(dir.resolve("nan.onnx"), model);
    }

    /**
     * ONNX: {@code probs = Sqrt(x[N,4])}: fine on zeros (it passes a self-test) but NaN for any
     * negative input, the "new version that misbehaves in the field".
     */
    public static Path sqrtOnnx(Path dir) {
        byte[] model = OnnxGraph.create("sqrt")
                .input("x", DataType.FP32, -1, 4)
                .node("Sqrt", List.of("x"), List.of("probs"))
                .output("probs", DataType.FP32, -1, 4)
                .toBytes();
        return write(dir.resolve("sqrt.onnx"), model);
    }

    /**
     * ONNX: {@code y = Gather([0.1, 0.2, 0.3, 0.4], Cast<int64>(x[N,4]))}: a lookup that answers for
     * element values -4..3 (so it passes a self-test on zeros) and fails in the runtime, a model
     * error, for any other value: the "new version that fails in the field" on well-formed inputs.
     */
    public static Path lookupOnnx(Path dir) {
        byte[] model = OnnxGraph.create("lookup")
                .input("x", DataType.FP32, -1, 4)
                .initializer("table", DataType.FP32, new long[] {4}, floats(0.1f, 0.2f, 0.3f, 0.4f))
                .node("Cast", List.of("x"), List.of("idx"), Map.of("to", 7L))
                .node("Gather", List.of("table", "idx"), List.of("y"), Map.of("axis", 0L))
                .output("y", DataType.FP32, -1, 4)
                .toBytes();
        return write(dir.resolve("lookup.onnx"), model);
    }

    /** ONNX: {@code y = Identity(x)} for one element type, shape [2,3]. */
    public static Path identityOnnx(Path dir, DataType type) {
        byte[] model = OnnxGraph.create("identity-" + type)
                .input("x", type, 2, 3)
                .node("Identity", List.of("x"), List.of("y"))
                .output("y", type, 2, 3)
                .toBytes();
        return write(dir.resolve("identity-" + type.name().toLowerCase(java.util.Locale.ROOT) + ".onnx"), model);
    }

    /** TFLite: {@code probs = SOFTMAX(FULLY_CONNECTED(x[-1,4], W^T, B))}, the same classifier as {@link #classifierOnnx}. */
    public static Path classifierTflite(Path dir) {
        float[] wt = new float[12];
        for (int o = 0; o < 3; o++) {
            for (int i = 0; i < 4; i++) {
                wt[o * 4 + i] = W[i][o];
            }
        }
        TfliteGraph g = new TfliteGraph();
        int x = g.tensor("x", TfliteGraph.Type.FLOAT32, -1, 4);
        int w = g.constant("W", TfliteGraph.Type.FLOAT32, new int[] {3, 4}, floats(wt), null);
        int b = g.constant("B", TfliteGraph.Type.FLOAT32, new int[] {3}, floats(B), null);
        int logits = g.tensor("logits", TfliteGraph.Type.FLOAT32, -1, 3);
        int probs = g.tensor("probs", TfliteGraph.Type.FLOAT32, -1, 3);
        g.op(TfliteGraph.Op.FULLY_CONNECTED, new int[] {x, w, b}, new int[] {logits});
        g.op(TfliteGraph.Op.SOFTMAX, new int[] {logits}, new int[] {probs});
        g.inputs(x).outputs(probs);
        return write(dir.resolve("classifier.tflite"), g.toBytes());
    }

    /** TFLite: int8 x[1,4] (scale 0.5, zero point -1) → DEQUANTIZE → FP32 y[1,4]. */
    public static Path dequantizeTflite(Path dir) {
        TfliteGraph g = new TfliteGraph();
        int x = g.tensor("x", TfliteGraph.Type.INT8, new int[] {1, 4}, new Quantization(0.5, -1));
        int y = g.tensor("y", TfliteGraph.Type.FLOAT32, 1, 4);
        g.op(TfliteGraph.Op.DEQUANTIZE, new int[] {x}, new int[] {y});
        g.inputs(x).outputs(y);
        return write(dir.resolve("dequantize.tflite"), g.toBytes());
    }

    /** TFLite: INT32 {@code y = x + [1, 2, 3, 4]}. */
    public static Path addInt32Tflite(Path dir) {
        TfliteGraph g = new TfliteGraph();
        int x = g.tensor("x", TfliteGraph.Type.INT32, 1, 4);
        ByteBuffer c = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        c.putInt(1).putInt(2).putInt(3).putInt(4);
        int k = g.constant("k", TfliteGraph.Type.INT32, new int[] {1, 4}, c.array(), null);
        int y = g.tensor("y", TfliteGraph.Type.INT32, 1, 4);
        g.op(TfliteGraph.Op.ADD, new int[] {x, k}, new int[] {y});
        g.inputs(x).outputs(y);
        return write(dir.resolve("add-int32.tflite"), g.toBytes());
    }

    /**
     * TFLite: a one-unit RNN with weights 1, recurrent weight 1, bias 0 and no activation, so
     * {@code y = x + h} and then {@code h = y}, where {@code h} is a variable tensor (zero at the
     * start) that the runtime keeps across invocations: a stateful model. Run on {@code x = 1}
     * three times without resetting the state it answers 1, 2, 3; with a reset before each run, 1.
     * Shapes are fixed ({@code x[1,1] → y[1,1]}), so no resize re-allocates (and so zeroes) the state.
     */
    public static Path accumulatorTflite(Path dir) {
        TfliteGraph g = new TfliteGraph();
        int x = g.tensor("x", TfliteGraph.Type.FLOAT32, 1, 1);
        int w = g.constant("W", TfliteGraph.Type.FLOAT32, new int[] {1, 1}, floats(1f), null);
        int r = g.constant("R", TfliteGraph.Type.FLOAT32, new int[] {1, 1}, floats(1f), null);
        int b = g.constant("b", TfliteGraph.Type.FLOAT32, new int[] {1}, floats(0f), null);
        int h = g.variable("h", TfliteGraph.Type.FLOAT32, 1, 1);
        int y = g.tensor("y", TfliteGraph.Type.FLOAT32, 1, 1);
        g.op(TfliteGraph.Op.RNN, new int[] {x, w, r, b, h}, new int[] {y});
        g.inputs(x).outputs(y);
        return write(dir.resolve("accumulator.tflite"), g.toBytes());
    }

    /**
     * TFLite: a real LSTM ({@code UNIDIRECTIONAL_SEQUENCE_LSTM}) with one input, one cell and one
     * output unit, every weight 1, biases 0, activation tanh, no peepholes, projection or layer
     * norm: {@code x[1,1,1]} (batch, time, feature) → {@code y[1,1,1]}. Its output and cell state
     * live in variable tensors, so on a bare interpreter each run continues from the last one:
     * see {@link #lstmStep} for one step computed in Java.
     */
    public static Path lstmTflite(Path dir) {
        TfliteGraph g = new TfliteGraph();
        TfliteGraph.Type f = TfliteGraph.Type.FLOAT32;
        int x = g.tensor("x", f, 1, 1, 1);
        int[] in = new int[24];
        java.util.Arrays.fill(in, -1);
        in[0] = x;
        String[] gates = {"input", "forget", "cell", "output"};
        for (int k = 0; k < 4; k++) {
            in[1 + k] = g.constant(gates[k] + "_w", f, new int[] {1, 1}, floats(1f), null);
            in[5 + k] = g.constant(gates[k] + "_r", f, new int[] {1, 1}, floats(1f), null);
            in[12 + k] = g.constant(gates[k] + "_b", f, new int[] {1}, floats(0f), null);
        }
        in[18] = g.variable("output_state", f, 1, 1);
        in[19] = g.variable("cell_state", f, 1, 1);
        int y = g.tensor("y", f, 1, 1, 1);
        g.op(TfliteGraph.Op.UNIDIRECTIONAL_SEQUENCE_LSTM, in, new int[] {y});
        g.inputs(x).outputs(y);
        return write(dir.resolve("lstm.tflite"), g.toBytes());
    }

    /**
     * One step of {@link #lstmTflite}'s cell, in Java: with {@code z = x + h},
     * {@code c' = σ(z)·c + σ(z)·tanh(z)} and {@code h' = σ(z)·tanh(c')}.
     *
     * @return {@code {h', c'}}
     */
    public static double[] lstmStep(double x, double h, double c) {
        double z = x + h;
        double s = 1 / (1 + Math.exp(-z));
        double cell = s * c + s * Math.tanh(z);
        return new double[] {s * Math.tanh(cell), cell};
    }

    /**
     * ONNX: {@code y = a[N,4] + b[N,4]}: two inputs whose batch dimension carries one symbolic
     * name ({@code N}), so a request must give both the same number of rows.
     */
    public static Path addOnnx(Path dir) {
        byte[] model = OnnxGraph.create("add")
                .input("a", DataType.FP32, -1, 4)
                .input("b", DataType.FP32, -1, 4)
                .node("Add", List.of("a", "b"), List.of("y"))
                .output("y", DataType.FP32, -1, 4)
                .toBytes();
        return write(dir.resolve("add.onnx"), model);
    }

    /** TFLite: {@code y = a[-1,4] + b[-1,4]}; TFLite names no dimensions, so nothing declares the tie. */
    public static Path addTflite(Path dir) {
        TfliteGraph g = new TfliteGraph();
        int a = g.tensor("a", TfliteGraph.Type.FLOAT32, -1, 4);
        int b = g.tensor("b", TfliteGraph.Type.FLOAT32, -1, 4);
        int y = g.tensor("y", TfliteGraph.Type.FLOAT32, -1, 4);
        g.op(TfliteGraph.Op.ADD, new int[] {a, b}, new int[] {y});
        g.inputs(a, b).outputs(y);
        return write(dir.resolve("add.tflite"), g.toBytes());
    }

    /**
     * ONNX: {@code y = Relu(Gemm(x[N,size], W[size,size], B))} with deterministic weights: a model
     * with {@code 4 * size * size} bytes of weights, for memory and speed measurements.
     */
    public static Path denseOnnx(Path dir, int size) {
        byte[] model = OnnxGraph.create("dense" + size)
                .input("x", DataType.FP32, -1, size)
                .initializer("W", DataType.FP32, new long[] {size, size}, floats(denseWeights(size)))
                .initializer("B", DataType.FP32, new long[] {size}, floats(new float[size]))
                .node("Gemm", List.of("x", "W", "B"), List.of("h"))
                .node("Relu", List.of("h"), List.of("y"))
                .output("y", DataType.FP32, -1, size)
                .toBytes();
        return write(dir.resolve("dense" + size + ".onnx"), model);
    }

    /** TFLite: {@code y = RELU(FULLY_CONNECTED(x[-1,size], W, B))}, the same function as {@link #denseOnnx}. */
    public static Path denseTflite(Path dir, int size) {
        float[] w = denseWeights(size);
        float[] wt = new float[w.length];
        for (int i = 0; i < size; i++) {
            for (int o = 0; o < size; o++) {
                wt[o * size + i] = w[i * size + o];
            }
        }
        TfliteGraph g = new TfliteGraph();
        int x = g.tensor("x", TfliteGraph.Type.FLOAT32, -1, size);
        int wi = g.constant("W", TfliteGraph.Type.FLOAT32, new int[] {size, size}, floats(wt), null);
        int b = g.constant("B", TfliteGraph.Type.FLOAT32, new int[] {size}, floats(new float[size]), null);
        int h = g.tensor("h", TfliteGraph.Type.FLOAT32, -1, size);
        int y = g.tensor("y", TfliteGraph.Type.FLOAT32, -1, size);
        g.op(TfliteGraph.Op.FULLY_CONNECTED, new int[] {x, wi, b}, new int[] {h});
        g.op(TfliteGraph.Op.RELU, new int[] {h}, new int[] {y});
        g.inputs(x).outputs(y);
        return write(dir.resolve("dense" + size + ".tflite"), g.toBytes());
    }

    /**
     * ONNX: {@code layers} times {@code h = Relu(Gemm(h, W, B))} on a fixed-shape {@code x[batch,size]}
     * (the dense weights of {@link #denseOnnx}, shared by every layer). The cost grows linearly with
     * {@code layers} while the signature stays the same, so {@code mlpOnnx(d, b, s, 10)} is a
     * genuinely ten times slower version of {@code mlpOnnx(d, b, s, 1)}: what the self-test and the
     * watchdog must catch. The shape is fixed so that a run on zeros (the self-test's input) costs
     * what a request does.
     */
    public static Path mlpOnnx(Path dir, int batch, int size, int layers) {
        if (layers < 1) {
            throw new IllegalArgumentException("layers must be >= 1, got " + layers);
        }
        OnnxGraph g = OnnxGraph.create("mlp" + size + "x" + layers)
                .input("x", DataType.FP32, batch, size)
                .initializer("W", DataType.FP32, new long[] {size, size}, floats(denseWeights(size)))
                .initializer("B", DataType.FP32, new long[] {size}, floats(new float[size]));
        String h = "x";
        for (int l = 0; l < layers; l++) {
            String out = l == layers - 1 ? "y" : "h" + l;
            g.node("Gemm", List.of(h, "W", "B"), List.of("g" + l));
            g.node("Relu", List.of("g" + l), List.of(out));
            h = out;
        }
        g.output("y", DataType.FP32, batch, size);
        return write(dir.resolve("mlp" + size + "x" + layers + ".onnx"), g.toBytes());
    }

    /**
     * ONNX: a MobileNet-v1-style convolutional classifier (half width, {@code side}×{@code side} RGB):
     * input {@code x} FP32 {@code [N,3,side,side]} (NCHW) → output {@code y} FP32 {@code [N,10]} logits.
     * A 3×3 stride-2 convolution to 16 channels, then seven depthwise-separable blocks (3×3
     * depthwise + 1×1 pointwise, each with ReLU; four of them stride 2) up to 256 channels, global
     * average pooling and a 256×10 Gemm. Deterministic weights; at {@code side = 128} about 40 M
     * multiply-adds per image, the cost profile of a small MobileNet (the cloud batching benchmark's
     * model). {@code side} must be a multiple of 32.
     */
    public static Path mobileNetOnnx(Path dir, int side) {
        if (side < 32 || side % 32 != 0) {
            throw new IllegalArgumentException("side must be a positive multiple of 32, got " + side);
        }
        OnnxGraph g = OnnxGraph.create("mobilenet" + side).input("x", DataType.FP32, -1, 3, side, side);
        String h = conv(g, "x", "c0", 3, 16, 3, 2, 1);
        int[][] blocks = {{16, 32, 1}, {32, 64, 2}, {64, 64, 1}, {64, 128, 2}, {128, 128, 1}, {128, 256, 2}, {256, 256, 2}};
        for (int i = 0; i < blocks.length; i++) {
            int in = blocks[i][0];
            h = conv(g, h, "dw" + i, in, in, 3, blocks[i][2], in);
            h = conv(g, h, "pw" + i, in, blocks[i][1], 1, 1, 1);
        }
        g.node("GlobalAveragePool", List.of(h), List.of("gap"));
        g.node("Flatten", List.of("gap"), List.of("flat"), Map.of("axis", 1L));
        g.initializer("fcW", DataType.FP32, new long[] {256, 10}, floats(pattern(256 * 10, 1f / 16)));
        g.initializer("fcB", DataType.FP32, new long[] {10}, floats(new float[10]));
        g.node("Gemm", List.of("flat", "fcW", "fcB"), List.of("y"));
        g.output("y", DataType.FP32, -1, 10);
        return write(dir.resolve("mobilenet" + side + ".onnx"), g.toBytes());
    }

    /** Conv (with {@code group} groups, same padding) + Relu; returns the output's name. */
    private static String conv(OnnxGraph g, String in, String name, int cin, int cout, int k, int stride, int group) {
        int fan = cin / group * k * k;
        g.initializer(name + "W", DataType.FP32, new long[] {cout, cin / group, k, k},
                floats(pattern(cout * (cin / group) * k * k, (float) Math.sqrt(2.0 / fan))));
        g.initializer(name + "B", DataType.FP32, new long[] {cout}, floats(new float[cout]));
        long pad = k / 2;
        g.node("Conv", List.of(in, name + "W", name + "B"), List.of(name + "c"), Map.of("kernel_shape", new long[] {k, k},
                "strides", new long[] {stride, stride}, "pads", new long[] {pad, pad, pad, pad}, "group", (long) group));
        g.node("Relu", List.of(name + "c"), List.of(name));
        return name;
    }

    /** {@code n} deterministic values in {@code [-scale, scale]}. */
    private static float[] pattern(int n, float scale) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = ((i * 37 % 17) - 8) / 8f * scale;
        }
        return w;
    }

    /** {@code W[i][o]} of the dense models, row-major: small values in [-0.06, 0.06]. */
    static float[] denseWeights(int size) {
        float[] w = new float[size * size];
        for (int i = 0; i < size; i++) {
            for (int o = 0; o < size; o++) {
                w[i * size + o] = ((i * 31 + o * 17) % 13 - 6) / 100f;
            }
        }
        return w;
    }

    /** The expected output of the classifier for one row, computed in Java (softmax of xW + B). */
    public static float[] classify(float[] x) {
        double[] logits = new double[3];
        for (int j = 0; j < 3; j++) {
            logits[j] = B[j];
            for (int i = 0; i < 4; i++) {
                logits[j] += x[i] * W[i][j];
            }
        }
        double max = Math.max(logits[0], Math.max(logits[1], logits[2]));
        double z = 0;
        for (int j = 0; j < 3; j++) {
            logits[j] = Math.exp(logits[j] - max);
            z += logits[j];
        }
        return new float[] {(float) (logits[0] / z), (float) (logits[1] / z), (float) (logits[2] / z)};
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    private static Path write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
