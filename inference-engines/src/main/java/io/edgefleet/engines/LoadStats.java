package io.edgefleet.engines;

import java.util.List;

/**
 * How a model load went.
 *
 * @param loadMillis from the start of the load until the sessions were ready, warm-up excluded
 * @param firstInferenceMillis the warm-up run (zeros as inputs); -1 when warm-up was off
 * @param poolSize how many sessions/interpreters serve the model concurrently
 * @param providers execution providers in use, in order (e.g. {@code CUDA, CPU}); {@code XNNPACK}/{@code CPU} for TFLite
 * @param warmUpError why the warm-up run on zeros failed, when it did: a model whose dynamic dimensions
 *     need real sizes (an audio window, say) cannot run on a 1-sized zero tensor; the load still succeeds
 */
public record LoadStats(double loadMillis, double firstInferenceMillis, int poolSize, List<String> providers,
        java.util.Optional<String> warmUpError) {
    public LoadStats {
        providers = List.copyOf(providers);
    }
}
