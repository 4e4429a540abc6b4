package io.edgefleet.engines;

import java.util.List;

/**
 * How a model load went.
 *
 * @param loadMillis from the start of the load until the sessions were ready, warm-up excluded
 * @param firstInferenceMillis the warm-up run (zeros as inputs); -1 when warm-up was off
 * @param poolSize how many sessions/interpreters serve the model concurrently
 * @param providers execution providers in use, in order (e.g. {@code CUDA, CPU}); {@code XNNPACK}/{@code CPU} for TFLite
 */
public record LoadStats(double loadMillis, double firstInferenceMillis, int poolSize, List<String> providers) {
    public LoadStats {
        providers = List.copyOf(providers);
    }
}
