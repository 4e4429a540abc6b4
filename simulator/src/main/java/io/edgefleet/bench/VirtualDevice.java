package io.edgefleet.bench;

import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.protocols.messages.AckError;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.CommandType;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.messages.ModelState;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.sync.chunks.ChunkStore;
import io.edgefleet.sync.client.SyncClient;
import io.edgefleet.transport.mqtt.Delivery;
import io.edgefleet.transport.mqtt.MqttSession;
import io.edgefleet.transport.mqtt.SessionConfig;
import io.edgefleet.transport.mqtt.Will;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;

/**
 * A lightweight device for scale runs: its own MQTT 5 session (retained state with a last will,
 * its command topic, acknowledgements) and the real sync client into its own chunk store, but no
 * inference runtime. It speaks the agent's wire contract, so the control plane cannot tell it from
 * an agent; the simulator's full mode runs the real agent instead.
 */
public final class VirtualDevice implements AutoCloseable {
    private final String fleet;
    private final String device;
    private final DeviceProfile profile;
    private final MqttSession session;
    private final SyncClient sync;
    private final Path dir;
    private final ExecutorService work;
    private final MessageCodec json = MessageCodec.json();
    private final String model;
    private volatile String active;

    public VirtualDevice(String brokerUrl, String fleet, String device, DeviceProfile profile, String model, String active, java.util.function.Function<ChunkStore, SyncClient> sync,
            Path dir, ExecutorService work) {
        this(brokerUrl, java.util.Optional.empty(), fleet, device, profile, model, active, sync, dir, work);
    }

    /**
     * A device whose MQTT session uses {@code tls} (its client certificate and the CA it trusts) for an
     * {@code ssl://} {@code brokerUrl}; its state, acknowledgements and will are not signed (see
     * docs/benchmarks.md: the bench's control plane does not require signed senders).
     */
    public VirtualDevice(String brokerUrl, java.util.Optional<java.util.function.Supplier<javax.net.ssl.SSLContext>> tls, String fleet, String device,
            DeviceProfile profile, String model, String active, java.util.function.Function<ChunkStore, SyncClient> sync, Path dir, ExecutorService work) {
        this.fleet = fleet;
        this.device = device;
        this.profile = profile;
        this.model = model;
        this.active = active;
        this.dir = dir;
        this.work = work;
        this.sync = sync.apply(new ChunkStore(dir.resolve("chunks")));
        this.session = MqttSession.create(SessionConfig.of(brokerUrl, "vd-" + fleet + "-" + device, tls)
                .withCleanStart(true, 0)
                .withTimeouts(60, 60, Duration.ofSeconds(60))
                .withWill(() -> new Will(Topic.state(fleet, device).value(), json.encode(state(false)), true))
                .withSubscription(Topic.command(fleet, device).value()), (m, ack) -> onMessage(m));
        session.listener(new MqttSession.Listener() {
            @Override
            public void subscribed(boolean first) {
                publish(Topic.state(fleet, device).value(), json.encode(state(true)), true);
            }
        });
    }

    /** Connects in the background (and reconnects); see {@link #isConnected()}. */
    public void connect() {
        session.start();
    }

    public boolean isConnected() {
        return session.isConnected();
    }

    private DeviceState state(boolean online) {
        return new DeviceState(fleet, device, online, "0.1.0-virtual", profile.id(), Instant.now(), List.of(ModelState.active(model, active)));
    }

    private void publish(String topic, byte[] payload, boolean retained) {
        // the bench counts what arrives; a lost publish shows up as a device that never finishes
        session.publish(topic, payload, retained);
    }

    private void ack(CommandAck a) {
        publish(Topic.commandAck(fleet, device).value(), json.encode(a), false);
    }

    private void onMessage(Delivery message) {
        Command c = json.decode(message.payload(), Command.class);
        work.submit(() -> handle(c));
    }

    private void handle(Command c) {
        ack(CommandAck.of(c, device, AckPhase.RECEIVED, Instant.now()));
        if (c.type() == CommandType.ROLLBACK) {
            ack(CommandAck.of(c, device, AckPhase.ROLLED_BACK, Instant.now()));
            return;
        }
        if (c.type() != CommandType.DEPLOY) {
            ack(CommandAck.failed(c, device, new AckError("not-supported", "virtual devices only deploy"), Instant.now()));
            return;
        }
        try {
            ack(CommandAck.of(c, device, AckPhase.DOWNLOADING, Instant.now()));
            Path target = dir.resolve("model.bin");
            sync.download(c.model(), c.version().orElseThrow(), profile, target, (done, total, reused, chunks) -> { });
            active = c.version().orElseThrow();
            ack(CommandAck.of(c, device, AckPhase.VERIFIED, Instant.now()));
            ack(CommandAck.of(c, device, AckPhase.ACTIVATED, Instant.now()));
            publish(Topic.state(fleet, device).value(), json.encode(state(true)), true);
            Files.deleteIfExists(target);
        } catch (Exception e) {
            ack(CommandAck.failed(c, device, new AckError("download-failed", java.util.Optional.ofNullable(e.getMessage()).orElse("the download failed")), Instant.now()));
        }
    }

    public String active() {
        return active;
    }

    @Override
    public void close() {
        session.close();
    }
}
