package io.edgefleet.sync.client;

/**
 * No variant of a model's manifest runs on this device: each is built for another profile, needs a
 * runtime the device lacks or cannot load (TFLite on linux/aarch64 without a configured JNI library),
 * another precision or accelerator, or is too large. Final: asking again gives the same answer until
 * the device or the manifest changes. The message names the model, the device and every variant's reasons.
 */
public final class NoVariantException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NoVariantException(String message) {
        super(message);
    }
}
