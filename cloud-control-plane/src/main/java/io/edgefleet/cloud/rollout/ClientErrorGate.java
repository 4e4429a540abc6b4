package io.edgefleet.cloud.rollout;

import io.edgefleet.cloud.store.Aggregate;
import io.edgefleet.cloud.store.ClientErrorShift;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code maxClientErrorRateIncrease} gate: fails when the wave's clients are refused (400, 404,
 * 413, 429: a changed input signature, a missing model) clearly more often than the baseline's.
 * It trips only when all of these hold, so noise does not roll a good version back:
 * <ul>
 *   <li>both sides have at least {@link #MIN_REQUESTS} requests (or the spec's {@code minRequests}, when larger);</li>
 *   <li>the wave has at least {@link #MIN_CLIENT_ERRORS} refused requests (an absolute floor);</li>
 *   <li>the wave's rate is more than {@code max} above the baseline's (an absolute difference, so a
 *       baseline of 0 is no division by zero);</li>
 *   <li>and the increase is significant: z of at least {@link #MIN_Z} ({@link ClientErrorShift}).</li>
 * </ul>
 * Without enough requests the gate waits (says so in the detail); without a baseline it is not judged.
 * A pure function of its inputs.
 */
final class ClientErrorGate {
    /** Requests each side needs before the gate judges. */
    static final long MIN_REQUESTS = 50;
    /** Refused requests the wave needs before the gate may trip. */
    static final long MIN_CLIENT_ERRORS = 10;
    /** The z statistic the increase must reach. */
    static final double MIN_Z = 3.0;

    private ClientErrorGate() {
    }

    /**
     * @param max the largest tolerated increase of the client-error rate, a share of requests (0.05 = 5 points)
     * @param minRequests the spec's {@code minRequests} (0 when absent)
     * @param detail receives {@code clientErrorRate}, {@code baselineClientErrorRate}, {@code clientErrorIncrease}, {@code clientErrorZ}
     * @return the failure, naming rates, counts and the kinds the wave saw; empty when the gate passes or cannot judge yet
     */
    static Optional<String> check(double max, long minRequests, Aggregate wave, Aggregate baseline, Map<String, Object> detail) {
        ClientErrorShift s = ClientErrorShift.of(wave, baseline);
        detail.put("clientErrorRate", s.waveRate());
        detail.put("baselineClientErrorRate", s.baselineRate());
        detail.put("clientErrorIncrease", s.increase());
        detail.put("clientErrorZ", s.z());
        long need = Math.max(MIN_REQUESTS, minRequests);
        if (wave.count() < need || baseline.count() < need) {
            detail.put("clientErrorGate", "waiting for " + need + " requests on each side (wave " + wave.count() + ", baseline "
                    + baseline.count() + ")");
            return Optional.empty();
        }
        if (wave.clientErrorCount() < MIN_CLIENT_ERRORS || s.increase() <= max || s.z() < MIN_Z) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT, "client error rate %.4f (%d of %d requests: %s) is %.4f over the baseline's %.4f "
                + "(max %.4f, z %.1f)", s.waveRate(), wave.clientErrorCount(), wave.count(), wave.clientErrors(), s.increase(), s.baselineRate(),
                max, s.z()));
    }
}
