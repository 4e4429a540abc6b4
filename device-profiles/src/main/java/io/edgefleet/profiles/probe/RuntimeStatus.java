package io.edgefleet.profiles.probe;

import java.util.List;
import java.util.Optional;

/**
 * Whether a runtime loads here.
 *
 * @param runtime runtime id
 * @param version its version when it loaded
 * @param detail why it did not load, or extra facts (execution providers) when it did
 * @param providers execution providers / delegates it offers, e.g. {@code CPU}, {@code CUDA}
 */
public record RuntimeStatus(String runtime, Optional<String> version, String detail, List<String> providers) {
    public RuntimeStatus {
        providers = List.copyOf(providers);
    }

    public boolean loaded() {
        return version.isPresent();
    }

    public static RuntimeStatus unavailable(String runtime, String why) {
        return new RuntimeStatus(runtime, Optional.empty(), why, List.of());
    }
}
