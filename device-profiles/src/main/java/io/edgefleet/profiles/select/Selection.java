package io.edgefleet.profiles.select;

import java.util.List;
import java.util.Optional;

/**
 * The outcome of choosing a variant for a profile: the choice, if any, and a verdict on every
 * variant in ranked order (fitting ones first, best first), so the choice can be explained.
 *
 * @param profileId the profile chosen for
 * @param chosen the best fitting variant; empty when nothing fits
 * @param verdicts one per variant: fitting ones best first, then the refused ones in input order
 */
public record Selection(String profileId, Optional<Variant> chosen, List<Verdict> verdicts) {
    public Selection {
        verdicts = List.copyOf(verdicts);
    }

    /**
     * One line for a device that no variant fits: {@code no variant of model kws runs on pi-7:
     * kws-tflite-int8: tflite not loadable on the device (...); ...}, every refused variant with its reasons.
     */
    public String refusal(String model, String device) {
        StringBuilder sb = new StringBuilder("no variant of model ").append(model).append(" runs on ").append(device)
                .append(" (profile ").append(profileId).append(')');
        String sep = ": ";
        for (Verdict v : verdicts) {
            if (!v.fits()) {
                sb.append(sep).append(v.variant().id()).append(": ").append(String.join("; ", v.reasons()));
                sep = " | ";
            }
        }
        return sb.toString();
    }

    /** A few lines for an operator: what was chosen and why, or why nothing fits. */
    public String explain() {
        StringBuilder sb = new StringBuilder();
        if (chosen.isPresent()) {
            sb.append(profileId).append(": chose ").append(chosen.get().describe()).append('\n');
        } else {
            sb.append(profileId).append(": no variant fits\n");
        }
        for (Verdict v : verdicts) {
            boolean isChosen = chosen.isPresent() && chosen.get().equals(v.variant());
            sb.append(isChosen ? "  * " : v.fits() ? "  + " : "  - ").append(v.variant().describe())
                    .append(v.fits() ? (isChosen ? " chosen: " : " fits, ranked lower: ") : " refused: ")
                    .append(String.join("; ", v.reasons())).append('\n');
        }
        return sb.toString();
    }
}
