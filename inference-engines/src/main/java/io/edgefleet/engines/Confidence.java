package io.edgefleet.engines;

import io.edgefleet.protocols.manifest.Quantization;
import io.edgefleet.protocols.oip.TensorData;
import java.util.Optional;

/**
 * How sure a classifier is, from its output scores. Quantized scores are dequantized with the
 * model's parameters first; scores that are not already a probability distribution (negative, or
 * not summing to 1 within 1e-3, or within one quantization step per class for quantized scores)
 * go through a softmax. The fallback policy compares one of these
 * measures with a threshold.
 *
 * @param argmax index of the top class
 * @param maxProbability probability of the top class, 0..1
 * @param margin top probability minus the second, 0..1 (1 for a single class)
 * @param entropy Shannon entropy in nats
 * @param normalizedEntropy entropy divided by ln(classes): 0 = certain, 1 = uniform
 */
public record Confidence(int argmax, double maxProbability, double margin, double entropy, double normalizedEntropy) {

    /** Confidence of the first row of a classifier output ({@code [classes]} or {@code [batch, classes]}). */
    public static Confidence of(TensorData scores, Optional<Quantization> quantization) {
        long[] shape = scores.shape();
        int classes = shape.length == 0 ? 1 : (int) shape[shape.length - 1];
        if (classes < 1) {
            throw new IllegalArgumentException("no classes in a tensor of shape " + java.util.Arrays.toString(shape));
        }
        float[] all = quantization.isPresent() && scores.type().isInteger()
                ? Quantize.dequantize(scores, quantization.get())
                : scores.toFloatArray();
        float[] row = java.util.Arrays.copyOf(all, classes);
        // Quantized probabilities are off by up to half a step each: allow that much before calling them logits.
        double tolerance = Math.max(1e-3, quantization.map(q -> q.scale() * classes).orElse(0.0));
        return ofScores(row, tolerance);
    }

    /** Confidence of one row of scores (probabilities or logits). */
    public static Confidence ofScores(float[] scores) {
        return ofScores(scores, 1e-3);
    }

    private static Confidence ofScores(float[] scores, double tolerance) {
        double[] p = probabilities(scores, tolerance);
        int top = 0;
        for (int i = 1; i < p.length; i++) {
            if (p[i] > p[top]) {
                top = i;
            }
        }
        double second = 0;
        for (int i = 0; i < p.length; i++) {
            if (i != top) {
                second = Math.max(second, p[i]);
            }
        }
        double h = 0;
        for (double x : p) {
            if (x > 0) {
                h -= x * Math.log(x);
            }
        }
        double norm = p.length > 1 ? h / Math.log(p.length) : 0;
        return new Confidence(top, p[top], p.length > 1 ? p[top] - second : 1.0, h, norm);
    }

    static double[] probabilities(float[] s, double tolerance) {
        double sum = 0;
        boolean distribution = true;
        for (float v : s) {
            if (!Float.isFinite(v) || v < 0 || v > 1) {
                distribution = false;
            }
            sum += v;
        }
        double[] p = new double[s.length];
        if (distribution && Math.abs(sum - 1) <= tolerance) {
            for (int i = 0; i < s.length; i++) {
                p[i] = s[i] / sum;
            }
            return p;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float v : s) {
            max = Math.max(max, v);
        }
        double z = 0;
        for (int i = 0; i < s.length; i++) {
            p[i] = Math.exp(s[i] - max);
            z += p[i];
        }
        for (int i = 0; i < s.length; i++) {
            p[i] /= z;
        }
        return p;
    }
}
