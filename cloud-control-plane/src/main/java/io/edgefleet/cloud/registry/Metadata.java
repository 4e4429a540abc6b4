package io.edgefleet.cloud.registry;

import java.util.List;
import java.util.Optional;

/**
 * What a registration says about a model version besides its files.
 *
 * @param task e.g. {@code keyword-spotting}, {@code classification}
 * @param labels the class labels, in output order
 * @param owner who answers for the model
 * @param description free text
 */
public record Metadata(Optional<String> task, List<String> labels, Optional<String> owner, Optional<String> description) {
    public Metadata {
        task = task == null ? Optional.empty() : task;
        labels = labels == null ? List.of() : List.copyOf(labels);
        owner = owner == null ? Optional.empty() : owner;
        description = description == null ? Optional.empty() : description;
    }

    public static Metadata empty() {
        return new Metadata(Optional.empty(), List.of(), Optional.empty(), Optional.empty());
    }
}
