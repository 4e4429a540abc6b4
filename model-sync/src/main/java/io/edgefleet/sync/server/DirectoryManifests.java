package io.edgefleet.sync.server;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Manifests as files {@code {root}/{model}/{version}.json}. */
public final class DirectoryManifests implements ManifestSource {
    private final Path root;

    public DirectoryManifests(Path root) {
        this.root = root;
    }

    public void put(String model, String version, byte[] json) {
        try {
            Path f = Files.createDirectories(root.resolve(Checks.id(model, "model"))).resolve(Checks.id(version, "version") + ".json");
            Files.write(f, json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public Optional<byte[]> manifest(String model, String version) {
        try {
            Checks.id(model, "model");
            Checks.id(version, "version");
        } catch (ProtocolException e) {
            return Optional.empty();
        }
        Path f = root.resolve(model).resolve(version + ".json");
        try {
            return Files.isRegularFile(f) ? Optional.of(Files.readAllBytes(f)) : Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
