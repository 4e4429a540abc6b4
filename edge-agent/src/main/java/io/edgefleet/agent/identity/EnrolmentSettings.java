package io.edgefleet.agent.identity;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How an agent gets and keeps its X.509 identity (config node {@code agent.identity}).
 *
 * @param controlPlane {@code control-plane}: base URL of the control plane, e.g. {@code https://cloud:8080}
 * @param token {@code enrol-token} (CLI {@code --enrol-token}): the enrolment token, needed only while the
 *     data folder holds no valid certificate; it carries the CA's SHA-256, which the agent pins
 * @param renewAt {@code renew-at}: renew when this fraction of the certificate's remaining lifetime (counted from when it was
 *     received) has passed; default 2/3
 * @param retryMin {@code retry-min-ms}: first delay after a failed enrolment or renewal (doubling up to {@code retryMax})
 * @param retryMax {@code retry-max-ms}: longest delay between attempts
 * @param enrolTimeout {@code enrol-timeout-ms}: how long the start keeps retrying enrolment while the control plane is away
 */
public record EnrolmentSettings(URI controlPlane, Optional<String> token, double renewAt, Duration retryMin, Duration retryMax,
        Duration enrolTimeout) {
    public EnrolmentSettings {
        Objects.requireNonNull(controlPlane, "controlPlane");
        Objects.requireNonNull(token, "token");
        if (!"http".equals(controlPlane.getScheme()) && !"https".equals(controlPlane.getScheme())) {
            throw new IllegalArgumentException("identity.control-plane must be an http:// or https:// URL, got " + controlPlane);
        }
        if (!(renewAt > 0.05 && renewAt < 0.95)) {
            throw new IllegalArgumentException("identity.renew-at must be between 0.05 and 0.95 of the lifetime, got " + renewAt);
        }
        if (retryMin.toMillis() < 1 || retryMax.compareTo(retryMin) < 0) {
            throw new IllegalArgumentException("identity.retry-min-ms must be >= 1 and retry-max-ms >= retry-min-ms");
        }
        if (enrolTimeout.isNegative()) {
            throw new IllegalArgumentException("identity.enrol-timeout-ms must be >= 0");
        }
    }

    /** Renewal at 2/3 of the lifetime, retries from 1 s doubling to 5 min, enrolment retried for 2 min on start. */
    public static EnrolmentSettings of(URI controlPlane, Optional<String> token) {
        return new EnrolmentSettings(controlPlane, token, 2.0 / 3, Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofMinutes(2));
    }

    public EnrolmentSettings withRetry(Duration min, Duration max) {
        return new EnrolmentSettings(controlPlane, token, renewAt, min, max, enrolTimeout);
    }

    public EnrolmentSettings withEnrolTimeout(Duration d) {
        return new EnrolmentSettings(controlPlane, token, renewAt, retryMin, retryMax, d);
    }

    @Override
    public String toString() {
        return "EnrolmentSettings[" + controlPlane + ", token " + (token.isPresent() ? "given" : "none") + ", renew at " + renewAt + "]";
    }
}
