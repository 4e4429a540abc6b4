package io.edgefleet.cloud.sender;

import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.transport.net.ClientFailureLog;
import io.edgefleet.transport.pki.Identity;
import io.edgefleet.transport.signing.SenderVerifier;
import io.edgefleet.transport.signing.Verdict;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The control plane's door for device messages ({@code state}, {@code telemetry}, {@code cmd/ack}):
 * one call per message, before anything is decoded into the registry, the aggregates or the
 * dedupe keys. Refuses, with the settings in {@link SenderSettings}: unsigned, mis-signed, revoked
 * or foreign-signed messages, messages of devices never enrolled, and implausible telemetry.
 * Refused messages are counted by reason ({@link #dropped()}), logged at most once per 10 s per
 * reason ({@link ClientFailureLog}) and never reach gates or aggregates. Thread-safe.
 */
public final class SenderGate {
    private final SenderSettings settings;
    private final Optional<SenderVerifier> verifier;
    private final Clock clock;
    private final ClientFailureLog log;
    private final Map<String, AtomicLong> dropped = new ConcurrentHashMap<>();

    public SenderGate(SenderSettings settings, Clock clock) {
        this(settings, clock, new ClientFailureLog(System.getLogger(SenderGate.class.getName()), 1, java.time.Duration.ofSeconds(10), System::nanoTime));
    }

    public SenderGate(SenderSettings settings, Clock clock, ClientFailureLog log) {
        if ((settings.requireSignedMessages() || settings.requireEnrolment()) && settings.certificates().isEmpty()) {
            throw new IllegalStateException("require-signed-messages and require-enrolment need the device certificates: "
                    + "run the ingest and control roles on the control plane's data folder (its device CA)");
        }
        this.settings = settings;
        this.verifier = settings.certificates().map(SenderVerifier::new);
        this.clock = clock;
        this.log = log;
    }

    /** A gate that requires nothing but plausibility (no PKI). */
    public static SenderGate open(Clock clock) {
        return new SenderGate(SenderSettings.defaults(), clock);
    }

    public SenderSettings settings() {
        return settings;
    }

    /**
     * Whether a device message may be processed: its sender is proven (or not required to be)
     * and, when enrolment is required, the device it names is enrolled.
     *
     * @param topic the exact topic, {@code ef/v1/{fleet}/{device}/{kind}}
     * @param payload the exact payload bytes
     * @param userProperties the PUBLISH's MQTT 5 user properties
     */
    public boolean accept(String topic, byte[] payload, List<Map.Entry<String, String>> userProperties) {
        if (!settings.requireSignedMessages() && !settings.requireEnrolment()) {
            return true;
        }
        Identity claimed;
        try {
            Topic t = Topic.parse(topic);
            claimed = Identity.device(t.fleet(), t.device());
        } catch (ProtocolException | IllegalArgumentException e) {
            return drop("bad-topic", "message on " + topic + " refused: " + e.getMessage());
        }
        if (settings.requireSignedMessages()) {
            Verdict v = verifier.orElseThrow().verify(claimed, topic, payload, userProperties, clock.instant());
            return v.isAccepted() || drop(v.refusal().orElseThrow().code(), v.detail());
        }
        return verifier.orElseThrow().enrolled(claimed) || drop("not-enrolled", claimed + " is not enrolled; its message on " + topic + " dropped");
    }

    /** Whether a decoded batch is plausible (see {@link TelemetryPlausibility}); an implausible one is counted and logged. */
    public boolean plausible(TelemetryBatch b) {
        Optional<String> p = TelemetryPlausibility.problem(b, clock.instant(), settings.maxRequestsPerSecond(), settings.maxClockSkew());
        return p.isEmpty() || drop("implausible-telemetry", "telemetry of " + b.fleet() + "/" + b.device() + " refused: " + p.get());
    }

    private boolean drop(String reason, String detail) {
        dropped.computeIfAbsent(reason, k -> new AtomicLong()).incrementAndGet();
        log.log("device message refused (" + reason + ")", detail);
        return false;
    }

    /** Messages refused so far, by reason code ({@code unsigned}, {@code signature-invalid}, {@code not-enrolled}, ...). */
    public Map<String, Long> dropped() {
        Map<String, Long> out = new java.util.TreeMap<>();
        dropped.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** All refused messages, all reasons together. */
    public long droppedTotal() {
        return dropped.values().stream().mapToLong(AtomicLong::get).sum();
    }
}
