package io.edgefleet.cloud.registry;

import io.edgefleet.protocols.manifest.TensorSpec;
import java.util.List;

/**
 * One variant of a registered version, as the registry validated it.
 *
 * @param id the variant id in the manifest
 * @param fileName the uploaded file's name
 * @param runtime {@code tflite} or {@code onnxruntime}
 * @param validatedWith the runtime build that loaded it at registration, e.g. {@code 2.6.2}
 * @param warnings what validation could not check (e.g. a profile declaring an older runtime than the registry has)
 */
public record VariantInfo(String id, String fileName, String runtime, String validatedWith, String precision, long sizeBytes,
        String sha256, List<String> targetProfiles, List<TensorSpec> inputs, List<TensorSpec> outputs, List<String> warnings) {
    public VariantInfo {
        targetProfiles = List.copyOf(targetProfiles);
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        warnings = List.copyOf(warnings);
    }
}
