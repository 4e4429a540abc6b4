package io.edgefleet.agent.mqtt;

import io.edgefleet.agent.commands.CommandHandler;
import io.edgefleet.agent.serving.Failure;
import io.edgefleet.agent.serving.InferenceService;
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
import io.edgefleet.protocols.topics.ReplySpace;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.protocols.topics.TopicKind;
import io.edgefleet.transport.mqtt.Delivery;
import io.edgefleet.transport.mqtt.Metadata;
import io.edgefleet.transport.mqtt.MqttSession;
import io.edgefleet.transport.mqtt.MqttTls;
import io.edgefleet.transport.mqtt.SessionConfig;
import io.edgefleet.transport.mqtt.Will;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The agent's MQTT side, on the one {@link MqttSession}: inference requests on
 * {@code ef/v1/{fleet}/{device}/infer/{model}} answered on each request's response topic with its
 * correlation data, but only on a response topic inside a {@link ReplySpace} of this agent's own
 * fleet; cloud commands on {@code cmd} applied through {@link CommandHandler} and acknowledged on
 * {@code cmd/ack}; the retained {@code state} on connect and after every activation, with an
 * offline copy as the last will. The session is persistent (clean start off, one-day expiry), so
 * commands sent while the agent was away arrive when it is back. Over TLS when an {@link MqttTls}
 * is given ({@code ssl://} URL).
 *
 * <p>Threads: the session's callback thread only dispatches. Inference runs on virtual threads (the
 * native work is on {@link InferenceService}'s platform threads), at most {@code maxInFlight} at a
 * time; beyond that a request is answered 503 with the user property {@code reason=busy} at once
 * and counted ({@link #busy}). Answers wait for a slot in the broker's Receive Maximum rather than
 * fail; what cannot be sent is counted ({@link #dropped}). CONNECT announces a Maximum Packet Size
 * so the broker never sends a request larger than the payload limit. Commands run one at a time,
 * in order, on a single named thread. Connecting retries in the background while the broker is
 * down; HTTP serving never waits for MQTT.
 */
public final class MqttLink implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MqttLink.class.getName());
    /** MQTT 5 user property carrying the status of an inference answer, as an HTTP code. */
    public static final String STATUS = "status";

    private final String fleet;
    private final String device;
    private final String profile;
    private volatile java.util.function.Supplier<List<io.edgefleet.protocols.messages.RuntimeReport>> runtimeReports = List::of;
    private final ModelSlots slots;
    private final InferenceService inference;
    private final CommandHandler commands;
    private final OipCodec oip;
    private final MessageCodec json = MessageCodec.json();
    private final Clock clock;
    private final MqttSession session;
    private final ExecutorService requests = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("mqtt-infer-", 0).factory());
    private final ExecutorService commandThread = Executors.newSingleThreadExecutor(r -> new Thread(r, "mqtt-commands"));
    private final Semaphore inFlight;
    /** Busy answers waiting for a publish slot; beyond, a request is dropped (and counted). */
    private final Semaphore busyAnswers;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong busy = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong outsideReplySpace = new AtomicLong();
    private final int maxPayloadBytes;
    private final int maxInFlight;
    /** Busy answers waiting for a publish slot (each holds only the response topic and correlation data). */
    public static final int MAX_BUSY_ANSWERS = 4096;
    private final io.edgefleet.transport.net.ClientFailureLog clientFailures;
    /**
     * After a (re)connect the outbox waits this long before it sends. A broker that loses shared
     * subscriptions when it restarts (Mosquitto 2.0 persists plain subscriptions but not shared
     * ones) acknowledges telemetry that no ingest session receives until the control plane has
     * reconnected and subscribed again; the control plane reconnects within a second of the broker
     * (its session's watch polls every 250 ms, backoff capped at 2 s), the agents hold their
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

    public MqttLink(String brokerUrl, String fleet, String device, String profile, ModelSlots slots, InferenceService inference,
            CommandHandler commands, OipCodec oip, int maxInFlight, int maxPayloadBytes,
            io.edgefleet.transport.net.ClientFailureLog clientFailures, Clock clock) {
        this(brokerUrl, Optional.empty(), fleet, device, profile, slots, inference, commands, oip, maxInFlight, maxPayloadBytes, clientFailures,
                clock);
    }

    /**
     * @param brokerUrl {@code tcp://host:port}, or {@code ssl://host:port} with {@code tls}
     * @param tls the TLS context of each connect (CA, client key and certificate); required for {@code ssl://}
     * @param maxInFlight inference requests processed at once; one more is answered 503 with the
     *     user property {@code reason=busy}, up to {@link #MAX_BUSY_ANSWERS} busy answers waiting to be sent
     * @param maxPayloadBytes largest inference payload; announced to the broker as MQTT 5 Maximum
     *     Packet Size (plus {@value #PACKET_OVERHEAD_BYTES} bytes for topic and properties), so a
     *     larger PUBLISH is dropped by the broker and never reaches this process's heap
     * @param clientFailures where client-caused failures are logged, one rate-limited line each
     * @throws IllegalArgumentException when the URL and the TLS setting do not fit together
     */
    public MqttLink(String brokerUrl, Optional<MqttTls> tls, String fleet, String device, String profile, ModelSlots slots,
            InferenceService inference, CommandHandler commands, OipCodec oip, int maxInFlight, int maxPayloadBytes,
            io.edgefleet.transport.net.ClientFailureLog clientFailures, Clock clock) {
        this.maxPayloadBytes = maxPayloadBytes;
        this.clientFailures = clientFailures;
        this.maxInFlight = maxInFlight;
        this.busyAnswers = new Semaphore(MAX_BUSY_ANSWERS);
        this.fleet = fleet;
        this.device = device;
        this.profile = profile;
        this.slots = slots;
        this.inference = inference;
        this.commands = commands;
        this.oip = oip;
        this.clock = clock;
        this.inFlight = new Semaphore(maxInFlight);
        SessionConfig config = SessionConfig.of(brokerUrl, "ef-" + fleet + "-" + device, tls.map(MqttTls::context))
                .withCleanStart(false, 24L * 3600)
                .withTimeouts(30, 10, Duration.ofSeconds(20)) // no connect or PUBACK wait hangs a thread forever (a broker that stalls under load)
                .withMaximumPacketSize((long) maxPayloadBytes + PACKET_OVERHEAD_BYTES) // MQTT 5: the broker drops a larger PUBLISH instead of sending it
                .withWill(() -> { // issue 15: the will is signed too, so the control plane takes the device offline on it
                    String topic = Topic.state(fleet, device).value();
                    byte[] payload = json.encode(state(false));
                    return new Will(topic, payload, true, senderProof.signatureProperties(topic, payload));
                })
                .withSubscription(Topic.command(fleet, device).value())
                .withSubscription(Topic.inferFilter(fleet, device))
                .withReconnect(Duration.ofSeconds(1), Duration.ofSeconds(10));
        this.session = MqttSession.create(config, (d, ack) -> onMessage(d), clientFailures).listener(new MqttSession.Listener() {
            @Override
            public void connected(boolean first) {
                subscribed = false;
                if (!first) {
                    connectedAt = System.nanoTime(); // a reconnect: hold telemetry for the grace period
                } else {
                    commandThread.submit(() -> commands.resumePending(MqttLink.this::ack));
                }
            }

            @Override
            public void subscribed(boolean first) {
                subscribed = true;
                publishState(true);
            }
        });
        slots.onActivation((model, version) -> publishState(true));
    }

    private volatile boolean subscribed;
    private volatile io.edgefleet.transport.tracing.Tracing tracing = io.edgefleet.transport.tracing.Tracing.off();

    /**
     * Traces inference requests and commands as messaging {@code process} spans (consumer), each a
     * child of the W3C {@code traceparent} user property its PUBLISH carries, current while it is
     * processed; acknowledgements carry the command span's {@code traceparent}, so the control plane
     * links each ack to its command. Off by default; call before {@link #start}.
     */
    public void useTracing(io.edgefleet.transport.tracing.Tracing t) {
        this.tracing = java.util.Objects.requireNonNull(t);
    }

    /** A messaging consumer span for a PUBLISH on {@code topic} (semantic conventions for messaging). */
    private io.opentelemetry.api.trace.Span processSpan(String template, String topic, Metadata m) {
        return tracing.span("process " + template, io.opentelemetry.api.trace.SpanKind.CONSUMER,
                        io.edgefleet.transport.tracing.TraceHeaders.extract(tracing, m))
                .setAttribute("messaging.system", "mqtt")
                .setAttribute("messaging.operation.type", "process")
                .setAttribute("messaging.operation.name", "process")
                .setAttribute("messaging.destination.name", topic)
                .setAttribute("messaging.destination.template", template)
                .startSpan();
    }

    /** Proof of sender (issue 15); call before {@code start}. Default: none (an agent that never enrolled). */
    public void useSenderProof(SenderProof proof) {
        this.senderProof = proof;
    }

    /** The runtime reports each state message carries (which runtimes load here, or why not); none until set. */
    public void reportRuntimes(java.util.function.Supplier<List<io.edgefleet.protocols.messages.RuntimeReport>> reports) {
        this.runtimeReports = reports;
    }

    /** Room for the topic, the properties and the fixed header of an inference PUBLISH, on top of its payload. */
    public static final int PACKET_OVERHEAD_BYTES = 64 * 1024;

    /** Connects now if the broker is up, else keeps trying in the background. Returns at once. */
    public void start() {
        session.start();
    }

    public boolean isConnected() {
        return session.isConnected();
    }

    /**
     * Connected, and the broker answered this connection's subscriptions (commands and inference
     * requests): from here on a command published to this device reaches it. Cleared at every
     * (re)connect until the subscriptions are answered again.
     */
    public boolean isSubscribed() {
        return subscribed && session.isConnected();
    }

    private void onMessage(Delivery message) {
        Optional<Topic> parsed = message.parsed();
        if (parsed.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "ignoring message on {0}: not a device topic", message.topic());
            return;
        }
        Topic t = parsed.get();
        if (t.kind() == TopicKind.COMMAND) {
            Optional<Command> cmd = decodeCommand(message.payload());
            // Recorded before this method returns, that is before the session acknowledges the message to
            // the broker: a crash from here on finishes the command after the restart instead of losing it.
            cmd.ifPresent(c -> {
                Optional<io.edgefleet.protocols.messages.AckError> refused = senderProof.refusal(message.topic(), message.payload(), message.metadata(),
                        commands.known(c.commandId()));
                if (refused.isPresent()) { // issue 15: not recorded, not run; the reason goes back in the ack
                    clientFailures.log("MQTT command refused (" + refused.get().code() + ")", refused.get().message());
                    ack(CommandAck.failed(c, device, refused.get(), clock.instant()));
                    return;
                }
                Optional<io.edgefleet.protocols.messages.AckError> stale = commands.fence(c);
                if (stale.isPresent()) { // issue 18: a deposed control-plane leader's late command; not recorded, not run
                    LOG.log(System.Logger.Level.WARNING, "command {0} refused: {1}", c.commandId(), stale.get().message());
                    ack(CommandAck.failed(c, device, stale.get(), clock.instant()));
                    return;
                }
                commands.accept(c);
                if (!tracing.on()) {
                    commandThread.submit(() -> commands.process(c, this::ack));
                    return;
                }
                Metadata meta = message.metadata();
                commandThread.submit(() -> {
                    io.opentelemetry.api.trace.Span span = processSpan("ef/v1/{fleet}/{device}/cmd", message.topic(), meta);
                    span.setAttribute("edgefleet.command.id", c.commandId());
                    span.setAttribute("edgefleet.command.type", c.type().wire());
                    span.setAttribute("edgefleet.model", c.model());
                    c.rolloutId().ifPresent(r -> span.setAttribute("edgefleet.rollout.id", r));
                    try (io.opentelemetry.context.Scope scope = span.makeCurrent()) {
                        commands.process(c, this::ack); // each ack carries this span's traceparent
                    } finally {
                        span.end();
                    }
                });
            });
        } else if (t.kind() == TopicKind.INFER) {
            received.incrementAndGet();
            Metadata p = message.metadata();
            String model = t.model().orElseThrow();
            if (p.responseTopic().isPresent() && !inOwnReplySpace(p.responseTopic().get())) {
                // Nowhere safe to answer: the topic could be a command topic, another fleet's, anything.
                outsideReplySpace.incrementAndGet();
                clientFailures.log("MQTT request with a response topic outside the fleet's reply space not answered",
                        "model " + model + ", response topic " + printable(p.responseTopic().get()) + "; answers go only to "
                                + ReplySpace.fleetFilter(fleet));
                return;
            }
            if (!inFlight.tryAcquire()) {
                busy.incrementAndGet();
                // the payload is not kept: only where to answer
                Metadata where = Metadata.qos1().withCorrelationData(p.correlationData().orElse(null));
                Optional<String> responseTopic = p.responseTopic();
                if (!busyAnswers.tryAcquire()) {
                    dropped.incrementAndGet();
                    clientFailures.log("MQTT request dropped", maxInFlight + " requests in flight and " + MAX_BUSY_ANSWERS
                            + " busy answers waiting; no answer sent");
                    return;
                }
                requests.submit(() -> {
                    try {
                        answer(responseTopic, where, BUSY);
                    } finally {
                        busyAnswers.release();
                    }
                });
                return;
            }
            requests.submit(() -> {
                try {
                    onInfer(model, message);
                } finally {
                    inFlight.release();
                }
            });
        }
    }

    /** Whether {@code responseTopic} lies in a reply space of this agent's fleet ({@code ef/replies/{fleet}/{device}/...}). */
    private boolean inOwnReplySpace(String responseTopic) {
        return ReplySpace.of(responseTopic).map(s -> s.fleet().equals(fleet)).orElse(false);
    }

    /** The topic for a log line: at most 200 characters, control characters replaced. */
    private static String printable(String topic) {
        String cut = topic.length() > 200 ? topic.substring(0, 200) + "..." : topic;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    private void onInfer(String model, Delivery message) {
        if (!tracing.on()) {
            untracedInfer(model, message);
            return;
        }
        io.opentelemetry.api.trace.Span span = processSpan("ef/v1/{fleet}/{device}/infer/{model}", message.topic(), message.metadata());
        span.setAttribute("edgefleet.model", model);
        try (io.opentelemetry.context.Scope scope = span.makeCurrent()) {
            untracedInfer(model, message);
        } finally {
            span.end();
        }
    }

    private void untracedInfer(String model, Delivery message) {
        Metadata p = message.metadata();
        if (p.responseTopic().isEmpty()) {
            dropped.incrementAndGet();
            clientFailures.log("MQTT request without a response topic dropped", "model " + model);
            return;
        }
        if (message.payload().length > maxPayloadBytes) { // a broker that ignores Maximum Packet Size
            Failure f = new Failure(413, "the request is larger than " + maxPayloadBytes + " bytes", false);
            inference.refused(model, Optional.empty(), io.edgefleet.protocols.messages.ClientErrorKind.PAYLOAD_TOO_LARGE);
            answer(p.responseTopic(), p, f);
            return;
        }
        try {
            OptionalInt headerLength = OipCodec.parseHeaderLength(p.userProperty(OipCodec.HEADER_CONTENT_LENGTH).orElse(null));
            InferRequest decoded = tracing.on() ? tracing.within("decode", () -> oip.decodeRequest(message.payload(), headerLength))
                    : oip.decodeRequest(message.payload(), headerLength);
            // the HTTP header's equivalent, as Inference-Header-Content-Length is: a user property (the parameter wins)
            InferRequest request = io.edgefleet.agent.split.SplitRouter.withKey(decoded,
                    p.userProperty(io.edgefleet.agent.split.SplitRouter.KEY_HEADER));
            InferResponse response = inference.infer(model, Optional.empty(), request);
            Encoded e = oip.encodeResponse(response, request::wantsBinary);
            publishAnswer(p.responseTopic().get(), p, e.body(), 200, e.headerLength(), false, false);
        } catch (RuntimeException e) {
            Failure f = Failure.of(e);
            inference.refused(model, Optional.empty(), e, f.status());
            answer(p.responseTopic(), p, f);
        }
    }

    /** The answer to a request beyond {@code maxInFlight}: 503, retryable, user property {@code reason=busy}. */
    static final Failure BUSY = new Failure(503, "the agent is busy: too many MQTT requests in flight; retry later", true);
    /** MQTT 5 user property naming why a request was refused without being processed ({@code busy}). */
    public static final String REASON = "reason";
    /** MQTT 5 user property: seconds after which a refused request may be sent again (429 and 503 answers). */
    public static final String RETRY_AFTER = "retry-after";

    private void answer(Optional<String> responseTopic, Metadata request, Failure f) {
        if (responseTopic.isEmpty()) {
            dropped.incrementAndGet();
            return;
        }
        publishAnswer(responseTopic.get(), request, oip.encodeError(f.message()), f.status(), OptionalInt.empty(), f == BUSY, f.retryable());
    }

    /**
     * @param retryable adds the user property {@code retry-after} (seconds), MQTT's counterpart of
     *     HTTP's {@code Retry-After} and CoAP's Max-Age on a 5.03/4.29: every 429 and 503 that a later
     *     try may pass (queue full, overloaded, late, busy)
     */
    private void publishAnswer(String responseTopic, Metadata request, byte[] body, int status, OptionalInt headerLength, boolean busyAnswer,
            boolean retryable) {
        Metadata m = Metadata.qos1().withCorrelationData(request.correlationData().orElse(null))
                .withContentType(headerLength.isPresent() ? "application/octet-stream" : "application/json")
                .withUserProperty(STATUS, Integer.toString(status));
        if (headerLength.isPresent()) {
            m = m.withUserProperty(OipCodec.HEADER_CONTENT_LENGTH, Integer.toString(headerLength.getAsInt()));
        }
        if (busyAnswer) {
            m = m.withUserProperty(REASON, "busy");
        }
        if (busyAnswer || retryable) {
            m = m.withUserProperty(RETRY_AFTER, "1");
        }
        publish(responseTopic, body, m);
    }

    private Optional<Command> decodeCommand(byte[] payload) {
        try {
            return Optional.of(json.decode(payload, Command.class));
        } catch (ProtocolException e) {
            // Without a readable command id there is nothing to acknowledge to: log it, keep going.
            LOG.log(System.Logger.Level.WARNING, "malformed command ignored: {0}", e.getMessage());
            dropped.incrementAndGet();
            return Optional.empty();
        }
    }

    private void ack(CommandAck a) {
        String topic = Topic.commandAck(fleet, device).value();
        byte[] payload = json.encode(a);
        // the trace fields lie outside the signature (topic, sequence, payload): they link, they never authorise
        publish(topic, payload, io.edgefleet.transport.tracing.TraceHeaders.inject(tracing, io.opentelemetry.context.Context.current(),
                senderProof.sign(topic, payload, Metadata.qos1())));
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
        String topic = Topic.state(fleet, device).value();
        byte[] payload = json.encode(state(online));
        publish(topic, payload, senderProof.sign(topic, payload, Metadata.qos1().withRetained(true)));
    }

    private DeviceState state(boolean online) {
        List<ModelState> models = new ArrayList<>();
        slots.activeVersions().forEach((model, version) -> models.add(new ModelState(model, Optional.of(version), Optional.empty(),
                slots.record(model).flatMap(r -> r.previous()).map(v -> v.version()).filter(v -> !v.equals(version)),
                ModelHealth.HEALTHY)));
        return new DeviceState(fleet, device, online, io.edgefleet.agent.EdgeAgent.VERSION, profile, clock.instant(), models)
                .withRuntimes(runtimeReports.get());
    }

    private void publish(String topic, byte[] payload, Metadata m) {
        if (!session.publish(topic, payload, m)) {
            dropped.incrementAndGet();
        }
    }

    /** Why the MQTT side cannot serve although it may look connected; empty while it works. */
    public Optional<String> problem() {
        return session.problem();
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
     * Inference requests not answered because their response topic lay outside every reply space of
     * this agent's fleet ({@link ReplySpace}): a requester may not point the answer at a command
     * topic, another fleet or anywhere else.
     */
    public long outsideReplySpace() {
        return outsideReplySpace.get();
    }

    /**
     * Publishes one telemetry batch with QoS 1 and waits for the broker's PUBACK.
     *
     * @return whether the broker acknowledged it; false when offline or the publish failed
     */
    public boolean sendTelemetry(byte[] batch) {
        if (!session.isConnected()) {
            return false;
        }
        if (System.nanoTime() - connectedAt < TELEMETRY_GRACE_NANOS) {
            return false; // just (re)connected: give the cloud's ingest session time to subscribe again (see TELEMETRY_GRACE_NANOS)
        }
        String topic = Topic.telemetry(fleet, device).value();
        return session.publish(topic, batch, senderProof.sign(topic, batch, Metadata.qos1()));
    }

    /**
     * Publishes one central-log batch (QoS 1, signed like telemetry) on {@code ef/v1/{fleet}/{device}/logs};
     * false when not connected, just reconnected (the same grace as telemetry) or not acknowledged.
     */
    public boolean sendLogs(byte[] batch) {
        if (!session.isConnected() || System.nanoTime() - connectedAt < TELEMETRY_GRACE_NANOS) {
            return false;
        }
        String topic = Topic.logs(fleet, device).value();
        return session.publish(topic, batch, senderProof.sign(topic, batch, Metadata.qos1()));
    }

    /** Messages that could not be answered or sent (no response topic, broker away, malformed command, busy answers beyond their bound). */
    public long dropped() {
        return dropped.get();
    }

    /** Drops the connection without DISCONNECT, as a power cut would: the broker publishes the last will. */
    public void crash() {
        commandThread.shutdownNow();
        requests.shutdownNow();
        session.crash();
    }

    /**
     * Says goodbye (retained offline state, since the broker sends the will only on a lost
     * connection) and closes the session for good; each step waits on the broker at most 1 s
     * ({@link MqttSession#close(Runnable)}), so SIGTERM ends the agent in time whatever the broker does.
     */
    @Override
    public void close() {
        commandThread.shutdown();
        requests.shutdown();
        session.close(() -> publishState(false));
    }
}
