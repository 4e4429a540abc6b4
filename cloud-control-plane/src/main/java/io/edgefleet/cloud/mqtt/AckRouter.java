package io.edgefleet.cloud.mqtt;

import io.edgefleet.cloud.rollout.CommandTracing;
import io.edgefleet.cloud.sender.CommandSigning;
import io.edgefleet.cloud.sender.SenderGate;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.transport.mqtt.Delivery;
import io.edgefleet.transport.signing.SessionSignatures;

/**
 * Routes the devices' command acknowledgements ({@code .../{fleet}/{device}/command-ack}) to the
 * rollout engine. Drops, with a log line and nothing else: an ack whose sender is not proven (issue
 * 15), one that names another device than its topic, an agent's refusal of a command it could not
 * verify (a forged command's refusal must not fail the real one) and a refusal of a deposed
 * leader's stale command (issue 18: the current leader's command stands). A malformed ack is
 * logged and dropped; the session keeps serving. Any thread; the control plane calls it on its
 * {@link DeviceInbox}'s writer thread.
 */
public final class AckRouter {
    private static final System.Logger LOG = System.getLogger(AckRouter.class.getName());

    private final SenderGate senders;
    private final CommandTracing tracing;
    private final java.util.function.BiConsumer<String, CommandAck> engine;
    private final MessageCodec json = MessageCodec.json();

    /**
     * @param senders proves who published an ack
     * @param tracing continues the command's trace
     * @param engine takes each accepted ack with the fleet of the topic it came on ({@code RolloutEngine::onAck}); the
     *     engine applies it only to a command of that fleet and device
     */
    public AckRouter(SenderGate senders, CommandTracing tracing, java.util.function.BiConsumer<String, CommandAck> engine) {
        this.senders = senders;
        this.tracing = tracing;
        this.engine = engine;
    }

    /** Handles one message of the ack topics: an accepted ack goes to the engine this router was made with. */
    public void onMessage(Delivery m) {
        onMessage(m, engine);
    }

    /**
     * Handles one message of the ack topics, handing an accepted ack (with its topic's fleet) to {@code sink} inside
     * the command's trace span. Never throws: a refused or malformed ack is logged.
     */
    public void onMessage(Delivery m, java.util.function.BiConsumer<String, CommandAck> sink) {
        String topic = m.topic();
        if (!senders.accept(topic, m.payload(), SessionSignatures.userProperties(m.metadata()))) {
            return; // issue 15: an ack whose sender is not proven settles nothing
        }
        try {
            CommandAck a = json.decode(m.payload(), CommandAck.class);
            if (!a.device().equals(m.parsed().map(Topic::device).orElse(""))) {
                throw new ProtocolException("device", "ack of " + a.device() + " published on " + topic);
            }
            if (CommandSigning.isRefusal(a)) {
                LOG.log(System.Logger.Level.WARNING, "device {0} refused command {1}: {2}", topic, a.commandId(), a.error().orElseThrow().message());
                return;
            }
            if (a.staleRefusal()) {
                LOG.log(System.Logger.Level.INFO, "device {0} refused a stale command {1}: {2}", topic, a.commandId(),
                        a.error().orElseThrow().message());
                return;
            }
            String fleet = m.parsed().map(Topic::fleet).orElseThrow();
            tracing.acknowledged(topic, a, m.metadata(), () -> sink.accept(fleet, a));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "acknowledgement on {0} not applied: {1}", topic, e.getMessage());
        }
    }
}
