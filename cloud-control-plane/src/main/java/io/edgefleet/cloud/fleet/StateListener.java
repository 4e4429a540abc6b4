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
        String topic = message.topic();
        if (message.payload().length == 0) {
            return; // a cleared retained state: nothing to apply
        }
        if (!senders.accept(topic, message.payload(), io.edgefleet.transport.signing.SessionSignatures.userProperties(message.metadata()))) {
            ack.ack(); // issue 15, defence in depth: counted and logged by the gate
            return;
        }
        try {
            Topic t = message.parsed().orElseThrow(() -> new ProtocolException("$", "not a device topic: " + topic));
            DeviceState s = json.decode(message.payload(), DeviceState.class);
            if (!s.fleet().equals(t.fleet()) || !s.device().equals(t.device())) {
                throw new ProtocolException("$", "state of " + s.fleet() + "/" + s.device() + " published on " + topic);
            }
            fleet.onState(s);
        } catch (ProtocolException e) {
            rejected.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "state on {0} refused: {1}", topic, e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "state on {0} not stored: {1}", topic, e.toString());
        }
        ack.ack();
    }

    public long rejected() {
        return rejected.get();
    }
}
