package io.edgefleet.agent.mqtt;

import io.edgefleet.agent.commands.CommandHandler;
import io.edgefleet.agent.serving.Failure;
import io.edgefleet.agent.serving.InferenceService;
import io.edgefleet.transport.net.NoDelaySockets;
import io.edgefleet.agent.slots.ModelSlots;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.ModelHealth;
import io.edgefleet.protocols.messages.ModelState;
import io.edgefleet.protocols.oip.Encoded;
import io.edgefleet.protocols.oip.InferRequest;
import io.edgefleet.protocols.oip.InferResponse;
import io.edgefleet.protocols.oip.OipCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.protocols.topics.TopicKind;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.eclipse.paho.mqttv5.common.packet.UserProperty;

/**
 * The agent's MQTT 5 side (Paho): inference requests on {@code ef/v1/{fleet}/{device}/infer/{model}}
 * answered on each request's response topic with its correlation data; cloud commands on
 * {@code cmd} applied through {@link CommandHandler} and acknowledged on {@code cmd/ack}; the
 * retained {@code state} on connect and after every activation, with an offline copy as the last
 * will. The session is persistent (clean start off), so commands sent while the agent was away
 * arrive when it is back.
 *
 * <p>Threads: Paho's callback thread only dispatches. Inference runs on virtual threads (the
 * native work is on {@link InferenceService}'s platform threads), at most {@code maxInFlight} at a
 * time; beyond that a request is answered 503 with the user property {@code reason=busy} at once
 * and counted ({@link #busy}). Answers wait for a slot in the broker's Receive Maximum rather than
 * fail; what cannot be sent is counted ({@link #dropped}). CONNECT announces a Maximum Packet Size
 * so the broker never sends a request larger than the payload limit. Commands run one at a time, in order, on a
 * single named thread. Connecting retries in the background while the broker is down; HTTP
 * serving never waits for MQTT.
 */
public final class MqttLink implements AutoCloseable, MqttCallback {
    private static final System.Logger LOG = System.getLogger(MqttLink.class.getName());
    /** MQTT 5 user property carrying the status of an inference answer, as an HTTP code. */
    public static final String STATUS = "status";

    private final String brokerUrl;
    private final String fleet;
    private final String device;
    private final String profile;
    private final ModelSlots slots;
    private final InferenceService inference;
    private final CommandHandler commands;
    private final OipCodec oip;
    private final MessageCodec json = MessageCodec.json();
    private final Clock clock;
    private final MqttClient client;
    private final ExecutorService requests = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("mqtt-infer-", 0).factory());
    private final ExecutorService commandThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "mqtt-commands"));
    private final Semaphore inFlight;
    /** Busy answers waiting for a publish slot; beyond, a request is dropped (and counted). */
    private final Semaphore busyAnswers;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong busy = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final int maxPayloadBytes;
    private final int maxInFlight;
    /** Busy answers waiting for a publish slot (each holds only the response topic and correlation data). */
    public static final int MAX_BUSY_ANSWERS = 4096;
    private final long maxPacketBytes;
    private final io.edgefleet.transport.net.ClientFailureLog clientFailures;
    /**
     * QoS 1 publishes in flight at once, at most the broker's Receive Maximum (CONNACK): Paho refuses
     * a publish beyond it at once (32202), which dropped two thirds of the answers to a burst.
     * Replaced on every connect; a publish waits up to {@link #PUBLISH_WAIT_MILLIS} for a slot.
     */
    private volatile Semaphore publishSlots = new Semaphore(DEFAULT_RECEIVE_MAXIMUM);
    private static final int DEFAULT_RECEIVE_MAXIMUM = 16;
    private static final long PUBLISH_WAIT_MILLIS = 10_000;
    /** Set when publishes time out on a connection that Paho still calls connected: its receive side is dead. */
    private volatile String deaf;
    private volatile boolean closed;
    private volatile boolean resumed;
    private Thread connector;
    private volatile io.edgefleet.transport.net.ReconnectWatch watch;
    /**
     * After a (re)connect the outbox waits this long before it sends. A broker that loses shared
     * subscriptions when it restarts (Mosquitto 2.0 persists plain subscriptions but not shared
     * ones) acknowledges telemetry that no ingest session receives until the control plane has
     * reconnected and subscribed again; the control plane reconnects within a second of the broker
     * (its ReconnectWatch polls every 250 ms, backoff capped at 2 s), the agents hold their
     * outboxes for three. A mitigation, not a guarantee: end-to-end acknowledgements from the
     * ingest would close the window for good.
     */
    private static final long TELEMETRY_GRACE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(3);
    private volatile long connectedAt = System.nanoTime() - TELEMETRY_GRACE_NANOS;
    /** Issue 15: signs what this device publishes about itself, admits only the control plane's signed commands. */
    private volatile SenderProof senderProof = SenderProof.none();

    public MqttLink(String brokerUrl, String fleet, String device, String profile, ModelSlots slots, InferenceService inference,
            CommandHandler commands, OipCodec oip, int maxInFlight, Clock clock) {
        this(brokerUrl, fleet, device, profile, slots, inference, commands, oip, maxInFlight, 16 << 20,
                new io.edgefleet.transport.net.ClientFailureLog(MqttLink.class.getName()), clock);
    }

    /**
     * @param maxInFlight inference requests processed at once; one more is answered 503 with the
     *     user property {@code reason=busy}, up to {@link #MAX_BUSY_ANSWERS} busy answers waiting to be sent
     * @param maxPayloadBytes largest inference payload; announced to the broker as MQTT 5 Maximum
     *     Packet Size (plus {@value #PACKET_OVERHEAD_BYTES} bytes for topic and properties), so a
     *     larger PUBLISH is dropped by the broker and never reaches this process's heap
     * @param clientFailures where client-caused failures are logged, one rate-limited line each
     */
    public MqttLink(String brokerUrl, String fleet, String device, String profile, ModelSlots slots, InferenceService inference,
            CommandHandler commands, OipCodec oip, int maxInFlight, int maxPayloadBytes,
            io.edgefleet.transport.net.ClientFailureLog clientFailures, Clock clock) {
        this.maxPayloadBytes = maxPayloadBytes;
        this.maxPacketBytes = (long) maxPayloadBytes + PACKET_OVERHEAD_BYTES;
        this.clientFailures = clientFailures;
        this.maxInFlight = maxInFlight;
        this.busyAnswers = new Semaphore(MAX_BUSY_ANSWERS);
        this.brokerUrl = brokerUrl;
        this.fleet = fleet;
        this.device = device;
        this.profile = profile;
        this.slots = slots;
        this.inference = inference;
        this.commands = commands;
        this.oip = oip;
        this.clock = clock;
        this.inFlight = new Semaphore(maxInFlight);
        try {
            this.client = new MqttClient(brokerUrl, "ef-" + fleet + "-" + device, new MemoryPersistence());
        } catch (MqttException e) {
            throw new IllegalArgumentException("bad MQTT broker URL " + brokerUrl + ": " + e.getMessage(), e);
        }
        client.setTimeToWait(20_000); // no connect or PUBACK wait hangs a thread forever (a broker that stalls under load)
        client.setCallback(this);
        slots.onActivation((model, version) -> publishState(true));
    }

    /** Proof of sender (issue 15); call before {@code start}. Default: none (an agent that never enrolled). */
    public void useSenderProof(SenderProof proof) {
        this.senderProof = proof;
    }

    /** Room for the topic, the properties and the fixed header of an inference PUBLISH, on top of its payload. */
    public static final int PACKET_OVERHEAD_BYTES = 64 * 1024;

    /** Connects, and sizes the publish window from the broker's Receive Maximum. */
    private void connectOnce() throws MqttException {
        IMqttToken t = client.connectWithResult(options());
        Integer receiveMaximum = t.getResponseProperties() == null ? null : t.getResponseProperties().getReceiveMaximum();
        publishSlots = new Semaphore(receiveMaximum == null ? DEFAULT_RECEIVE_MAXIMUM : Math.max(1, Math.min(receiveMaximum, 64)));
        deaf = null;
    }

    /** Connects now if the broker is up, else keeps trying in the background. Returns at once. */
    public void start() {
        connector = Thread.ofPlatform().name("mqtt-connect").daemon().start(() -> {
            long backoff = 500;
            while (!closed && !client.isConnected()) {
                try {
                    connectOnce();
                    watch = io.edgefleet.transport.net.ReconnectWatch.start(device, io.edgefleet.transport.net.ReconnectWatch.client(
                            () -> closed, client::isConnected, this::connectOnce), java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(10));
                    return;
                } catch (MqttException e) {
                    LOG.log(System.Logger.Level.INFO, "MQTT broker {0} not reachable ({1}); retrying in {2} ms", brokerUrl,
                            e.getMessage(), backoff);
                    try {
                        Thread.sleep(backoff);
                    } catch (InterruptedException ie) {
                        return;
                    }
                    backoff = Math.min(backoff * 2, 10_000);
                }
            }
        });
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    private MqttConnectionOptions options() {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(false);
        o.setSessionExpiryInterval(24L * 3600);
        o.setAutomaticReconnect(false); // the ReconnectWatch reconnects (Paho's shared static backoff, see there)
        o.setConnectionTimeout(10);
        o.setKeepAliveInterval(30);
        o.setMaximumPacketSize(maxPacketBytes); // MQTT 5: the broker drops a larger PUBLISH instead of sending it
        if (brokerUrl.startsWith("tcp://")) {
            o.setSocketFactory(new NoDelaySockets());
        }
        MqttMessage will = new MqttMessage(json.encode(state(false)));
        will.setQos(1);
        will.setRetained(true);
        senderProof.sign(Topic.state(fleet, device).value(), will); // issue 15: the will is signed too
        if (will.getProperties() != null) {
            o.setWillMessageProperties(will.getProperties());
        }
        o.setWill(Topic.state(fleet, device).value(), will);
        return o;
    }

    @Override
    public void connectComplete(boolean reconnect, String serverURI) {
        if (resumed) {
            connectedAt = System.nanoTime(); // a reconnect: hold telemetry for the grace period
        }
        LOG.log(System.Logger.Level.INFO, "MQTT {0} to {1}", resumed ? "reconnected" : "connected", serverURI);
        if (!reconnect && !resumed) {
            resumed = true;
            commandThread.submit(() -> commands.resumePending(this::ack));
        }
        // Subscriptions survive in the persistent session, but a broker that lost its state needs them again.
        requests.submit(() -> {
            try {
                client.subscribe(Topic.command(fleet, device).value(), 1);
                client.subscribe(Topic.inferFilter(fleet, device), 1);
            } catch (MqttException e) {
                LOG.log(System.Logger.Level.WARNING, "MQTT subscribe failed: {0}", e.getMessage());
            }
            publishState(true);
        });
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
        Topic t;
        try {
            t = Topic.parse(topic);
        } catch (ProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, "ignoring message on {0}: {1}", topic, e.getMessage());
            return;
        }
        if (t.kind() == TopicKind.COMMAND) {
            Optional<Command> cmd = decodeCommand(message);
            // Recorded before this method returns, that is before Paho acknowledges the message to the
            // broker: a crash from here on finishes the command after the restart instead of losing it.
            cmd.ifPresent(c -> {
                Optional<io.edgefleet.protocols.messages.AckError> refused = senderProof.refusal(topic, message, commands.known(c.commandId()));
                if (refused.isPresent()) { // issue 15: not recorded, not run; the reason goes back in the ack
                    clientFailures.log("MQTT command refused (" + refused.get().code() + ")", refused.get().message());
                    ack(CommandAck.failed(c, device, refused.get(), clock.instant()));
                    return;
                }
                commands.accept(c);
                commandThread.submit(() -> commands.process(c, this::ack));
            });
        } else if (t.kind() == TopicKind.INFER) {
            received.incrementAndGet();
            if (!inFlight.tryAcquire()) {
                busy.incrementAndGet();
                MqttProperties p = message.getProperties(); // the payload is not kept: only where to answer
                if (!busyAnswers.tryAcquire()) {
                    dropped.incrementAndGet();
                    clientFailures.log("MQTT request dropped", maxInFlight + " requests in flight and " + MAX_BUSY_ANSWERS
                            + " busy answers waiting; no answer sent");
                    return;
                }
                requests.submit(() -> {
                    try {
                        answer(p, BUSY);
                    } finally {
                        busyAnswers.release();
                    }
                });
                return;
            }
            requests.submit(() -> {
                try {
                    onInfer(t.model().orElseThrow(), message);
                } finally {
                    inFlight.release();
                }
            });
        }
    }

    private void onInfer(String model, MqttMessage message) {
        MqttProperties p = message.getProperties();
        if (p == null || p.getResponseTopic() == null) {
            dropped.incrementAndGet();
            clientFailures.log("MQTT request without a response topic dropped", "model " + model);
            return;
        }
        if (message.getPayload().length > maxPayloadBytes) { // a broker that ignores Maximum Packet Size
            Failure f = new Failure(413, "the request is larger than " + maxPayloadBytes + " bytes", false);
            inference.refused(model, Optional.empty(), io.edgefleet.protocols.messages.ClientErrorKind.PAYLOAD_TOO_LARGE);
            answer(p, f);
            return;
        }
        try {
            OptionalInt headerLength = OipCodec.parseHeaderLength(userProperty(p, OipCodec.HEADER_CONTENT_LENGTH).orElse(null));
            InferRequest request = oip.decodeRequest(message.getPayload(), headerLength);
            InferResponse response = inference.infer(model, Optional.empty(), request);
            Encoded e = oip.encodeResponse(response, request::wantsBinary);
            publishAnswer(p, e.body(), 200, e.headerLength(), false);
        } catch (RuntimeException e) {
            Failure f = Failure.of(e);
            inference.refused(model, Optional.empty(), e, f.status());
            answer(p, f);
        }
    }

    /** The answer to a request beyond {@code maxInFlight}: 503, retryable, user property {@code reason=busy}. */
    static final Failure BUSY = new Failure(503, "the agent is busy: too many MQTT requests in flight; retry later", true);
    /** MQTT 5 user property naming why a request was refused without being processed ({@code busy}). */
    public static final String REASON = "reason";
    /** MQTT 5 user property: seconds after which a refused request may be sent again (429 and 503 answers). */
    public static final String RETRY_AFTER = "retry-after";

    private void answer(MqttProperties p, Failure f) {
        if (p == null || p.getResponseTopic() == null) {
            dropped.incrementAndGet();
            return;
        }
        publishAnswer(p, oip.encodeError(f.message()), f.status(), OptionalInt.empty(), f == BUSY, f.retryable());
    }

    private void publishAnswer(MqttProperties request, byte[] body, int status, OptionalInt headerLength, boolean busyAnswer) {
        publishAnswer(request, body, status, headerLength, busyAnswer, false);
    }

    /**
     * @param retryable adds the user property {@code retry-after} (seconds), MQTT's counterpart of
     *     HTTP's {@code Retry-After} and CoAP's Max-Age on a 5.03/4.29: every 429 and 503 that a later
     *     try may pass (queue full, overloaded, late, busy)
     */
    private void publishAnswer(MqttProperties request, byte[] body, int status, OptionalInt headerLength, boolean busyAnswer,
            boolean retryable) {
        MqttMessage m = new MqttMessage(body);
        m.setQos(1);
        MqttProperties props = new MqttProperties();
        props.setCorrelationData(request.getCorrelationData());
        props.setContentType(headerLength.isPresent() ? "application/octet-stream" : "application/json");
        List<UserProperty> user = new ArrayList<>();
        user.add(new UserProperty(STATUS, Integer.toString(status)));
        headerLength.ifPresent(h -> user.add(new UserProperty(OipCodec.HEADER_CONTENT_LENGTH, Integer.toString(h))));
        if (busyAnswer) {
            user.add(new UserProperty(REASON, "busy"));
        }
        if (busyAnswer || retryable) {
            user.add(new UserProperty(RETRY_AFTER, "1"));
        }
        props.setUserProperties(user);
        m.setProperties(props);
        publish(request.getResponseTopic(), m);
    }

    private static Optional<String> userProperty(MqttProperties p, String key) {
        return p.getUserProperties() == null ? Optional.empty()
                : p.getUserProperties().stream().filter(u -> u.getKey().equals(key)).map(UserProperty::getValue).findFirst();
    }

    private Optional<Command> decodeCommand(MqttMessage message) {
        try {
            return Optional.of(json.decode(message.getPayload(), Command.class));
        } catch (ProtocolException e) {
            // Without a readable command id there is nothing to acknowledge to: log it, keep going.
            LOG.log(System.Logger.Level.WARNING, "malformed command ignored: {0}", e.getMessage());
            dropped.incrementAndGet();
            return Optional.empty();
        }
    }

    private void ack(CommandAck a) {
        MqttMessage m = new MqttMessage(json.encode(a));
        m.setQos(1);
        publish(Topic.commandAck(fleet, device).value(), senderProof.sign(Topic.commandAck(fleet, device).value(), m));
    }

    /**
     * Tells the cloud that the local watchdog rolled a model back: an acknowledgement on
     * {@code cmd/ack} with phase {@code rolled-back}, error code {@code watchdog} and the reason,
     * under the command id {@code watchdog-{epoch millis}-{model}} (cut to 64 characters), then the new state.
     */
    public void reportAutoRollback(String model, String reason) {
        String id = ("watchdog-" + clock.millis() + "-" + model);
        CommandAck a = new CommandAck(CommandAck.SCHEMA_VERSION, id.length() > 64 ? id.substring(0, 64) : id, Optional.empty(), device,
                io.edgefleet.protocols.messages.AckPhase.ROLLED_BACK, java.util.OptionalDouble.empty(),
                Optional.of(new io.edgefleet.protocols.messages.AckError("watchdog", reason)), clock.instant());
        ack(a);
    }

    /** Publishes the retained state: every model with its active and previous version. */
    public void publishState(boolean online) {
        MqttMessage m = new MqttMessage(json.encode(state(online)));
        m.setQos(1);
        m.setRetained(true);
        publish(Topic.state(fleet, device).value(), senderProof.sign(Topic.state(fleet, device).value(), m));
    }

    private DeviceState state(boolean online) {
        List<ModelState> models = new ArrayList<>();
        slots.activeVersions().forEach((model, version) -> models.add(new ModelState(model, Optional.of(version), Optional.empty(),
                slots.record(model).flatMap(r -> r.previous()).map(v -> v.version()).filter(v -> !v.equals(version)),
                ModelHealth.HEALTHY)));
        return new DeviceState(fleet, device, online, io.edgefleet.agent.EdgeAgent.VERSION, profile, clock.instant(), models);
    }

    private void publish(String topic, MqttMessage m) {
        if (!client.isConnected() || !publishQos1(topic, m)) {
            dropped.incrementAndGet();
        }
    }

    /** Publishes within the broker's Receive Maximum, waiting for a slot; false when it could not be sent. */
    private boolean publishQos1(String topic, MqttMessage m) {
        Semaphore slots = publishSlots;
        try {
            if (!slots.tryAcquire(PUBLISH_WAIT_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                clientFailures.log("MQTT publish window full", "no slot within " + PUBLISH_WAIT_MILLIS + " ms for " + topic);
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
                    if (e.getReasonCode() != org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_MAX_INFLIGHT || attempt >= 200) {
                        throw e;
                    }
                    Thread.sleep(5);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (MqttException e) {
            if (e.getReasonCode() == org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_CLIENT_TIMEOUT && client.isConnected() && !closed
                    && !receiverAlive()) {
                noticeDeaf();
            }
            clientFailures.log("MQTT publish failed", topic + ": " + e.getMessage());
            return false;
        } finally {
            slots.release();
        }
    }

    /**
     * Whether Paho's receive thread ({@code "MQTT Rec: " + client id}, Paho 1.2.5) is alive. Asked
     * only after a publish timed out, so that a broker that is merely slow (its PUBACKs late under
     * load) never causes a reconnect.
     */
    private boolean receiverAlive() {
        String name = "MQTT Rec: " + client.getClientId();
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.isAlive() && t.getName().startsWith(name));
    }

    /**
     * A QoS 1 publish that times out on a connection Paho still calls connected, with Paho's receive
     * thread gone, means nothing is read from the socket any more (the thread died, e.g. of OutOfMemoryError). Health
     * says so ({@link #problem}) and the connection is dropped, so the ReconnectWatch connects
     * again with a new receive thread.
     */
    private void noticeDeaf() {
        deaf = "MQTT publishes time out on a connected session: the receive side does not answer; reconnecting";
        LOG.log(System.Logger.Level.ERROR, "MQTT {0}: {1}", brokerUrl, deaf);
        Thread.ofVirtual().name("mqtt-deaf-reset").start(() -> {
            try {
                client.disconnectForcibly(0, 1000, false);
            } catch (MqttException e) {
                LOG.log(System.Logger.Level.WARNING, "MQTT reset: {0}", e.getMessage());
            }
        });
    }

    /** Why the MQTT side cannot serve although it may look connected; empty while it works. */
    public Optional<String> problem() {
        return Optional.ofNullable(deaf);
    }

    /** Inference requests answered 503 {@code busy} because {@code maxInFlight} were being processed. */
    public long busy() {
        return busy.get();
    }

    /** Inference requests that reached this process (a PUBLISH over the Maximum Packet Size never does). */
    public long received() {
        return received.get();
    }

    /**
     * Publishes one telemetry batch with QoS 1 and waits for the broker's PUBACK.
     *
     * @return whether the broker acknowledged it; false when offline or the publish failed
     */
    public boolean sendTelemetry(byte[] batch) {
        if (!client.isConnected()) {
            return false;
        }
        if (System.nanoTime() - connectedAt < TELEMETRY_GRACE_NANOS) {
            return false; // just (re)connected: give the cloud's ingest session time to subscribe again (see TELEMETRY_GRACE_NANOS)
        }
        MqttMessage m = new MqttMessage(batch);
        m.setQos(1);
        return publishQos1(Topic.telemetry(fleet, device).value(), senderProof.sign(Topic.telemetry(fleet, device).value(), m));
    }

    /** Messages that could not be answered or sent (no response topic, broker away, malformed command, busy answers beyond their bound). */
    public long dropped() {
        return dropped.get();
    }

    @Override
    public void disconnected(MqttDisconnectResponse r) {
        LOG.log(System.Logger.Level.INFO, "MQTT disconnected: {0}", r.getReasonString());
    }

    @Override
    public void mqttErrorOccurred(MqttException e) {
        LOG.log(System.Logger.Level.WARNING, "MQTT error: {0}", e.getMessage());
    }

    @Override
    public void deliveryComplete(IMqttToken token) {
    }

    @Override
    public void authPacketArrived(int reasonCode, MqttProperties properties) {
    }

    /** Publishes the offline state (a clean goodbye, since the broker sends the will only on a lost connection), then disconnects. */
    /** Drops the connection without DISCONNECT, as a power cut would: the broker publishes the last will. */
    public void crash() {
        closed = true;
        if (watch != null) {
            watch.close();
        }
        if (connector != null) {
            connector.interrupt();
        }
        commandThread.shutdownNow();
        requests.shutdownNow();
        Exception failed = io.edgefleet.transport.net.CloseForGood.close(() -> client.disconnectForcibly(0, 0, false),
                () -> client.disconnectForcibly(0, 0, false), () -> client.close(true), java.time.Duration.ofSeconds(20));
        if (failed != null) {
            LOG.log(System.Logger.Level.WARNING, "MQTT crash-close: {0}", failed.getMessage());
        }
    }

    /** How long each step of {@link #close()} may wait on the broker (the goodbye's PUBACK, the DISCONNECT). */
    private static final long CLOSE_STEP_MILLIS = 1000;

    /**
     * Says goodbye (retained offline state) and closes the session; each step waits on the broker
     * at most {@value #CLOSE_STEP_MILLIS} ms, and the retry of a close refused during a reconnect ends
     * with that connect attempt (its 10 s timeout).
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
        commandThread.shutdown();
        requests.shutdown();
        // Every step below is bounded, so SIGTERM ends the agent in time whatever the broker does
        // (a frozen broker kept a PUBACK wait and an unbounded DISCONNECT wait here for minutes).
        client.setTimeToWait(CLOSE_STEP_MILLIS);
        if (client.isConnected()) {
            publishState(false);
        }
        // Paho refuses close() while a reconnect is in progress; a client left open would come back
        // later under this device's client id and take the session from a restarted agent.
        Exception failed = io.edgefleet.transport.net.CloseForGood.close(() -> {
            if (client.isConnected()) {
                client.disconnectForcibly(CLOSE_STEP_MILLIS / 2, CLOSE_STEP_MILLIS, true); // in-flight work may finish, then DISCONNECT, each bounded
            }
        }, () -> client.disconnectForcibly(0, 0, false), () -> client.close(true), java.time.Duration.ofSeconds(20));
        if (failed != null) {
            LOG.log(System.Logger.Level.WARNING, "MQTT close: {0}", failed.getMessage());
        }
    }
}
