package io.edgefleet.profiles.select;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.manifest.Accelerator;
import io.edgefleet.protocols.manifest.ManifestVariant;
import io.edgefleet.protocols.manifest.Precision;
import java.util.List;
import java.util.Optional;

/**
 * What the selector needs to know of a model variant. A {@link ManifestVariant} converts with
 * {@link #of(ManifestVariant)}; a hand-written variants file uses the same field names, so a
 * manifest file is also a valid variants file.
 *
 * @param id unique among the model's variants
 * @param runtime runtime id, e.g. {@code tflite}
 * @param runtimeVersion the lowest runtime version that loads it, when it matters
 * @param precision what it computes in
 * @param accelerator hardware it needs, if it cannot run on the CPU
 * @param sizeBytes file size
 * @param targetProfiles profile ids it was built for; empty means any
 */
public record Variant(String id, String runtime, Optional<String> runtimeVersion, Precision precision,
        Optional<Accelerator> accelerator, long sizeBytes, List<String> targetProfiles) {
    public Variant {
        Checks.id(id, "id");
        Checks.id(runtime, "runtime");
        runtimeVersion = runtimeVersion == null ? Optional.empty() : runtimeVersion;
        Checks.required(precision, "precision");
        accelerator = accelerator == null ? Optional.empty() : accelerator;
        if (sizeBytes < 1) {
            throw new ProtocolException("sizeBytes", "must be >= 1, got " + sizeBytes);
        }
        targetProfiles = Checks.optionalList(targetProfiles, "targetProfiles");
    }

    public static Variant of(ManifestVariant v) {
        return new Variant(v.id(), v.runtime(), v.runtimeVersion(), v.precision(), v.accelerator(), v.sizeBytes(),
                v.targetProfiles());
    }

    /** e.g. {@code tflite-int8 (tflite>=2.6, int8, edge-tpu, 1.2 MB)}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(id).append(" (").append(runtime);
        runtimeVersion.ifPresent(v -> sb.append(">=").append(v));
        sb.append(", ").append(precision.wire());
        accelerator.ifPresent(a -> sb.append(", ").append(a.wire()));
        return sb.append(", ").append(Bytes.human(sizeBytes)).append(')').toString();
    }
}
