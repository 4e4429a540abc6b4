package io.edgefleet.agent.store;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A candidate the agent keeps loaded next to a model's active version, as its store records it (issue 20): a shadow
 * (docs/shadow.md) or arm B of an A/B experiment (docs/ab.md).
 *
 * @param role {@code shadow} or {@code arm-b}
 * @param file the candidate's file in the data folder
 * @param sha256 the file's SHA-256 (lowercase hex) when it was verified against its signed manifest; a reload after a
 *     restart refuses a file that no longer has it
 * @param commandId the command that loaded it (its payload, in the store's commands, names the rollout or experiment)
 */
public record CandidateRecord(String model, String role, String version, Path file, String sha256, String commandId) {
    public CandidateRecord {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(commandId, "commandId");
    }
}
