package io.edgefleet.cloud.mqtt;

import io.edgefleet.transport.net.NoDelaySockets;
import java.util.List;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * One MQTT 5 session of the control plane (Paho): persistent (clean start off, one-day expiry) so
 * the broker keeps QoS 1 messages while the control plane restarts; connects in the background and
 * reconnects by itself; subscribes again after every connect (a broker that lost its state needs it).
 *
 * <p>With manual acknowledgements each message's {@link Ack} may run after a reconnect: the session
 * is resumed (clean start off), and MQTT 5 (4.4) has the broker resend an unacknowledged PUBLISH
 * with its original packet identifier, which stays in use until acknowledged, so the late
 * acknowledgement settles that same message. (An earlier version dropped acknowledgements across
 * reconnects; messages redelivered before Paho reported the reconnect then kept their stale
 * connection tag, were never acknowledged, filled Mosquitto's 20-message in-flight window and
 * stalled the session. Found by IngestTest on a loaded machine.)
 */
public final class CloudMqtt implements MqttCallback, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CloudMqtt.class.getName());

    /** Receives messages on Paho's callback thread: keep it short. */
    @FunctionalInterface
    public interface Handler {
        void onMessage(String topic, MqttMessage message, Ack ack);
    }

    /** Acknowledges one received message (no-op unless manual acknowledgements are on). */
    @FunctionalInterface
    public interface Ack {
        void ack();
    }

    private final String url;
    private final MqttClient client;
    private final boolean manualAcks;
    private final List<String> filters;
    private final Handler handler;
    private volatile boolean closed;
    private volatile Runnable onConnect = () -> { };
    private volatile boolean everConnected;
    private volatile io.edgefleet.transport.net.ReconnectWatch watch;
    private Thread connector;

    public CloudMqtt(String url, String clientId, boolean manualAcks, List<String> filters, Handler handler) {
        this.url = url;
        this.manualAcks = manualAcks;
        this.filters = List.copyOf(filters);
        this.handler = handler;
        try {
            this.client = new MqttClient(url, clientId, new MemoryPersistence());
        } catch (MqttException e) {
            throw new IllegalArgumentException("bad MQTT broker URL " + url + ": " + e.getMessage(), e);
        }
        client.setManualAcks(manualAcks);
        client.setTimeToWait(15_000); // a publish never waits on a PUBACK forever
        client.setCallback(this);
    }

    /** Runs after every (re)connect and subscription. */
    public void onConnect(Runnable r) {
        this.onConnect = r;
    }

    /** Connects now if the broker is up, else keeps trying in the background. Returns at once. */
    public void start() {
        connector = Thread.ofPlatform().name("cloud-mqtt-connect").daemon().start(() -> {
            long backoff = 250;
            while (!closed && !client.isConnected()) {
                try {
                    client.connect(options());
                    watch = io.edgefleet.transport.net.ReconnectWatch.start("cloud", io.edgefleet.transport.net.ReconnectWatch.client(
                            () -> closed, client::isConnected, () -> client.connect(options())), java.time.Duration.ofMillis(250), java.time.Duration.ofSeconds(2)); // before the agents (they hold telemetry 3 s after a reconnect)
                    return;
                } catch (MqttException e) {
                    LOG.log(System.Logger.Level.INFO, "MQTT broker {0} not reachable ({1}); retrying in {2} ms", url, e.getMessage(), backoff);
                    try {
                        Thread.sleep(backoff);
                    } catch (InterruptedException ie) {
                        return;
                    }
                    backoff = Math.min(backoff * 2, 5000);
                }
            }
        });
    }

    private MqttConnectionOptions options() {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(24L * 3600);
        o.setAutomaticReconnect(false); // the ReconnectWatch reconnects (Paho's shared static backoff, see there)
        o.setConnectionTimeout(5);
        o.setKeepAliveInterval(20);
        o.setReceiveMaximum(1000);
        if (url.startsWith("tcp://")) {
            o.setSocketFactory(new NoDelaySockets());
        }
        return o;
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    @Override
    public void connectComplete(boolean reconnect, String serverURI) {
        LOG.log(System.Logger.Level.INFO, "control-plane MQTT {0} to {1} ({2})", everConnected ? "reconnected" : "connected", serverURI, filters);
        everConnected = true;
        Thread.ofVirtual().start(() -> {
            try {
                MqttSubscription[] subs = filters.stream().map(f -> new MqttSubscription(f, 1)).toArray(MqttSubscription[]::new);
                if (subs.length > 0) {
                    client.subscribe(subs);
                }
                onConnect.run();
            } catch (MqttException e) {
                LOG.log(System.Logger.Level.WARNING, "MQTT subscribe to {0} failed: {1}", filters, e.getMessage());
            }
        });
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
        if (!manualAcks) {
            handler.onMessage(topic, message, () -> { });
            return;
        }
        int id = message.getId();
        int qos = message.getQos();
        handler.onMessage(topic, message, () -> {
            if (qos == 0 || !client.isConnected()) {
                return; // offline: the broker resends it on the resumed session, and the consumer drops the copy
            }
            try {
                client.messageArrivedComplete(id, qos);
            } catch (MqttException e) {
                LOG.log(System.Logger.Level.INFO, "acknowledgement of message {0} not sent ({1}); the broker will redeliver it", id, e.getMessage());
            }
        });
    }

    /**
     * Publishes with QoS 1 and waits for the broker's PUBACK.
     *
     * @return false when offline or the publish failed
     */
    public boolean publish(String topic, byte[] payload, boolean retained) {
        return publish(topic, payload, retained, List.of());
    }

    /** {@link #publish(String, byte[], boolean)} with MQTT 5 user properties (a command's signature, issue 15). */
    public boolean publish(String topic, byte[] payload, boolean retained, List<java.util.Map.Entry<String, String>> userProperties) {
        if (!client.isConnected()) {
            return false;
        }
        MqttMessage m = new MqttMessage(payload);
        if (!userProperties.isEmpty()) {
            MqttProperties p = new MqttProperties();
            p.setUserProperties(userProperties.stream().map(e -> new org.eclipse.paho.mqttv5.common.packet.UserProperty(e.getKey(), e.getValue())).toList());
            m.setProperties(p);
        }
        m.setQos(1);
        m.setRetained(retained);
        try {
            client.publish(topic, m);
            return true;
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.WARNING, "MQTT publish to {0} failed: {1}", topic, e.getMessage());
            return false;
        }
    }

    @Override
    public void disconnected(MqttDisconnectResponse r) {
        LOG.log(System.Logger.Level.INFO, "control-plane MQTT disconnected: {0}", r.getReasonString());
    }

    @Override
    public void mqttErrorOccurred(MqttException e) {
        LOG.log(System.Logger.Level.WARNING, "control-plane MQTT error: {0}", e.getMessage());
    }

    @Override
    public void deliveryComplete(IMqttToken token) {
    }

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {
    }

    /**
     * Closes the session for good. Paho 1.2.5 refuses {@code close()} while a (re)connect is in
     * progress; a client left that way reconnects later under the same client id and takes the
     * session over from its successor (seen in tests: a closed control plane's client kept
     * stealing the ingest session). So: disconnect (in-flight work and the DISCONNECT wait at most 1 s each), force, and
     * retry the close until the connect attempt has ended (its 5 s connection timeout).
     */
    @Override
    public void close() {
        closed = true;
        if (watch != null) {
            watch.close();
        }
        if (connector != null) {
            connector.interrupt();
        }
        // Bounded steps: Paho's disconnect(quiesce) waits for the broker without limit (minutes with a
        // frozen broker); disconnectForcibly sends DISCONNECT and waits at most its timeout.
        Exception failed = io.edgefleet.transport.net.CloseForGood.close(() -> {
            if (client.isConnected()) {
                client.disconnectForcibly(1000, 1000, true); // in-flight work may finish for 1 s (unacknowledged messages are redelivered anyway)
            }
        }, () -> client.disconnectForcibly(0, 0, false), () -> client.close(true), java.time.Duration.ofSeconds(20));
        if (failed != null) {
            LOG.log(System.Logger.Level.WARNING, "MQTT client {0} could not be closed: {1}", client.getClientId(), failed.getMessage());
        }
    }
}
