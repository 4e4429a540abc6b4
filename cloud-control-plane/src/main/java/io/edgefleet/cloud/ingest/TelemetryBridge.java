package io.edgefleet.cloud.ingest;

import io.edgefleet.cloud.mqtt.CloudMqtt;
import io.edgefleet.transport.mqtt.Delivery;
import io.edgefleet.transport.mqtt.MqttSession;
import io.edgefleet.transport.mqtt.MqttTls;
import io.edgefleet.protocols.ProtocolException;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.TelemetryBatch;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.protocols.topics.TopicKind;
import java.util.List;

/**
 * The ingest role's MQTT side: an MQTT 5 shared subscription
 * ({@code $share/edgefleet-ingest/ef/v1/+/+/telemetry}), so several ingest replicas split the
 * stream, with manual acknowledgements: a batch is acknowledged to the broker only when its sink
 * says it is durable (Kafka acknowledged it, or it is in the aggregates). A malformed batch, or one
 * whose fleet/device differ from its topic, is acknowledged at once, counted and logged: retrying
 * cannot fix it, and holding it would block the session. Before any of that, a
 * {@link io.edgefleet.cloud.sender.SenderGate} drops batches whose sender is not proven (and, once
 * decoded, implausible ones): they never reach the sink, the dedupe keys or the gates.
 */
public final class TelemetryBridge implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TelemetryBridge.class.getName());
    public static final String GROUP = "edgefleet-ingest";

    private final MqttSession mqtt;
    private final TelemetrySink sink;
    private final IngestStats stats;
    private final MessageCodec json = MessageCodec.json();
    private final io.edgefleet.cloud.sender.SenderGate senders;

    public TelemetryBridge(String brokerUrl, String clientId, TelemetrySink sink, IngestStats stats) {
        this(brokerUrl, java.util.Optional.empty(), clientId, sink, stats, io.edgefleet.cloud.sender.SenderGate.open(java.time.Clock.systemUTC()));
    }

    /**
     * @param tls the ingest identity for an {@code ssl://} broker URL
     * @param senders refuses batches whose sender is not proven, and implausible ones, before the sink sees them
     */
    public TelemetryBridge(String brokerUrl, java.util.Optional<MqttTls> tls, String clientId, TelemetrySink sink, IngestStats stats,
            io.edgefleet.cloud.sender.SenderGate senders) {
        this.senders = senders;
        this.sink = sink;
        this.stats = stats;
        this.mqtt = CloudMqtt.session(brokerUrl, tls, clientId, true, List.of(Topic.sharedFilterAll(GROUP, TopicKind.TELEMETRY)), this::onMessage);
    }

    public void start() {
        mqtt.start();
    }

    public boolean isConnected() {
        return mqtt.isConnected();
    }

    private void onMessage(Delivery m, MqttSession.Ack ack) {
        stats.received.incrementAndGet();
        String topic = m.topic();
        // issue 15, defence in depth: refused before decoding, so a forged batch never takes a dedupe key
        if (!senders.accept(topic, m.payload(), io.edgefleet.transport.signing.SessionSignatures.userProperties(m.metadata()))) {
            ack.ack();
            return;
        }
        TelemetryBatch b;
        try {
            Topic t = m.parsed().orElseThrow(() -> new ProtocolException("$", "not a device topic: " + topic));
            b = json.decode(m.payload(), TelemetryBatch.class);
            if (!b.fleet().equals(t.fleet()) || !b.device().equals(t.device())) {
                throw new ProtocolException("$", "batch of " + b.fleet() + "/" + b.device() + " published on " + topic);
            }
        } catch (ProtocolException e) {
            stats.rejected.incrementAndGet();
            LOG.log(System.Logger.Level.WARNING, "telemetry on {0} refused: {1}", topic, e.getMessage());
            ack.ack();
            return;
        }
        if (!senders.plausible(b)) { // issue 15: a window no device could have measured
            stats.rejected.incrementAndGet();
            ack.ack();
            return;
        }
        sink.submit(b, m.payload(), ack::ack);
    }

    /** Stops taking messages; what the sink still holds unacknowledged is redelivered by the broker later. */
    @Override
    public void close() {
        mqtt.close();
    }
}
