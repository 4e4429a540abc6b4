package io.edgefleet.cloud.fleet;

import io.edgefleet.cloud.mqtt.CloudMqtt;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.common.MqttMessage;

/**
 * Feeds retained {@code state} messages (and last wills) into the fleet registry, once the
 * {@link io.edgefleet.cloud.sender.SenderGate} has proven their sender.
 */
public final class StateListener implements CloudMqtt.Handler {
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
    public void onMessage(String topic, MqttMessage message, CloudMqtt.Ack ack) {
        if (message.getPayload().length == 0) {
            return; // a cleared retained state: nothing to apply
        }
        if (!senders.accept(topic, message.getPayload(), io.edgefleet.transport.signing.PahoSignatures.userProperties(message))) {
            ack.ack(); // issue 15, defence in depth: counted and logged by the gate
            return;
        }
        try {
            Topic t = Topic.parse(topic);
            DeviceState s = json.decode(message.getPayload(), DeviceState.class);
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
