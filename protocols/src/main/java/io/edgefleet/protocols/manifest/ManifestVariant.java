package io.edgefleet.protocols.manifest;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import java.util.List;
import java.util.Optional;

/**
 * One file of a model version, built for one runtime and precision.
 *
 * @param id unique within the manifest, e.g. {@code tflite-int8}
 * @param runtime runtime id, e.g. {@code tflite} or {@code onnxruntime}
 * @param runtimeVersion the lowest runtime version that loads it, e.g. {@code 2.6}, when it matters
 * @param precision what it computes in
 * @param accelerator hardware it requires, when it cannot run on the CPU alone
 * @param targetProfiles device-profile ids it was built for; empty means any profile that can run it
 * @param inputs input signature
 * @param outputs output signature
 * @param sizeBytes file size; the sum of the chunk sizes
 * @param sha256 of the whole file
 * @param chunks the file's chunks, in order
 */
public record ManifestVariant(String id, String runtime, Optional<String> runtimeVersion, Precision precision,
        Optional<Accelerator> accelerator, List<String> targetProfiles, List<TensorSpec> inputs,
        List<TensorSpec> outputs, long sizeBytes, String sha256, List<ChunkRef> chunks) {
    public ManifestVariant {
        Checks.id(id, "id");
        Checks.id(runtime, "runtime");
        runtimeVersion = runtimeVersion == null ? Optional.empty() : runtimeVersion;
        Checks.required(precision, "precision");
        accelerator = accelerator == null ? Optional.empty() : accelerator;
        targetProfiles = Checks.optionalList(targetProfiles, "targetProfiles");
        for (int i = 0; i < targetProfiles.size(); i++) {
            Checks.id(targetProfiles.get(i), "targetProfiles[" + i + "]");
        }
        inputs = Checks.optionalList(inputs, "inputs");
        outputs = Checks.optionalList(outputs, "outputs");
        Checks.sha256(sha256, "sha256");
        chunks = Checks.list(chunks, "chunks");
        Checks.notEmpty(chunks, "chunks");
        long sum = 0;
        for (ChunkRef c : chunks) {
            sum += c.sizeBytes();
        }
        if (sum != sizeBytes) {
            throw new ProtocolException("sizeBytes", sizeBytes + " differs from the " + sum + " bytes of its chunks");
        }
    }
}
