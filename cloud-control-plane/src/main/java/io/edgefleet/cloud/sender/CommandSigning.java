package io.edgefleet.cloud.sender;

import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.transport.signing.MessageSigner;
import io.edgefleet.transport.signing.Refusal;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Signs the control plane's commands with its {@code cloud-control} key: each command gets the next
 * sequence (epoch microseconds at start, then +1 per command, so it grows across restarts) and is
 * signed and published under a per-topic lock, so a device receives its commands in sequence order
 * and an agent can refuse anything older than the last it accepted. Thread-safe.
 */
public final class CommandSigning {
    /** Publishes one command with the given MQTT 5 user properties; false when it was not sent. */
    @FunctionalInterface
    public interface Publisher {
        boolean publish(String topic, byte[] payload, List<Map.Entry<String, String>> userProperties);
    }

    private static final Set<String> REFUSALS = Arrays.stream(Refusal.values()).map(Refusal::code).collect(Collectors.toUnmodifiableSet());

    private final Optional<MessageSigner> signer;
    private final AtomicLong sequence;
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    public CommandSigning(Optional<MessageSigner> signer, Clock clock) {
        this.signer = signer;
        this.sequence = new AtomicLong(clock.millis() * 1000);
    }

    /** Signs (when a signer is configured) and publishes one command. */
    public boolean send(String topic, byte[] payload, Publisher out) {
        if (signer.isEmpty()) {
            return out.publish(topic, payload, List.of());
        }
        synchronized (locks.computeIfAbsent(topic, t -> new Object())) {
            return out.publish(topic, payload, signer.get().signCommand(topic, sequence.incrementAndGet(), payload).userProperties());
        }
    }

    /**
     * Whether an acknowledgement is an agent's refusal of a command it could not verify (unsigned,
     * replayed, signed by someone else). Such an ack must not settle the command: anyone can send
     * a forged command carrying a real command's id, and the real one would then read as failed.
     */
    public static boolean isRefusal(CommandAck a) {
        return a.error().map(e -> REFUSALS.contains(e.code())).orElse(false);
    }
}
