package io.edgefleet.sync;

import io.edgefleet.protocols.manifest.Accelerator;
import io.edgefleet.protocols.manifest.ChunkRef;
import io.edgefleet.protocols.manifest.Manifest;
import io.edgefleet.protocols.manifest.ManifestVariant;
import io.edgefleet.protocols.manifest.Precision;
import io.edgefleet.protocols.manifest.TensorSpec;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.chunks.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Chunks variant files into a store and describes them in an (unsigned) manifest. */
public final class ManifestBuilder {
    private final String model;
    private final String version;
    private final String keyId;
    private final List<ManifestVariant> variants = new ArrayList<>();
    private final ChunkStore store;

    public ManifestBuilder(ChunkStore store, String model, String version, String keyId) {
        this.store = store;
        this.model = model;
        this.version = version;
        this.keyId = keyId;
    }

    /** Adds a variant: its file is chunked into the store. */
    public ManifestBuilder variant(String id, Path file, String runtime, Optional<String> runtimeVersion, Precision precision,
            Optional<Accelerator> accelerator, List<String> targetProfiles, List<TensorSpec> inputs, List<TensorSpec> outputs) {
        List<ChunkRef> chunks = store.putFile(file).stream().map(c -> new ChunkRef(c.sha256(), c.sizeBytes())).toList();
        try {
            byte[] all = Files.readAllBytes(file);
            variants.add(new ManifestVariant(id, runtime, runtimeVersion, precision, accelerator, targetProfiles, inputs, outputs,
                    all.length, Sha256.hex(all), chunks));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /**
     * The precision a variant computes in, judged from its signature: integer-quantized when its
     * first input is int8/uint8, half when fp16, else fp32. (A model with fp16 weights but fp32
     * inputs reads as fp32: say the precision explicitly when registering such a file.)
     */
    public static Precision precisionOf(List<TensorSpec> inputs) {
        if (inputs.isEmpty()) {
            return Precision.FP32;
        }
        return switch (inputs.get(0).datatype()) {
            case INT8, UINT8 -> Precision.INT8;
            case FP16 -> Precision.FP16;
            default -> Precision.FP32;
        };
    }

    public Manifest build(Instant createdAt, Optional<Instant> expiresAt) {
        return new Manifest(Manifest.SCHEMA_VERSION, model, version, createdAt, keyId, expiresAt, variants, Optional.empty());
    }
}
