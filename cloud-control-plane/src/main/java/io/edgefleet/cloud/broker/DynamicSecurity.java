package io.edgefleet.cloud.broker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.transport.pki.Identity;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * Grants and revokes identities at a Mosquitto 2.0 broker through its dynamic-security plugin, by
 * publishing commands on {@code $CONTROL/dynamic-security/v1} as the {@code broker-admin} identity
 * (a client certificate from the EdgeFleet CA, written by {@link MosquittoConfig}) and waiting for
 * the plugin's answer on {@code .../response}.
 *
 * <p>{@link #revoke} deletes the identity's client and role: Mosquitto disconnects its sessions at
 * once (DISCONNECT reason 0x98, administrative action) and, should it come back before the CRL was
 * reloaded, it has no right at all (the plugin's defaults allow nothing). {@link #grant} creates them
 * with the rights of {@link io.edgefleet.protocols.topics.TopicRights}; call it when a device enrols.
 *
 * <p>Thread-safe: operations are serialised; each blocks until the broker answered or the timeout
 * passed. The MQTT connection is opened on first use and again after a loss.
 */
public final class DynamicSecurity implements BrokerRevocation, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(DynamicSecurity.class.getName());
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final String url;
    private final SSLContext tls;
    private final Duration timeout;
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private MqttClient client;

    /**
     * @param url the broker's TLS listener, e.g. {@code ssl://broker.example:8883}
     * @param tls a context presenting the {@code broker-admin} certificate and trusting the broker's CA
     * @param timeout how long one operation waits for the broker
     */
    public DynamicSecurity(String url, SSLContext tls, Duration timeout) {
        this.url = url;
        this.tls = tls;
        this.timeout = timeout;
    }

    /** Gives {@code identity} its rights at the broker; idempotent. */
    public void grant(Identity identity) {
        String corr = UUID.randomUUID().toString();
        run(DynsecJson.grant(identity, corr), corr, Set.of("Role already exists", "Client already exists"), "grant " + identity);
    }

    @Override
    public void revoke(Identity identity) {
        String corr = UUID.randomUUID().toString();
        run(DynsecJson.revoke(identity, corr), corr, Set.of("Client not found", "Role not found"), "revoke " + identity);
    }

    private synchronized void run(String commands, String corr, Set<String> tolerated, String what) {
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        pending.put(corr, answer);
        try {
            connected().publish(DynsecJson.CONTROL_TOPIC, commands.getBytes(StandardCharsets.UTF_8), 1, false);
            JsonNode responses = answer.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<String> errors = new ArrayList<>();
            for (JsonNode r : responses) {
                String error = r.path("error").asText("");
                if (!error.isEmpty() && !tolerated.contains(error)) {
                    errors.add(r.path("command").asText("?") + ": " + error);
                }
            }
            if (!errors.isEmpty()) {
                throw new BrokerAdminException("the broker refused to " + what + ": " + String.join("; ", errors));
            }
        } catch (MqttException e) {
            dropConnection();
            throw new BrokerAdminException("cannot " + what + " at " + url + ": " + e.getMessage(), e);
        } catch (TimeoutException e) {
            throw new BrokerAdminException("the broker at " + url + " did not answer to " + what + " within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw new BrokerAdminException("cannot " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BrokerAdminException("interrupted while waiting to " + what);
        } finally {
            pending.remove(corr);
        }
    }

    private MqttClient connected() throws MqttException {
        if (client != null && client.isConnected()) {
            return client;
        }
        dropConnection();
        MqttClient c = new MqttClient(url, "edgefleet-broker-admin-" + UUID.randomUUID(), new MemoryPersistence());
        c.setTimeToWait(timeout.toMillis());
        c.setCallback(new Responses());
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setSocketFactory(tls.getSocketFactory());
        o.setCleanStart(true);
        o.setConnectionTimeout((int) Math.max(1, timeout.toSeconds()));
        o.setAutomaticReconnect(false);
        c.connect(o);
        c.subscribe(DynsecJson.RESPONSE_TOPIC, 1).waitForCompletion(timeout.toMillis());
        client = c;
        return c;
    }

    private void dropConnection() {
        if (client == null) {
            return;
        }
        try {
            if (client.isConnected()) {
                client.disconnect(timeout.toMillis());
            }
            client.close(true);
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing the broker admin session: {0}", e.getMessage());
        }
        client = null;
    }

    @Override
    public synchronized void close() {
        dropConnection();
    }

    /** Routes the plugin's answers to the waiting operation by correlation data; Paho's callback thread. */
    private final class Responses implements MqttCallback {
        @Override
        public void messageArrived(String topic, MqttMessage message) {
            JsonNode root;
            try {
                root = MAPPER.readTree(message.getPayload());
            } catch (java.io.IOException e) {
                LOG.log(System.Logger.Level.WARNING, "unreadable answer from the dynamic-security plugin: {0}", e.getMessage());
                return;
            }
            Map<String, List<JsonNode>> byCorrelation = new java.util.HashMap<>();
            for (JsonNode r : root.path("responses")) {
                byCorrelation.computeIfAbsent(r.path("correlationData").asText(""), k -> new ArrayList<>()).add(r);
            }
            byCorrelation.forEach((corr, rs) -> {
                CompletableFuture<JsonNode> f = pending.get(corr);
                if (f != null) {
                    f.complete(MAPPER.valueToTree(rs));
                }
            });
        }

        @Override
        public void disconnected(MqttDisconnectResponse response) {
            pending.values().forEach(f -> f.completeExceptionally(
                    new IllegalStateException("the broker closed the admin session: " + response.getReasonString())));
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            LOG.log(System.Logger.Level.WARNING, "broker admin session: {0}", exception.getMessage());
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
    }
}
