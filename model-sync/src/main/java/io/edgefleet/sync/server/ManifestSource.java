package io.edgefleet.sync.server;

import java.util.Optional;

/** Where the sync server finds signed manifests (the registry, or a folder). */
public interface ManifestSource {
    /** The signed manifest's JSON bytes, if this model version exists. */
    Optional<byte[]> manifest(String model, String version);
}
