package io.edgefleet.profiles.probe;

/**
 * Checks whether one model runtime loads in this process. Implementations must not throw and
 * must not crash when the runtime is absent: they report it.
 */
public interface RuntimeProbe {
    /** Runtime id as manifests and profiles name it, e.g. {@code onnxruntime}. */
    String runtime();

    RuntimeStatus probe();
}
