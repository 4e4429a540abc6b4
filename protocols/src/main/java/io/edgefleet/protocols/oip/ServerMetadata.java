package io.edgefleet.protocols.oip;

import java.util.List;
import java.util.Objects;

/** {@code GET /v2}: server name, version and the protocol extensions it supports. */
public record ServerMetadata(String name, String version, List<String> extensions) {
    public ServerMetadata {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        extensions = List.copyOf(extensions);
    }
}
