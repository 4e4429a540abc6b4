package io.edgefleet.profiles.select;

import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.profiles.RuntimeSupport;
import io.edgefleet.protocols.manifest.Accelerator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Picks the variant of a model that a device should run.
 *
 * <p>A variant <b>fits</b> a profile when all of these hold (each failure is reported):
 * <ol>
 *   <li>its {@code targetProfiles} is empty or names the profile;</li>
 *   <li>the profile has its runtime, at least at its {@code runtimeVersion}, and the runtime is not
 *       among those the device reported as not loadable (e.g. TFLite on a linux/aarch64 device
 *       without a configured JNI library);</li>
 *   <li>the profile computes in its precision;</li>
 *   <li>the profile has the accelerator it requires, if any;</li>
 *   <li>its size is at most the profile's {@code maxModelBytes}.</li>
 * </ol>
 * Among the variants that fit, the best is, in this order:
 * <ol>
 *   <li>one that uses an accelerator of the device over one that runs on the CPU only;</li>
 *   <li>the precision the device runs fastest (earliest in the profile's {@code precisions});</li>
 *   <li>the smallest file (less to download, less memory);</li>
 *   <li>the smallest id, so the choice is deterministic.</li>
 * </ol>
 * Stateless and thread-safe.
 */
public final class VariantSelector {
    private VariantSelector() {
    }

    public static Selection select(DeviceProfile profile, List<Variant> variants) {
        return select(profile, variants, java.util.Map.of());
    }

    /**
     * Chooses as {@link #select(DeviceProfile, List)} does, never a variant whose runtime is a key of
     * {@code notLoadable}: runtime id → why it cannot load on the device (the host probe's reason),
     * which the refusal quotes.
     */
    public static Selection select(DeviceProfile profile, List<Variant> variants, java.util.Map<String, String> notLoadable) {
        List<Verdict> fitting = new ArrayList<>();
        List<Verdict> refused = new ArrayList<>();
        for (Variant v : variants) {
            List<String> problems = problems(profile, v, notLoadable);
            if (problems.isEmpty()) {
                fitting.add(new Verdict(v, true, rankFacts(profile, v)));
            } else {
                refused.add(new Verdict(v, false, problems));
            }
        }
        fitting.sort(Comparator.comparing(Verdict::variant, ranking(profile)));
        List<Verdict> all = new ArrayList<>(fitting);
        all.addAll(refused);
        Optional<Variant> chosen = fitting.isEmpty() ? Optional.empty() : Optional.of(fitting.get(0).variant());
        return new Selection(profile.id(), chosen, all);
    }

    static Comparator<Variant> ranking(DeviceProfile profile) {
        return Comparator.<Variant>comparingInt(v -> v.accelerator().isPresent() ? 0 : 1)
                .thenComparingInt(v -> profile.precisionRank(v.precision()).orElse(Integer.MAX_VALUE))
                .thenComparingLong(Variant::sizeBytes)
                .thenComparing(Variant::id);
    }

    private static List<String> problems(DeviceProfile p, Variant v, java.util.Map<String, String> notLoadable) {
        List<String> out = new ArrayList<>();
        if (!v.targetProfiles().isEmpty() && !v.targetProfiles().contains(p.id())) {
            out.add("built for " + String.join(", ", v.targetProfiles()) + ", not " + p.id());
        }
        Optional<RuntimeSupport> rt = p.runtime(v.runtime());
        if (notLoadable.containsKey(v.runtime())) {
            out.add(v.runtime() + " not loadable on the device (" + notLoadable.get(v.runtime()) + ")");
        } else if (rt.isEmpty()) {
            out.add("runtime " + v.runtime() + " is not on the device (it has " + (p.runtimes().isEmpty() ? "none"
                    : String.join(", ", p.runtimes().stream().map(RuntimeSupport::toString).toList())) + ")");
        } else if (v.runtimeVersion().isPresent() && !rt.get().atLeast(v.runtimeVersion().get())) {
            out.add("needs " + v.runtime() + " >= " + v.runtimeVersion().get() + ", the device has " + rt.get().version());
        }
        if (p.precisionRank(v.precision()).isEmpty()) {
            out.add("precision " + v.precision().wire() + " is not supported (the device runs "
                    + String.join(", ", p.precisions().stream().map(x -> x.wire()).toList()) + ")");
        }
        if (v.accelerator().isPresent() && !p.has(v.accelerator().get())) {
            out.add("needs accelerator " + v.accelerator().get().wire() + (p.accelerators().isEmpty()
                    ? ", the device has none"
                    : ", the device has " + String.join(", ", p.accelerators().stream().map(Accelerator::wire).toList())));
        }
        if (v.sizeBytes() > p.maxModelBytes()) {
            out.add(Bytes.human(v.sizeBytes()) + " is over the device's limit of " + Bytes.human(p.maxModelBytes()));
        }
        return out;
    }

    private static List<String> rankFacts(DeviceProfile p, Variant v) {
        List<String> out = new ArrayList<>();
        out.add(v.accelerator().map(a -> "uses the device's " + a.wire()).orElse("runs on the CPU"));
        int rank = p.precisionRank(v.precision()).orElseThrow();
        out.add(v.precision().wire() + (rank == 0 ? " is the device's fastest precision"
                : " is the device's precision #" + (rank + 1) + " by speed"));
        out.add(Bytes.human(v.sizeBytes()));
        return out;
    }
}
