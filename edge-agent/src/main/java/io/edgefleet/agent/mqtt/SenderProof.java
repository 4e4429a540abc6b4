package io.edgefleet.agent.mqtt;

import io.edgefleet.protocols.messages.AckError;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.transport.pki.Pem;
import io.edgefleet.transport.signing.CommandVerifier;
import io.edgefleet.transport.signing.MessageSigner;
import io.edgefleet.transport.signing.Refusal;
import io.edgefleet.transport.signing.Verdict;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import io.edgefleet.transport.mqtt.Metadata;
import io.edgefleet.transport.signing.SessionSignatures;

/**
 * The agent's side of proof of sender (issue 15): signs what the device publishes about itself
 * ({@code state}, its will, {@code telemetry}, {@code cmd/ack}) with its enrolled key, and admits
 * only commands signed by the control plane's CA-issued {@code cloud-control} certificate for
 * this device's own topic, newer than the last one accepted.
 *
 * <p>Read from the identity folder ({@code identity/key.pem}, {@code cert.pem}, {@code ca.pem}):
 * an agent that holds {@code ca.pem} (it enrolled) requires signed commands, fail closed; one that
 * holds none (not enrolled) signs nothing and checks nothing, as before issue 15.
 *
 * <p>Replays: a command whose id the agent already recorded is a redelivery and is admitted (the
 * handler acknowledges its recorded outcome again and runs nothing); any other command with a
 * sequence below the last accepted one is refused as {@code command-replayed}. The last accepted
 * sequence is kept in {@code command-sequence} in the data folder (written atomically), so a
 * restart does not reopen the window. Called on Paho's callback thread, one command at a time.
 */
public final class SenderProof {
    private static final System.Logger LOG = System.getLogger(SenderProof.class.getName());

    private final Optional<MessageSigner> signer;
    private final Optional<CommandVerifier> commands;
    private final Path sequenceFile;
    private final Clock clock;
    private long lastAccepted;

    SenderProof(Optional<MessageSigner> signer, Optional<CommandVerifier> commands, Path sequenceFile, Clock clock) {
        this.signer = signer;
        this.commands = commands;
        this.sequenceFile = sequenceFile;
        this.clock = clock;
        this.lastAccepted = readSequence(sequenceFile);
    }

    /** Nothing signed, nothing required (an agent that never enrolled). */
    public static SenderProof none() {
        return new SenderProof(Optional.empty(), Optional.empty(), Path.of("command-sequence"), Clock.systemUTC());
    }

    /**
     * Loads the agent's identity folder.
     *
     * @param identityDir {@code identity/} (key.pem, cert.pem, ca.pem); missing files mean not enrolled
     * @param dataDir where {@code command-sequence} is kept
     */
    public static SenderProof fromFolder(Path identityDir, Path dataDir, String fleet, String device, Clock clock) {
        Path ca = identityDir.resolve("ca.pem");
        Optional<CommandVerifier> verifier = Files.isRegularFile(ca)
                ? Optional.of(new CommandVerifier(Pem.certificates(Pem.read(ca)).get(0), Topic.command(fleet, device).value()))
                : Optional.empty();
        return new SenderProof(MessageSigner.fromFolder(identityDir), verifier, dataDir.resolve("command-sequence"), clock);
    }

    /** Whether commands must be signed (the agent holds the fleet CA). */
    public boolean requiresSignedCommands() {
        return commands.isPresent();
    }

    /** {@code meta} with this device's signature over {@code topic} and {@code payload} added, when it holds a key. */
    public Metadata sign(String topic, byte[] payload, Metadata meta) {
        return signer.map(s -> SessionSignatures.attach(meta, s.sign(topic, payload))).orElse(meta);
    }

    /** The signature's user properties over {@code topic} and {@code payload} (for a will), empty without a key. */
    public java.util.List<io.edgefleet.transport.mqtt.UserProperty> signatureProperties(String topic, byte[] payload) {
        return sign(topic, payload, Metadata.qos1()).userProperties();
    }

    /**
     * Whether a received command may run.
     *
     * @param known whether the agent has already recorded this command id (a redelivery)
     * @return empty to admit it, or the error to acknowledge it with (its code a {@link Refusal} code)
     */
    public synchronized Optional<AckError> refusal(String topic, byte[] payload, Metadata meta, boolean known) {
        if (commands.isEmpty()) {
            return Optional.empty();
        }
        Verdict v = commands.get().verify(topic, payload, SessionSignatures.userProperties(meta), clock.instant());
        if (!v.isAccepted()) {
            return Optional.of(new AckError(v.refusal().orElseThrow().code(), v.detail()));
        }
        if (known) {
            return Optional.empty();
        }
        long seq = v.sequence().orElseThrow();
        if (seq < lastAccepted) {
            return Optional.of(new AckError(Refusal.REPLAYED.code(), "command sequence " + seq + " is older than the last accepted command ("
                    + lastAccepted + "); a replayed command is not run"));
        }
        if (seq > lastAccepted) {
            lastAccepted = seq;
            writeSequence(sequenceFile, seq);
        }
        return Optional.empty();
    }

    private static long readSequence(Path file) {
        try {
            return Files.isRegularFile(file) ? Long.parseLong(Files.readString(file, StandardCharsets.US_ASCII).strip()) : Long.MIN_VALUE;
        } catch (IOException | NumberFormatException e) {
            // Fail closed would block every command forever; the sequence only narrows the replay window.
            LOG.log(System.Logger.Level.WARNING, "{0} unreadable ({1}); accepting the next signed command", file, e.getMessage());
            return Long.MIN_VALUE;
        }
    }

    private static void writeSequence(Path file, long seq) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, Long.toString(seq), StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the command sequence in " + file, e);
        }
    }

}
