package io.edgefleet.sim;

import io.edgefleet.engines.synth.OnnxGraph;
import io.edgefleet.protocols.oip.DataType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The simulator's model family: a 3-class classifier of 16 sensor features, as a two-layer ONNX
 * network {@code softmax(relu(x·P)·Q)}. The first layer {@code P = [A, -A]} is a fixed random
 * feature "backbone" (512 KiB) shared by every version; the head {@code Q = [B; -B]} (96 KiB) is
 * what a retraining changes, with {@code A·B = W}, so the network computes exactly
 * {@code softmax(x·W)}. Versions differ only in W, so a new version shares the backbone's chunks
 * with the old one and model sync moves little more than the head.
 *
 * <p>Labels come from the true weights {@link #truth}; the cloud model is the true weights, the
 * edge versions are the true weights plus noise (v1 more than v2), and the "uncalibrated" kind
 * has the argmax of the good one with logits divided by ten: its confidence collapses, which is
 * what a lost temperature-scaling step does.
 */
public final class ActivityModels {
    public static final int FEATURES = 16;
    public static final int CLASSES = 3;
    static final int HIDDEN = 4096; // A is FEATURES x HIDDEN; the network's hidden layer is 2 x HIDDEN wide

    /** What a registered version is. */
    public enum Kind {
        /** the true weights: the cloud's model */
        EXACT(0.0, 1.0),
        /** noisy weights, the first edge model */
        ROUGH(0.9, 1.0),
        /** less noise: the retrained edge model */
        GOOD(0.3, 1.0),
        /** the good model's argmax with a tenth of its confidence */
        UNCALIBRATED(0.3, 0.1);

        final double noise;
        final double scale;

        Kind(double noise, double scale) {
            this.noise = noise;
            this.scale = scale;
        }

        public static Kind parse(String s) {
            try {
                return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown model kind '" + s + "' (exact, rough, good, uncalibrated)");
            }
        }
    }

    private final float[][] truth = new float[FEATURES][CLASSES];
    private final float[][] a = new float[FEATURES][HIDDEN];
    private final float[][] noise = new float[FEATURES][CLASSES];
    private final float[][] roughNoise = new float[FEATURES][CLASSES];

    public ActivityModels(long seed) {
        Random r = new Random(seed);
        for (int i = 0; i < FEATURES; i++) {
            for (int j = 0; j < CLASSES; j++) {
                truth[i][j] = (float) r.nextGaussian();
                noise[i][j] = (float) r.nextGaussian();
                roughNoise[i][j] = (float) r.nextGaussian();
            }
            for (int h = 0; h < HIDDEN; h++) {
                a[i][h] = (float) (r.nextGaussian() / Math.sqrt(HIDDEN));
            }
        }
    }

    /** The label of an input: the argmax of x·W with the true weights. */
    public int truth(float[] x) {
        return argmax(logits(x, truth));
    }

    /**
     * The weights a kind of model computes with: the true weights plus the kind's noise, rescaled
     * to the true weights' norm (versions differ in accuracy, not in temperature: without this,
     * noisier weights are larger and the rough model is the most confident one), times the kind's
     * scale.
     */
    float[][] weights(Kind kind) {
        float[][] w = new float[FEATURES][CLASSES];
        float[][] n = kind == Kind.ROUGH ? roughNoise : noise;
        double normW = 0;
        double normT = 0;
        for (int i = 0; i < FEATURES; i++) {
            for (int j = 0; j < CLASSES; j++) {
                double v = truth[i][j] + kind.noise * n[i][j];
                normW += v * v;
                normT += (double) truth[i][j] * truth[i][j];
            }
        }
        double k = Math.sqrt(normT / normW) * kind.scale;
        for (int i = 0; i < FEATURES; i++) {
            for (int j = 0; j < CLASSES; j++) {
                w[i][j] = (float) ((truth[i][j] + kind.noise * n[i][j]) * k);
            }
        }
        return w;
    }

    /** What the model of that kind answers for x (probabilities), computed here without a runtime. */
    public float[] expected(Kind kind, float[] x) {
        return softmax(logits(x, weights(kind)));
    }

    /** Standard-normal inputs (like the scenario's input set) on which {@link #weights(Kind, double)} measures disagreement. */
    private static final int PROBE_INPUTS = 20_000;

    /**
     * The kind's weights turned towards a fixed random direction until their top-1 class differs from the kind's own on
     * {@code disagree} of standard-normal inputs (the simulator's input distribution): {@code cos θ·W + sin θ·R} with
     * {@code R} a random matrix of W's norm, θ found by bisection on {@value #PROBE_INPUTS} seeded inputs (the share is
     * met within about 0.5 %). The answer a shadow wave's agreement measures, by construction: a candidate "disagreeing
     * on 30 %" agrees with the active version on about 70 % of requests. {@code disagree} 0 is the kind itself.
     *
     * @param disagree the share of inputs, in [0, 0.6] (two random 3-class boundaries disagree on about 2/3)
     * @throws IllegalArgumentException for a share outside [0, 0.6]
     */
    float[][] weights(Kind kind, double disagree) {
        if (!(disagree >= 0 && disagree <= 0.6)) {
            throw new IllegalArgumentException("disagree must be in [0, 0.6], got " + disagree);
        }
        float[][] w = weights(kind);
        if (disagree == 0) {
            return w;
        }
        Random r = new Random(0x5eed_d15aL);
        float[][] rnd = new float[FEATURES][CLASSES];
        double normW = 0;
        double normR = 0;
        for (int i = 0; i < FEATURES; i++) {
            for (int j = 0; j < CLASSES; j++) {
                rnd[i][j] = (float) r.nextGaussian();
                normW += (double) w[i][j] * w[i][j];
                normR += (double) rnd[i][j] * rnd[i][j];
            }
        }
        double k = Math.sqrt(normW / normR);
        float[][] probe = new float[PROBE_INPUTS][FEATURES];
        int[] top = new int[PROBE_INPUTS];
        for (int n = 0; n < PROBE_INPUTS; n++) {
            for (int i = 0; i < FEATURES; i++) {
                probe[n][i] = (float) r.nextGaussian();
            }
            top[n] = argmax(logits(probe[n], w));
        }
        double lo = 0;
        double hi = Math.PI / 2;
        float[][] best = w;
        for (int step = 0; step < 40; step++) {
            double theta = (lo + hi) / 2;
            float[][] c = new float[FEATURES][CLASSES];
            for (int i = 0; i < FEATURES; i++) {
                for (int j = 0; j < CLASSES; j++) {
                    c[i][j] = (float) (Math.cos(theta) * w[i][j] + Math.sin(theta) * k * rnd[i][j]);
                }
            }
            int differ = 0;
            for (int n = 0; n < PROBE_INPUTS; n++) {
                differ += argmax(logits(probe[n], c)) != top[n] ? 1 : 0;
            }
            best = c;
            if ((double) differ / PROBE_INPUTS < disagree) {
                lo = theta;
            } else {
                hi = theta;
            }
        }
        return best;
    }

    /** Writes the ONNX model of that kind as {@code dir/name.onnx}. */
    public Path write(Path dir, String name, Kind kind) {
        return write(dir, name, kind, 0);
    }

    /**
     * Writes the ONNX model of that kind, disagreeing with the kind's own top-1 class on {@code disagree} of the inputs
     * ({@link #weights(Kind, double)}), as {@code dir/name.onnx}.
     */
    public Path write(Path dir, String name, Kind kind, double disagree) {
        float[][] w = weights(kind, disagree);
        double[][] b = head(w); // HIDDEN x CLASSES with A·B = W
        ByteBuffer p = ByteBuffer.allocate(FEATURES * 2 * HIDDEN * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < FEATURES; i++) {
            for (int h = 0; h < HIDDEN; h++) {
                p.putFloat(a[i][h]);
            }
            for (int h = 0; h < HIDDEN; h++) {
                p.putFloat(-a[i][h]);
            }
        }
        ByteBuffer q = ByteBuffer.allocate(2 * HIDDEN * CLASSES * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int sign : new int[] {1, -1}) {
            for (int h = 0; h < HIDDEN; h++) {
                for (int j = 0; j < CLASSES; j++) {
                    q.putFloat((float) (sign * b[h][j]));
                }
            }
        }
        byte[] model = OnnxGraph.create("activity")
                .input("x", DataType.FP32, -1, FEATURES)
                .initializer("P", DataType.FP32, new long[] {FEATURES, 2L * HIDDEN}, p.array())
                .initializer("Q", DataType.FP32, new long[] {2L * HIDDEN, CLASSES}, q.array())
                .node("MatMul", List.of("x", "P"), List.of("h"))
                .node("Relu", List.of("h"), List.of("r"))
                .node("MatMul", List.of("r", "Q"), List.of("logits"))
                .node("Softmax", List.of("logits"), List.of("probs"), Map.of("axis", 1L))
                .output("probs", DataType.FP32, -1, CLASSES)
                .toBytes();
        try {
            Files.createDirectories(dir);
            return Files.write(dir.resolve(name + ".onnx"), model);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** B = Aᵀ (A Aᵀ)⁻¹ W: the least-norm head with A·B = W (A has full row rank). */
    private double[][] head(float[][] w) {
        double[][] g = new double[FEATURES][FEATURES];
        for (int i = 0; i < FEATURES; i++) {
            for (int k = 0; k < FEATURES; k++) {
                double s = 0;
                for (int h = 0; h < HIDDEN; h++) {
                    s += (double) a[i][h] * a[k][h];
                }
                g[i][k] = s;
            }
        }
        double[][] c = solve(g, w); // FEATURES x CLASSES: (A Aᵀ) C = W
        double[][] b = new double[HIDDEN][CLASSES];
        for (int h = 0; h < HIDDEN; h++) {
            for (int j = 0; j < CLASSES; j++) {
                double s = 0;
                for (int i = 0; i < FEATURES; i++) {
                    s += a[i][h] * c[i][j];
                }
                b[h][j] = s;
            }
        }
        return b;
    }

    /** Gauss-Jordan with partial pivoting: G X = W. */
    private static double[][] solve(double[][] g, float[][] w) {
        int n = g.length;
        int m = w[0].length;
        double[][] aug = new double[n][n + m];
        for (int i = 0; i < n; i++) {
            System.arraycopy(g[i], 0, aug[i], 0, n);
            for (int j = 0; j < m; j++) {
                aug[i][n + j] = w[i][j];
            }
        }
        for (int col = 0; col < n; col++) {
            int piv = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(aug[r][col]) > Math.abs(aug[piv][col])) {
                    piv = r;
                }
            }
            double[] t = aug[col];
            aug[col] = aug[piv];
            aug[piv] = t;
            double d = aug[col][col];
            for (int j = 0; j < n + m; j++) {
                aug[col][j] /= d;
            }
            for (int r = 0; r < n; r++) {
                if (r != col && aug[r][col] != 0) {
                    double f = aug[r][col];
                    for (int j = 0; j < n + m; j++) {
                        aug[r][j] -= f * aug[col][j];
                    }
                }
            }
        }
        double[][] x = new double[n][m];
        for (int i = 0; i < n; i++) {
            System.arraycopy(aug[i], n, x[i], 0, m);
        }
        return x;
    }

    static float[] logits(float[] x, float[][] w) {
        float[] out = new float[CLASSES];
        for (int j = 0; j < CLASSES; j++) {
            double s = 0;
            for (int i = 0; i < FEATURES; i++) {
                s += x[i] * w[i][j];
            }
            out[j] = (float) s;
        }
        return out;
    }

    static float[] softmax(float[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] e = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            e[i] = Math.exp(z[i] - max);
            sum += e[i];
        }
        float[] p = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = (float) (e[i] / sum);
        }
        return p;
    }

    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    /** A fixed, labelled input set: standard-normal features, labels by the true weights. */
    public record InputSet(float[][] inputs, int[] labels) {
        public static InputSet of(ActivityModels models, int size, long seed) {
            Random r = new Random(seed);
            float[][] x = new float[size][FEATURES];
            int[] y = new int[size];
            for (int n = 0; n < size; n++) {
                for (int i = 0; i < FEATURES; i++) {
                    x[n][i] = (float) r.nextGaussian();
                }
                y[n] = models.truth(x[n]);
            }
            return new InputSet(x, y);
        }

        public int size() {
            return labels.length;
        }
    }
}
