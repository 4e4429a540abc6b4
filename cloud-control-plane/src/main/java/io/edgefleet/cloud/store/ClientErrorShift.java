package io.edgefleet.cloud.store;

/**
 * How much more often clients were refused by one set of telemetry (a rollout wave on the new
 * version) than by another (the baseline devices on the previous version), over the same window.
 *
 * <p>{@code z} is the two-proportion z statistic with the pooled rate:
 * {@code (p1 - p0) / sqrt(p (1 - p) (1/n1 + 1/n0))}. Under "no change" it is about standard normal,
 * so {@code z >= 3} happens by chance about once in 740 judgements; when neither side refused
 * anything (or one side has no requests) it is 0.
 *
 * @param waveRate client errors / requests of the wave
 * @param baselineRate client errors / requests of the baseline
 * @param increase {@code waveRate - baselineRate}, in absolute terms (a share of requests)
 * @param z the increase in units of its standard error
 */
public record ClientErrorShift(double waveRate, double baselineRate, double increase, double z) {

    /** Compares {@code wave} with {@code baseline}. */
    public static ClientErrorShift of(Aggregate wave, Aggregate baseline) {
        double p1 = wave.clientErrorRate();
        double p0 = baseline.clientErrorRate();
        long n1 = wave.count();
        long n0 = baseline.count();
        double z = 0;
        if (n1 > 0 && n0 > 0) {
            double pooled = (double) (wave.clientErrorCount() + baseline.clientErrorCount()) / (n1 + n0);
            double se = Math.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n0));
            z = se == 0 ? 0 : (p1 - p0) / se;
        }
        return new ClientErrorShift(p1, p0, p1 - p0, z);
    }
}
