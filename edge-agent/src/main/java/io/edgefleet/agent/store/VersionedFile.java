package io.edgefleet.agent.store;

import java.nio.file.Path;
import java.util.Objects;

/** A model version and the file in the data folder that holds it. */
public record VersionedFile(String version, Path file) {
    public VersionedFile {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(file, "file");
    }
}
