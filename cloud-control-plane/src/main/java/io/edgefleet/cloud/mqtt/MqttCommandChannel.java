package io.edgefleet.cloud.mqtt;

import io.edgefleet.cloud.rollout.CommandTracing;
import io.edgefleet.cloud.rollout.RolloutEngine;
import io.edgefleet.cloud.sender.CommandSigning;
import io.edgefleet.transport.mqtt.Metadata;
import io.edgefleet.transport.mqtt.MqttSession;

/**
 * The rollout engine's command channel: publishes each command at QoS 1 on the device's command
 * topic ({@code .../{fleet}/{device}/command}) through the control plane's control session, signed
 * when a command signer is configured ({@link CommandSigning}) and carrying the trace context
 * ({@link CommandTracing}). Until {@link #attach} (or without a broker) nothing is sent and
 * {@link #send} answers false, so the engine retries at a later tick. Thread-safe; called on the
 * rollout engine's thread.
 */
public final class MqttCommandChannel implements RolloutEngine.CommandSender {
    private final CommandTracing tracing;
    private final CommandSigning signing;
    private volatile MqttSession session;

    public MqttCommandChannel(CommandTracing tracing, CommandSigning signing) {
        this.tracing = tracing;
        this.signing = signing;
    }

    /** Sends through {@code control} from now on. */
    public void attach(MqttSession control) {
        this.session = control;
    }

    @Override
    public boolean send(String fleet, String device, byte[] command) {
        MqttSession s = session;
        if (s == null) {
            return false;
        }
        String topic = RolloutEngine.topic(fleet, device);
        return tracing.send(topic, command, traced -> signing.send(topic, command, (t, payload, props) -> s.publish(t, payload,
                traced.apply(props).stream().reduce(Metadata.qos1(), (md, e) -> md.withUserProperty(e.getKey(), e.getValue()), (x, y) -> x))));
    }
}
