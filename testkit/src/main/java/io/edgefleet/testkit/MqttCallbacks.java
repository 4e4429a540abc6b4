package io.edgefleet.testkit;

import java.util.function.BiConsumer;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * A Paho v5 callback that only hears messages, for test clients. (Paho 1.2.5's
 * {@code subscribe(topic, qos, listener)} overload recurses forever, so tests set a callback.)
 */
public final class MqttCallbacks {
    private MqttCallbacks() {
    }

    public static MqttCallback onMessage(BiConsumer<String, MqttMessage> handler) {
        return new MqttCallback() {
            @Override
            public void messageArrived(String topic, MqttMessage message) {
                handler.accept(topic, message);
            }

            @Override
            public void disconnected(MqttDisconnectResponse r) {
            }

            @Override
            public void mqttErrorOccurred(MqttException e) {
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
            }
        };
    }
}
