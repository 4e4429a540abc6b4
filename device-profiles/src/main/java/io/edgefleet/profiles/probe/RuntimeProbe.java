package io.edgefleet.profiles.probe;

/**
 * Checks whether one model runtime loads. Implementations must not throw and must not crash when
 * the runtime is absent: they report it with the reason.
 *
 * <p>For this JVM's platform the probe loads the runtime's native library for real. For another
 * platform ({@link Platform#isCurrent()} false) it cannot: it reports whether a native library for
 * that platform ships on the class path or is configured, and says in the detail that it was not loaded.
 */
public interface RuntimeProbe {
    /** Runtime id as manifests and profiles name it, e.g. {@code onnxruntime}. */
    String runtime();

    RuntimeStatus probe(ProbeInputs inputs);
}
