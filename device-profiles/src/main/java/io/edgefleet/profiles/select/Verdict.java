package io.edgefleet.profiles.select;

import java.util.List;

/**
 * What the selector decided about one variant for one profile.
 *
 * @param variant the variant
 * @param fits whether the profile can run it
 * @param reasons why it does not fit (empty when it fits), or, when it fits, the facts that ranked it
 */
public record Verdict(Variant variant, boolean fits, List<String> reasons) {
    public Verdict {
        reasons = List.copyOf(reasons);
    }
}
