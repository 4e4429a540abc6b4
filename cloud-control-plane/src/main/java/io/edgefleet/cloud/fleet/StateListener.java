package io.edgefleet.cloud.fleet;

import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import java.util.concurrent.atomic.AtomicLong;
import io.edgefleet.transport.mqtt.Delivery;
import io.edgefleet.transport.mqtt.MqttSession;

/**
 * Feeds retained {@code state} messages (and last wills) into the fleet registry, once the
 * {@link io.edgefleet.cloud.sender.SenderGate} has proven their sender.
 */
public final class StateListener implements MqttSession.Handler {
    private static final System.Logger LOG = System.getLogger(StateListener.class.getName());

    private final FleetRegistry fleet;
    private final MessageCodec json = MessageCodec.json();
    private final AtomicLong rejected = new AtomicLong();

    private final io.edgefleet.cloud.sender.SenderGate senders;

    public StateListener(FleetRegistry fleet) {
        this(fleet, io.edgefleet.cloud.sender.SenderGate.open(java.time.Clock.systemUTC()));
    }

    /** @param senders drops states whose sender is not proven (a forged offline state, a ghost device) */
    public StateListener(FleetRegistry fleet, io.edgefleet.cloud.sender.SenderGate senders) {
        this.fleet = fleet;
        this.senders = senders;
    }

    @Override
    public void onMessage(Delivery message, MqttSession.Ack ack) {
        accepted(message).ifPresent(s -> {
            try {
                fleet.onState(s);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "state on {0} not stored: {1}", message.topic(), e.toString());
            }
        });
        ack.ack();
    }

    /**
     * The state a message carries, once its sender is proven and it names its topic's device; empty (logged and
     * counted) otherwise, and for a cleared retained state. Applies nothing: the caller applies it (alone through
     * {@link FleetRegistry#onState}, or with others through {@link FleetRegistry#onStates}). Any thread.
     */
    public java.util.Optional<DeviceState> accepted(Delivery message) {
        String topic = message.topic();
        if (message.payload().length == 0) {
            return java.util.Optional.empty(); // a cleared retained state: nothing to apply
        }
        if (!senders.accept(topic, message.payload(), io.edgefleet.transport.signing.SessionSignatures.userProperties(message.metadata()))) {
            return java.util.Optional.empty(); // issue 15, defence in depth: counted and logged by the gate
        }
        try {
            Topic t = message.parsed().orElseThrow(() -> new ProtocolException("$", "not a device topic: " + topic));
            DeviceState s = json.decode(message.payload(), DeviceState.class);
            if (!s.fleet().equals(t.fleet()) || !s.device().equals(t.device())) {
                throw new ProtocolException("$", "state of " + s.fleet() + "/" + s.device() + " published on " + topic);
            }
            return java.util.Optional.of(s);
        } catch (ProtocolException e) {
            rejected.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "state on {0} refused: {1}", topic, e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "state on {0} not stored: {1}", topic, e.toString());
        }
        return java.util.Optional.empty();
    }

    public long rejected() {
        return rejected.get();
    }
}
