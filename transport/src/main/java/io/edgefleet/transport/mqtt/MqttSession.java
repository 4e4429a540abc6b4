package io.edgefleet.transport.mqtt;

import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.transport.net.ClientFailureLog;
import io.edgefleet.transport.net.CloseForGood;
import io.edgefleet.transport.net.NoDelaySockets;
import io.edgefleet.transport.net.ReconnectWatch;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * One MQTT 5 session with a broker, the only one in EdgeFleet (agent, control plane, simulator):
 * connect, reconnect, subscriptions renewed after every connect, QoS 1 publish, last will, MQTT 5
 * Maximum Packet Size and user properties, TLS, and a close for good. Paho's MQTT 5 client does
 * the protocol underneath; none of its types appear here.
 *
 * <ul>
 * <li><b>Connect and reconnect.</b> {@link #start()} returns at once; a background thread connects,
 *     then a {@link ReconnectWatch} (never Paho's automatic reconnect, whose backoff is shared by
 *     every client of the JVM) connects again whenever the connection is lost, after
 *     {@link SessionConfig#reconnectMin} doubling to {@link SessionConfig#reconnectMax}. Each
 *     connect builds its options afresh: the will and the TLS context are asked for again, so a
 *     renewed client certificate is presented at the next connect.</li>
 * <li><b>Subscriptions.</b> {@link SessionConfig#subscriptions} and those added by
 *     {@link #subscribe} are subscribed with QoS 1 after every connect (a resumed session keeps
 *     them, a broker that lost its state does not). A filter the broker refuses (SUBACK reason
 *     code 0x80 or above, e.g. not authorised) is logged.</li>
 * <li><b>Publish.</b> {@link #publish} sends with QoS 1 and waits for the PUBACK (at most
 *     {@link SessionConfig#operationTimeout}); it returns false when offline or the broker did not
 *     acknowledge: nothing is buffered offline, the caller keeps what must survive (the telemetry
 *     outbox). Publishes in flight are bounded by the broker's Receive Maximum (CONNACK): a publish
 *     waits up to 10 s for a slot rather than be refused.</li>
 * <li><b>Acknowledgements.</b> With {@link SessionConfig#manualAcks} the handler's {@link Ack}
 *     settles a QoS 1 message; one not acknowledged comes again on the resumed session. MQTT 5
 *     (section 4.4) has the broker resend an unacknowledged PUBLISH with its packet identifier,
 *     which stays in use until acknowledged, so an acknowledgement made after a reconnect settles
 *     that same message.</li>
 * <li><b>TLS.</b> {@code ssl://} URLs, the context from {@link SessionConfig#tls}, server
 *     hostname verification on (the broker's certificate must name the URL's host in a SAN).</li>
 * </ul>
 *
 * <p>Threads: the handler and {@link Listener#connected} run on Paho's callback thread (keep them
 * short: the next message waits); {@link Listener#subscribed} on a virtual thread; everything else
 * on the caller's thread. Public methods are thread-safe.
 */
public final class MqttSession implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MqttSession.class.getName());
    private static final int DEFAULT_RECEIVE_MAXIMUM = 16;
    /** How long a publish waits for a slot in the broker's Receive Maximum. */
    private static final long PUBLISH_WAIT_MILLIS = 10_000;
    /** How long each step of {@link #close()} may wait on the broker (a goodbye's PUBACK, the DISCONNECT). */
    private static final long CLOSE_STEP_MILLIS = 1000;

    /** Receives each message, on Paho's callback thread. */
    @FunctionalInterface
    public interface Handler {
        void onMessage(Delivery message, Ack ack);
    }

    /** Acknowledges one received message; a no-op unless manual acknowledgements are on. */
    @FunctionalInterface
    public interface Ack {
        void ack();
    }

    /** Hears of every connect. */
    public interface Listener {
        /** On Paho's callback thread right after CONNACK, before subscriptions are renewed; {@code first}: the first connect of this session object. */
        default void connected(boolean first) {
        }

        /** On a virtual thread once the subscriptions of this connect were answered (granted, refused or failed). */
        default void subscribed(boolean first) {
        }
    }

    private final SessionConfig config;
    private final Handler handler;
    private final ClientFailureLog failures;
    private final MqttClient client;
    private final List<String> filters;
    private final Object lifecycle = new Object();
    private volatile Listener listener = new Listener() {
    };
    private volatile Semaphore publishSlots = new Semaphore(DEFAULT_RECEIVE_MAXIMUM);
    private volatile String deaf;
    private volatile String lastConnectFailure;
    private volatile boolean closed;
    private volatile boolean everConnected;
    private ReconnectWatch watch;
    private Thread connector;

    private MqttSession(SessionConfig config, Handler handler, ClientFailureLog failures) {
        this.config = config;
        this.handler = handler;
        this.failures = failures;
        this.filters = new CopyOnWriteArrayList<>(config.subscriptions());
        try {
            this.client = new MqttClient(config.url(), config.clientId(), new MemoryPersistence());
        } catch (MqttException e) {
            throw new IllegalArgumentException("bad MQTT broker URL " + config.url() + ": " + e.getMessage(), e);
        }
        client.setManualAcks(config.manualAcks());
        client.setTimeToWait(config.operationTimeout().toMillis()); // no PUBACK wait hangs a thread forever
        client.setCallback(new Callback());
        noTopicAliases(client, config.clientId());
    }

    /**
     * Turns Paho's outgoing topic aliases off. Paho 1.2.5 gives outgoing PUBLISHes topic aliases
     * whenever the broker allows them (Mosquitto: 10, HiveMQ: 5) and keeps an unacknowledged one
     * with its alias and no topic name; resent on the next connection, where the alias means
     * nothing, it is a protocol error, at every reconnect, for ever (seen: an agent locked out after
     * a broker restart with a telemetry batch in flight; {@code MqttSessionTest}). Paho has no
     * option for it, so its connection state is replaced, before the first connect, by one whose
     * outgoing Topic Alias Maximum is always 0: no alias is ever assigned and a resent PUBLISH
     * carries its topic name. Reflection on Paho 1.2.5's internals (the {@code mqttConnection}
     * fields of {@code MqttAsyncClient}, {@code ClientComms} and {@code ClientState}); if they
     * change, a WARNING says so and brokers must run with topic aliases off.
     */
    private static void noTopicAliases(MqttClient client, String clientId) {
        try {
            Object async = field(MqttClient.class, "aClient").get(client);
            Object comms = field(org.eclipse.paho.mqttv5.client.MqttAsyncClient.class, "comms").get(async);
            Object state = field(comms.getClass(), "clientState").get(comms);
            NoAliasConnectionState replacement = new NoAliasConnectionState(clientId);
            field(org.eclipse.paho.mqttv5.client.MqttAsyncClient.class, "mqttConnection").set(async, replacement);
            field(comms.getClass(), "mqttConnection").set(comms, replacement);
            field(state.getClass(), "mqttConnection").set(state, replacement);
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot turn Paho''s outgoing topic aliases off ({0}); run the broker with topic aliases "
                    + "off (Mosquitto max_topic_alias 0) or a session may be refused after a reconnect", e.toString());
        }
    }

    private static java.lang.reflect.Field field(Class<?> type, String name) throws NoSuchFieldException {
        java.lang.reflect.Field f = type.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }

    /** Paho's per-client connection state, with no outgoing topic aliases whatever the broker allows. */
    private static final class NoAliasConnectionState extends org.eclipse.paho.mqttv5.client.internal.MqttConnectionState {
        NoAliasConnectionState(String clientId) {
            super(clientId);
        }

        @Override
        public Integer getOutgoingTopicAliasMaximum() {
            return 0;
        }
    }

    /**
     * A session, not yet connected ({@link #start()} connects).
     *
     * @param handler receives every message of the subscriptions
     * @param failures where failed publishes are logged, one rate-limited line each
     * @throws IllegalArgumentException when the URL cannot be used
     */
    public static MqttSession create(SessionConfig config, Handler handler, ClientFailureLog failures) {
        return new MqttSession(config, handler, failures);
    }

    /** A session logging failed publishes under this class's logger. */
    public static MqttSession create(SessionConfig config, Handler handler) {
        return create(config, handler, new ClientFailureLog(MqttSession.class.getName()));
    }

    /** Sets who hears of connects; call before {@link #start()}. */
    public MqttSession listener(Listener l) {
        this.listener = l;
        return this;
    }

    /** Connects now if the broker is up, else keeps trying in the background; returns at once. Call once. */
    public void start() {
        synchronized (lifecycle) {
            if (connector != null || closed) {
                throw new IllegalStateException("MQTT session " + config.clientId() + " was already started or closed");
            }
            connector = Thread.ofPlatform().name("mqtt-connect-" + config.clientId()).daemon().start(() -> {
                try {
                    connectLogged();
                } catch (Exception e) {
                    // logged; the watch tries again after its delay
                }
                synchronized (lifecycle) {
                    if (!closed) {
                        watch = ReconnectWatch.start(config.clientId(), ReconnectWatch.client(() -> closed, client::isConnected, this::connectLogged),
                                config.reconnectMin(), config.reconnectMax());
                    }
                }
            });
        }
    }

    private void connectLogged() throws Exception {
        try {
            IMqttToken t = client.connectWithResult(options());
            Integer receiveMaximum = t.getResponseProperties() == null ? null : t.getResponseProperties().getReceiveMaximum();
            publishSlots = new Semaphore(receiveMaximum == null ? DEFAULT_RECEIVE_MAXIMUM : Math.max(1, Math.min(receiveMaximum, 64)));
            deaf = null;
            lastConnectFailure = null;
        } catch (Exception e) {
            if (e instanceof org.eclipse.paho.mqttv5.common.MqttException m
                    && (m.getReasonCode() == MqttClientException.REASON_CODE_CLIENT_TIMEOUT
                    || m.getReasonCode() == MqttClientException.REASON_CODE_CONNECT_IN_PROGRESS)) {
                // Paho leaves its client "connecting" after a CONNACK time-out (eclipse-paho/paho.mqtt.java#81): every later
                // connect then fails at once with "Connect already in progress" while that socket stays open (94 s seen after a
                // broker restart). Dropping the half-open connection makes the next attempt a real one.
                try {
                    client.disconnectForcibly(0, 0, false);
                } catch (org.eclipse.paho.mqttv5.common.MqttException ignored) {
                    // nothing was left to drop
                }
            }
            String why = describe(e);
            if (!why.equals(lastConnectFailure)) {
                LOG.log(System.Logger.Level.INFO, "MQTT broker {0} not reachable as {1} ({2}); retrying with backoff", config.url(),
                        config.clientId(), why);
            }
            lastConnectFailure = why;
            throw e;
        }
    }

    /** The exception's message and its causes' (a TLS handshake failure sits under Paho's 32103). */
    private static String describe(Throwable e) {
        StringBuilder b = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            b.append(": ").append(c.getClass().getSimpleName()).append(' ').append(c.getMessage());
        }
        return b.toString();
    }

    private MqttConnectionOptions options() {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(config.cleanStart());
        o.setSessionExpiryInterval(config.sessionExpirySeconds());
        o.setAutomaticReconnect(false); // the ReconnectWatch reconnects (Paho's shared static backoff, see there)
        o.setConnectionTimeout(config.connectTimeoutSeconds());
        o.setKeepAliveInterval(config.keepAliveSeconds());
        config.receiveMaximum().ifPresent(o::setReceiveMaximum);
        config.maximumPacketSizeBytes().ifPresent(o::setMaximumPacketSize); // the broker drops a larger PUBLISH instead of sending it
        if (config.tls().isPresent()) {
            SSLContext ctx = config.tls().get().get(); // asked at every connect: a renewed certificate is used from the next one
            o.setSocketFactory(new NoDelaySslSockets(ctx.getSocketFactory()));
            o.setHttpsHostnameVerificationEnabled(true);
        } else {
            o.setSocketFactory(new NoDelaySockets());
        }
        config.will().ifPresent(w -> {
            Will will = w.get();
            MqttMessage m = new MqttMessage(will.payload());
            m.setQos(1);
            m.setRetained(will.retained());
            if (!will.userProperties().isEmpty()) {
                org.eclipse.paho.mqttv5.common.packet.MqttProperties p = new org.eclipse.paho.mqttv5.common.packet.MqttProperties();
                p.setUserProperties(will.userProperties().stream()
                        .map(u -> new org.eclipse.paho.mqttv5.common.packet.UserProperty(u.key(), u.value())).toList());
                o.setWillMessageProperties(p);
            }
            o.setWill(will.topic(), m);
        });
        return o;
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    /** Why the last connect attempt failed (broker unreachable, TLS handshake refused, CONNACK refusal); empty once connected. */
    public Optional<String> lastConnectFailure() {
        return Optional.ofNullable(lastConnectFailure);
    }

    /** Why the session cannot serve although it may look connected (publishes time out with Paho's receive side gone); empty while it works. */
    public Optional<String> problem() {
        return Optional.ofNullable(deaf);
    }

    /** The MQTT client identifier. */
    public String clientId() {
        return config.clientId();
    }

    /**
     * Adds {@code filter} to the subscriptions renewed at every connect, and subscribes now when connected.
     *
     * @return whether the broker granted it now; false when offline (it is subscribed at the next connect) or refused
     */
    public boolean subscribe(String filter) {
        if (!filters.contains(filter)) {
            filters.add(filter);
        }
        return client.isConnected() && subscribeAll(List.of(filter));
    }

    private boolean subscribeAll(List<String> f) {
        if (f.isEmpty()) {
            return true;
        }
        try {
            IMqttToken t = client.subscribe(f.stream().map(s -> new MqttSubscription(s, 1)).toArray(MqttSubscription[]::new));
            int[] codes = t.getReasonCodes();
            boolean all = true;
            for (int i = 0; codes != null && i < codes.length && i < f.size(); i++) {
                if (codes[i] >= 0x80) {
                    all = false;
                    LOG.log(System.Logger.Level.WARNING, "MQTT broker {0} refused the subscription {1} of {2} (reason code 0x{3})", config.url(),
                            f.get(i), config.clientId(), Integer.toHexString(codes[i]));
                }
            }
            return all;
        } catch (MqttException e) {
            LOG.log(System.Logger.Level.WARNING, "MQTT subscribe to {0} failed: {1}", f, e.getMessage());
            return false;
        }
    }

    /** {@link #publish(String, byte[], Metadata)} without properties. */
    public boolean publish(String topic, byte[] payload, boolean retained) {
        return publish(topic, payload, Metadata.qos1().withRetained(retained));
    }

    /**
     * Publishes with QoS 1 and waits for the broker's PUBACK, within the broker's Receive Maximum.
     *
     * @param metadata retain flag and properties (its QoS is ignored: always 1)
     * @return whether the broker acknowledged it; false when offline, when no publish slot freed up
     *     within 10 s, or when the PUBACK did not come within the operation timeout
     */
    public boolean publish(String topic, byte[] payload, Metadata metadata) {
        if (!client.isConnected()) {
            return false;
        }
        MqttMessage m = PahoMessages.qos1(payload, metadata);
        Semaphore slots = publishSlots;
        try {
            if (!slots.tryAcquire(PUBLISH_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                failures.log("MQTT publish window full", "no slot within " + PUBLISH_WAIT_MILLIS + " ms for " + topic);
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        try {
            for (int attempt = 0; ; attempt++) {
                try {
                    client.publish(topic, m);
                    return true;
                } catch (MqttException e) {
                    // Paho counts a completed publish out of its window a moment after the caller hears
                    // of it: a slot of ours may briefly meet a full window of Paho's. Wait, do not drop.
                    if (e.getReasonCode() != MqttClientException.REASON_CODE_MAX_INFLIGHT || attempt >= 200) {
                        throw e;
                    }
                    Thread.sleep(5);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (MqttException e) {
            if (e.getReasonCode() == MqttClientException.REASON_CODE_CLIENT_TIMEOUT && client.isConnected() && !closed && !receiverAlive()) {
                noticeDeaf();
            }
            failures.log("MQTT publish failed", topic + ": " + e.getMessage());
            return false;
        } finally {
            slots.release();
        }
    }

    /**
     * Whether Paho's receive thread ({@code "MQTT Rec: " + client id}, Paho 1.2.5) is alive. Asked
     * only after a publish timed out, so that a broker that is merely slow never causes a reconnect.
     */
    private boolean receiverAlive() {
        String name = "MQTT Rec: " + client.getClientId();
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.isAlive() && t.getName().startsWith(name));
    }

    /**
     * A QoS 1 publish that times out on a connection Paho still calls connected, with Paho's receive
     * thread gone, means nothing is read from the socket any more (the thread died, e.g. of
     * OutOfMemoryError): {@link #problem()} says so and the connection is dropped, so the watch
     * connects again with a new receive thread.
     */
    private void noticeDeaf() {
        deaf = "MQTT publishes time out on a connected session: the receive side does not answer; reconnecting";
        LOG.log(System.Logger.Level.ERROR, "MQTT {0}: {1}", config.url(), deaf);
        Thread.ofVirtual().name("mqtt-deaf-reset").start(() -> {
            try {
                client.disconnectForcibly(0, 1000, false);
            } catch (MqttException e) {
                LOG.log(System.Logger.Level.WARNING, "MQTT reset: {0}", e.getMessage());
            }
        });
    }

    private void stopReconnecting() {
        synchronized (lifecycle) {
            closed = true;
            if (watch != null) {
                watch.close();
            }
            if (connector != null) {
                connector.interrupt();
            }
        }
    }

    /** {@link #close(Runnable)} with nothing to say. */
    @Override
    public void close() {
        close(() -> { });
    }

    /**
     * Closes the session for good: stops reconnecting, runs {@code lastWords} while still connected
     * (e.g. a retained offline state, since the broker sends the will only on a lost connection),
     * then disconnects. Every step is bounded (each broker wait at most 1 s; the retry of a close
     * refused during a reconnect ends with that connect attempt), so a frozen broker cannot hold
     * a shutdown. Paho refuses {@code close()} while a connect is in progress; a client left open
     * would come back later under the same client id and take the session from its successor, so
     * the close is retried ({@link CloseForGood}).
     */
    public void close(Runnable lastWords) {
        stopReconnecting();
        client.setTimeToWait(CLOSE_STEP_MILLIS);
        if (client.isConnected()) {
            try {
                lastWords.run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "MQTT last words of {0} failed: {1}", config.clientId(), e.getMessage());
            }
        }
        Exception failed = CloseForGood.close(() -> {
            if (client.isConnected()) {
                client.disconnectForcibly(CLOSE_STEP_MILLIS / 2, CLOSE_STEP_MILLIS, true); // in-flight work may finish, then DISCONNECT
            }
        }, () -> client.disconnectForcibly(0, 0, false), () -> client.close(true), Duration.ofSeconds(20));
        if (failed != null) {
            LOG.log(System.Logger.Level.WARNING, "MQTT client {0} could not be closed: {1}", config.clientId(), failed.getMessage());
        }
    }

    /** Drops the connection without DISCONNECT, as a power cut would: the broker publishes the will. Closed for good. */
    public void crash() {
        stopReconnecting();
        Exception failed = CloseForGood.close(() -> client.disconnectForcibly(0, 0, false), () -> client.disconnectForcibly(0, 0, false),
                () -> client.close(true), Duration.ofSeconds(20));
        if (failed != null) {
            LOG.log(System.Logger.Level.WARNING, "MQTT crash-close of {0}: {1}", config.clientId(), failed.getMessage());
        }
    }

    private static Optional<Topic> parse(String topic) {
        if (!topic.startsWith("ef/v1/")) {
            return Optional.empty();
        }
        try {
            return Optional.of(Topic.parse(topic));
        } catch (ProtocolException e) {
            return Optional.empty();
        }
    }

    /** Paho's callbacks, kept out of the public API. */
    private final class Callback implements MqttCallback {
        @Override
        public void connectComplete(boolean reconnect, String serverURI) {
            boolean first = !everConnected;
            everConnected = true;
            LOG.log(System.Logger.Level.INFO, "MQTT {0} {1} to {2}", config.clientId(), first ? "connected" : "reconnected", serverURI);
            Listener l = listener;
            try {
                l.connected(first);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "MQTT connect listener of {0} failed: {1}", config.clientId(), e.toString());
            }
            Thread.ofVirtual().name("mqtt-subscribe-" + config.clientId()).start(() -> {
                subscribeAll(List.copyOf(filters));
                try {
                    l.subscribed(first);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "MQTT subscribe listener of {0} failed: {1}", config.clientId(), e.toString());
                }
            });
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            Delivery d = new Delivery(topic, parse(topic), message.getPayload(), PahoMessages.metadata(message));
            Ack ack;
            if (!config.manualAcks() || message.getQos() == 0) {
                ack = () -> { };
            } else {
                int id = message.getId();
                int qos = message.getQos();
                ack = () -> {
                    if (!client.isConnected()) {
                        return; // offline: the broker resends it on the resumed session, and the consumer drops the copy
                    }
                    try {
                        client.messageArrivedComplete(id, qos);
                    } catch (MqttException e) {
                        LOG.log(System.Logger.Level.INFO, "acknowledgement of message {0} not sent ({1}); the broker will redeliver it", id,
                                e.getMessage());
                    }
                };
            }
            try {
                handler.onMessage(d, ack);
            } catch (RuntimeException e) {
                // A handler's bug must not drop the connection (Paho disconnects when this method throws).
                failures.log("MQTT handler failed", topic + ": " + e);
            }
        }

        @Override
        public void disconnected(MqttDisconnectResponse r) {
            // WARN: the link is down until the reconnect (central logs then carry it once forwarding is back)
            String why = r.getReasonString() != null ? r.getReasonString()
                    : r.getException() != null && r.getException().getMessage() != null ? r.getException().getMessage()
                    : "reason code " + r.getReturnCode();
            LOG.log(System.Logger.Level.WARNING, "MQTT {0} disconnected from {1}: {2}; reconnecting", config.clientId(), config.url(), why);
        }

        @Override
        public void mqttErrorOccurred(MqttException e) {
            LOG.log(System.Logger.Level.WARNING, "MQTT {0} error: {1}", config.clientId(), e.getMessage());
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
        }
    }
}
