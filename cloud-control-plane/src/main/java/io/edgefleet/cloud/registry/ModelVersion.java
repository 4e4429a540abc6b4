package io.edgefleet.cloud.registry;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A registered model version. Immutable once registered, except for its deprecation.
 *
 * @param status {@code active} or {@code deprecated}
 * @param targetProfiles the profiles the registration targeted; empty means any profile whose runtime fits
 */
public record ModelVersion(String model, String version, String status, List<String> targetProfiles, Metadata metadata,
        List<VariantInfo> variants, Instant createdAt, Optional<String> createdBy, Optional<Deprecation> deprecation) {
    public static final String ACTIVE = "active";
    public static final String DEPRECATED = "deprecated";

    public ModelVersion {
        targetProfiles = List.copyOf(targetProfiles);
        variants = List.copyOf(variants);
    }

    public boolean deprecated() {
        return DEPRECATED.equals(status);
    }

    /** Who deprecated the version, when and why. */
    public record Deprecation(Instant at, String by, String reason) {
    }
}
