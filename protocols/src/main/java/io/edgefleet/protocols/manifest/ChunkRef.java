package io.edgefleet.protocols.manifest;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;

/** One content-addressed chunk of a variant file, in file order. */
public record ChunkRef(String sha256, long sizeBytes) {
    public ChunkRef {
        Checks.sha256(sha256, "sha256");
        if (sizeBytes <= 0) {
            throw new ProtocolException("sizeBytes", "must be > 0, got " + sizeBytes);
        }
    }
}
