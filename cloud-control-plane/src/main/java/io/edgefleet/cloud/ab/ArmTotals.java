package io.edgefleet.cloud.ab;

/**
 * One arm's readings, all devices and windows of an experiment added up (docs/ab.md).
 *
 * @param requests requests the arm answered or failed
 * @param errors of those, the ones its model failed
 * @param latencySum sum of the answered requests' model times, ms
 * @param latencySumSq sum of their squares, ms²
 * @param confidenceN answered requests with a top-class probability
 * @param confidenceSum sum of those probabilities
 * @param confidenceSumSq sum of their squares
 * @param devices devices that reported the arm
 * @param labelled answers whose true outcome came back through the agents' feedback call (docs/ab.md "Feedback and accuracy")
 * @param correct of those, the ones the arm got right
 */
public record ArmTotals(long requests, long errors, double latencySum, double latencySumSq, long confidenceN, double confidenceSum,
        double confidenceSumSq, int devices, long labelled, long correct) {
    public static final ArmTotals EMPTY = new ArmTotals(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /** Without feedback (nothing labelled). */
    public ArmTotals(long requests, long errors, double latencySum, double latencySumSq, long confidenceN, double confidenceSum,
            double confidenceSumSq, int devices) {
        this(requests, errors, latencySum, latencySumSq, confidenceN, confidenceSum, confidenceSumSq, devices, 0, 0);
    }

    /** Answered requests (those with a latency). */
    public long answered() {
        return requests - errors;
    }
}
