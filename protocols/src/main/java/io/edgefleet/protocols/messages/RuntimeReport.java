package io.edgefleet.protocols.messages;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import java.util.Optional;

/**
 * Whether a model runtime loads on a device, as its agent's host probe found: part of the
 * device's {@link DeviceState}, so the control plane knows which variants the device can run.
 *
 * @param runtime runtime id as manifests name it: {@code onnxruntime}, {@code tflite}
 * @param loadable whether its native library loaded on the device
 * @param version the runtime's version when loadable, e.g. {@code 1.23.2}
 * @param detail where the native came from when loadable, else why it does not load (e.g. "no TensorFlow
 *     Lite JNI library is bundled for linux/aarch64 ..."); at most 1,000 characters
 */
public record RuntimeReport(String runtime, boolean loadable, Optional<String> version, String detail) {
    /** Longest detail kept; a longer one is cut (a dlopen message can quote long paths). */
    public static final int MAX_DETAIL = 1000;

    public RuntimeReport {
        Checks.id(runtime, "runtime");
        version = version == null ? Optional.empty() : version;
        if (loadable && version.isEmpty()) {
            throw new ProtocolException("version", "is required when the runtime is loadable");
        }
        version.ifPresent(v -> Checks.requiredText(v, "version"));
        detail = detail == null ? "" : detail.length() > MAX_DETAIL ? detail.substring(0, MAX_DETAIL) : detail;
    }
}
