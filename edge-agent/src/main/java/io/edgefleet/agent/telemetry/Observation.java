package io.edgefleet.agent.telemetry;

import io.edgefleet.protocols.messages.ClientErrorKind;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What one request tells the telemetry.
 *
 * @param model model name
 * @param version the version that answered
 * @param latencyMillis time the model took (the engine call), without the wait in the queue; for a
 *     failure, the time until it failed or timed out
 * @param error the model failed (runtime error or no answer in time); a client's bad input is not the model's error
 * @param confidence the answer's max probability, for classifier outputs
 * @param lowConfidence the confidence was below the model's threshold
 * @param nonFinite an output held NaN or infinity
 * @param escalated the request went to the cloud
 * @param inputs per input name, a sample of its element values (at most 4,096) for drift statistics
 * @param cloudAnswered an escalated request that the cloud answered
 * @param escalationMillis the time the escalation added, when escalated
 * @param clientError present when the request was refused as the client's mistake (bad body, input that does not fit
 *     the signature, unknown model or version, full queue): then nothing ran, {@code error} is false and the latency is 0;
 *     telemetry counts it as a request and by kind, the watchdog ignores it
 * @param driftRows per input name, the rows {@link io.edgefleet.protocols.drift.FeatureRows#of} took from the request
 *     (bounded: at most 8 rows of 32 features), for the window's drift sketches; empty when none were taken
 */
public record Observation(String model, String version, double latencyMillis, boolean error, OptionalDouble confidence,
        boolean lowConfidence, boolean nonFinite, boolean escalated, Map<String, double[]> inputs, boolean cloudAnswered,
        double escalationMillis, Optional<ClientErrorKind> clientError, Map<String, double[][]> driftRows) {

    public Observation {
        clientError = clientError == null ? Optional.empty() : clientError;
        driftRows = driftRows == null ? Map.of() : driftRows;
    }

    public Observation(String model, String version, double latencyMillis, boolean error, OptionalDouble confidence,
            boolean lowConfidence, boolean nonFinite, boolean escalated, Map<String, double[]> inputs, boolean cloudAnswered,
            double escalationMillis, Optional<ClientErrorKind> clientError) {
        this(model, version, latencyMillis, error, confidence, lowConfidence, nonFinite, escalated, inputs, cloudAnswered, escalationMillis,
                clientError, Map.of());
    }

    /** This observation as escalated: the same request, what the escalation to the cloud did. */
    public Observation escalated(boolean escalated, boolean cloudAnswered, double escalationMillis) {
        return new Observation(model, version, latencyMillis, error, confidence, lowConfidence, nonFinite, escalated, inputs, cloudAnswered,
                escalationMillis, clientError, driftRows);
    }

    public Observation(String model, String version, double latencyMillis, boolean error, OptionalDouble confidence,
            boolean lowConfidence, boolean nonFinite, boolean escalated, Map<String, double[]> inputs, boolean cloudAnswered,
            double escalationMillis) {
        this(model, version, latencyMillis, error, confidence, lowConfidence, nonFinite, escalated, inputs, cloudAnswered, escalationMillis,
                Optional.empty());
    }

    /** A request refused as the client's mistake, counted against {@code model}/{@code version}. */
    public static Observation refused(String model, String version, ClientErrorKind kind) {
        return new Observation(model, version, 0, false, OptionalDouble.empty(), false, false, false, Map.of(), false, 0, Optional.of(kind));
    }

    /** Whether the client's request was refused (nothing ran). */
    public boolean refused() {
        return clientError.isPresent();
    }

    public Observation(String model, String version, double latencyMillis, boolean error, OptionalDouble confidence,
            boolean lowConfidence, boolean nonFinite, boolean escalated, Map<String, double[]> inputs) {
        this(model, version, latencyMillis, error, confidence, lowConfidence, nonFinite, escalated, inputs, false, 0, Optional.empty());
    }
}
