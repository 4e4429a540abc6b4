package io.edgefleet.cloud.sender;

import io.edgefleet.transport.signing.DeviceCertificates;
import io.edgefleet.transport.signing.MessageSigner;
import java.time.Duration;
import java.util.Optional;

/**
 * How the control plane decides that a device message comes from the device its topic names
 * (docs/security.md, "How the control plane knows the sender").
 *
 * @param requireSignedMessages drop {@code state}, {@code telemetry} and {@code cmd/ack} that do not
 *     carry a valid signature of the identity the topic names (on whenever the PKI is on)
 * @param requireEnrolment drop messages of devices that hold no certificate (never enrolled), so
 *     they never register a device (no ghosts), even with signatures off
 * @param certificates the enrolment registry's certificates, required by either setting above; when
 *     empty, the control plane fills in its own device CA's ({@link #withPki})
 * @param commandSigner the {@code cloud-control} key and certificate that sign commands; without
 *     one commands go out unsigned (agents that require signed commands refuse them)
 * @param maxRequestsPerSecond the most requests a telemetry window may hold per second of its
 *     length (an edge device's plausible throughput); a window claiming more is refused
 * @param maxClockSkew how far in the future a window's end or a batch's {@code sentAt} may lie
 */
public record SenderSettings(boolean requireSignedMessages, boolean requireEnrolment, Optional<DeviceCertificates> certificates,
        Optional<MessageSigner> commandSigner, long maxRequestsPerSecond, Duration maxClockSkew) {
    public SenderSettings {
        certificates = certificates == null ? Optional.empty() : certificates;
        commandSigner = commandSigner == null ? Optional.empty() : commandSigner;
        if (maxRequestsPerSecond < 1) {
            throw new IllegalArgumentException("max-requests-per-second must be at least 1, got " + maxRequestsPerSecond);
        }
        if (maxClockSkew.isNegative()) {
            throw new IllegalArgumentException("max-clock-skew must not be negative, got " + maxClockSkew);
        }
    }

    /** Today's open behaviour (no PKI): nothing required, only plausibility checked. */
    public static SenderSettings defaults() {
        return new SenderSettings(false, false, Optional.empty(), Optional.empty(), 10_000, Duration.ofMinutes(5));
    }

    /** Signatures and enrolment required; the certificates and the command signer come from the control plane's PKI ({@link #withPki}). */
    public static SenderSettings required() {
        return new SenderSettings(true, true, Optional.empty(), Optional.empty(), 10_000, Duration.ofMinutes(5));
    }

    /** These settings with the control plane's device CA and {@code cloud-control} signer where none were given. */
    public SenderSettings withPki(DeviceCertificates pkiCertificates, MessageSigner controlSigner) {
        return new SenderSettings(requireSignedMessages, requireEnrolment, certificates.or(() -> Optional.of(pkiCertificates)),
                commandSigner.or(() -> Optional.of(controlSigner)), maxRequestsPerSecond, maxClockSkew);
    }

    /** With the PKI on: signatures and enrolment required, commands signed. */
    public static SenderSettings signed(DeviceCertificates certificates, MessageSigner commandSigner) {
        return new SenderSettings(true, true, Optional.of(certificates), Optional.of(commandSigner), 10_000, Duration.ofMinutes(5));
    }
}
