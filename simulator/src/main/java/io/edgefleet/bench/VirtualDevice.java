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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * A lightweight device for scale runs: its own MQTT 5 session (retained state with a last will,
 * its command topic, acknowledgements) and the real sync client into its own chunk store, but no
 * inference runtime. It speaks the agent's wire contract, so the control plane cannot tell it from
 * an agent; the simulator's full mode runs the real agent instead.
 */
public final class VirtualDevice implements MqttCallback, AutoCloseable {
    private final String fleet;
    private final String device;
    private final DeviceProfile profile;
    private final MqttAsyncClient client;
    private final SyncClient sync;
    private final Path dir;
    private final ExecutorService work;
    private final MessageCodec json = MessageCodec.json();
    private final String model;
    private volatile String active;

    public VirtualDevice(String brokerUrl, String fleet, String device, DeviceProfile profile, String model, String active, java.util.function.Function<ChunkStore, SyncClient> sync,
            Path dir, ExecutorService work) throws MqttException {
        this.fleet = fleet;
        this.device = device;
        this.profile = profile;
        this.model = model;
        this.active = active;
        this.dir = dir;
        this.work = work;
        this.sync = sync.apply(new ChunkStore(dir.resolve("chunks")));
        this.client = new MqttAsyncClient(brokerUrl, "vd-" + fleet + "-" + device, new MemoryPersistence());
        client.setCallback(this);
    }

    public IMqttToken connect() throws MqttException {
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        o.setKeepAliveInterval(60);
        o.setConnectionTimeout(60);
        o.setSocketFactory(new io.edgefleet.transport.net.NoDelaySockets());
        MqttMessage will = new MqttMessage(json.encode(state(false)));
        will.setQos(1);
        will.setRetained(true);
        o.setWill(Topic.state(fleet, device).value(), will);
        return client.connect(o);
    }

    public boolean isConnected() {
        return client.isConnected();
    }

    private DeviceState state(boolean online) {
        return new DeviceState(fleet, device, online, "0.1.0-virtual", profile.id(), Instant.now(), List.of(ModelState.active(model, active)));
    }

    @Override
    public void connectComplete(boolean reconnect, String serverURI) {
        try {
            client.subscribe(Topic.command(fleet, device).value(), 1);
            publish(Topic.state(fleet, device).value(), json.encode(state(true)), true);
        } catch (MqttException e) {
            throw new IllegalStateException(e);
        }
    }

    private void publish(String topic, byte[] payload, boolean retained) {
        try {
            MqttMessage m = new MqttMessage(payload);
            m.setQos(1);
            m.setRetained(retained);
            client.publish(topic, m);
        } catch (MqttException e) {
            // the bench counts what arrives; a lost publish shows up as a device that never finishes
        }
    }

    private void ack(CommandAck a) {
        publish(Topic.commandAck(fleet, device).value(), json.encode(a), false);
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
        Command c = json.decode(message.getPayload(), Command.class);
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
            ack(CommandAck.failed(c, device, new AckError("download-failed", String.valueOf(e.getMessage())), Instant.now()));
        }
    }

    public String active() {
        return active;
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
    public void authPacketArrived(int reasonCode, MqttProperties properties) {
    }

    @Override
    public void close() {
        try {
            if (client.isConnected()) {
                client.disconnect().waitForCompletion(5000);
            }
            client.close();
        } catch (MqttException e) {
            // closing anyway
        }
    }
}
