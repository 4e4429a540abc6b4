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
import io.edgefleet.transport.mqtt.Will;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A lightweight device for scale runs: its own MQTT 5 session ({@link DeviceLink}: retained state
 * with a last will, its command topic, acknowledgements) and the real sync client into its own chunk
 * store, but no inference runtime. It speaks the agent's wire contract, so the control plane cannot
 * tell it from an agent; the simulator's full mode runs the real agent instead.
 *
 * <p>Like the agent it runs a command id once: a redelivered id (the same command again, from a new
 * leader after a failover) is answered with the outcome already reached, or ignored while it still
 * runs; a command whose fencing token is lower than one already seen is refused with
 * {@link Command#STALE_CODE}. It records every command id it received and every id it acknowledged,
 * per intent (type, model, version), so a bench can check from the devices' side that each device got
 * exactly one command id per intent.
 *
 * <p>Downloads: a fresh sync client and chunk store per command (deleted afterwards: 10,000 devices
 * keep neither HTTP clients nor chunks), from the first of {@code syncSources} that succeeds, starting
 * at a source chosen by the device (a client-side load balancer over the control-plane replicas).
 *
 * <p>Threads: commands arrive on the link's thread and run on {@code work} (virtual threads).
 */
public final class VirtualDevice implements AutoCloseable {
    private final String fleet;
    private final String device;
    private final DeviceProfile profile;
    private final DeviceLink link;
    private final List<Function<ChunkStore, SyncClient>> syncSources;
    private final int firstSource;
    private final Path dir;
    private final ExecutorService work;
    private final MessageCodec json = MessageCodec.json();
    private final String model;
    private final Map<String, Set<String>> received = new TreeMap<>();
    private final Map<String, Set<String>> acknowledged = new TreeMap<>();
    /** Command id → its terminal acknowledgement; absent while it runs. */
    private final Map<String, Optional<CommandAck>> outcomes = new ConcurrentHashMap<>();
    private volatile String active;
    private long highestToken;

    /**
     * @param links       opens this device's MQTT session (client id {@code vd-FLEET-DEVICE})
     * @param syncSources sync clients over a given chunk store, one per control-plane replica (at least one)
     * @param dir         this device's own folder (created on first download)
     */
    public VirtualDevice(DeviceLink.Factory links, String fleet, String device, DeviceProfile profile, String model, String active,
            List<Function<ChunkStore, SyncClient>> syncSources, Path dir, ExecutorService work) {
        if (syncSources.isEmpty()) {
            throw new IllegalArgumentException("a virtual device needs at least one sync source");
        }
        this.fleet = fleet;
        this.device = device;
        this.profile = profile;
        this.model = model;
        this.active = active;
        this.dir = dir;
        this.work = work;
        this.syncSources = List.copyOf(syncSources);
        this.firstSource = Math.floorMod(device.hashCode(), syncSources.size());
        this.link = links.open("vd-" + fleet + "-" + device, Topic.command(fleet, device).value(),
                () -> new Will(Topic.state(fleet, device).value(), json.encode(state(false)), true), new DeviceLink.Events() {
                    @Override
                    public void command(byte[] payload) {
                        onMessage(payload);
                    }

                    @Override
                    public void subscribed() {
                        // off the link's thread: a publish waits for its PUBACK
                        work.submit(() -> link.publish(Topic.state(fleet, device).value(), json.encode(state(true)), true));
                    }
                });
    }

    /** Connects in the background (and reconnects); see {@link #isConnected()}. */
    public void connect() {
        link.start();
    }

    public boolean isConnected() {
        return link.isConnected();
    }

    public String name() {
        return device;
    }

    private DeviceState state(boolean online) {
        return new DeviceState(fleet, device, online, "0.1.0-virtual", profile.id(), Instant.now(), List.of(ModelState.active(model, active)));
    }

    private static String intent(Command c) {
        return c.type().name().toLowerCase(java.util.Locale.ROOT) + " " + c.model() + c.version().map(v -> " " + v).orElse("");
    }

    private void ack(Command c, CommandAck a) {
        synchronized (acknowledged) {
            acknowledged.computeIfAbsent(intent(c), k -> new TreeSet<>()).add(c.commandId());
        }
        publishAck(a);
    }

    private void publishAck(CommandAck a) {
        // the bench counts what arrives; a lost publish shows up as a device that never finishes
        link.publish(Topic.commandAck(fleet, device).value(), json.encode(a), false);
    }

    private void onMessage(byte[] payload) {
        Command c = json.decode(payload, Command.class);
        work.submit(() -> handle(c));
    }

    private void handle(Command c) {
        synchronized (this) {
            if (c.staleFor(highestToken)) { // refused before it is recorded, like the agent: not counted as received
                publishAck(CommandAck.failed(c, device, new AckError(Command.STALE_CODE, "command " + c.commandId() + " carries fencing token "
                        + c.fencingToken().getAsLong() + " but this device has seen token " + highestToken + "; refused as stale"), Instant.now()));
                return;
            }
            highestToken = Math.max(highestToken, c.fencingToken().orElse(0));
            synchronized (received) {
                received.computeIfAbsent(intent(c), k -> new TreeSet<>()).add(c.commandId());
            }
            Optional<CommandAck> done = outcomes.putIfAbsent(c.commandId(), Optional.empty());
            if (done != null) { // redelivered: answer with the outcome, or let the first run answer
                done.ifPresent(a -> ack(c, new CommandAck(a.schemaVersion(), a.commandId(), a.rolloutId(), a.device(), a.phase(), a.progress(),
                        a.error(), Instant.now(), c.fencingToken())));
                return;
            }
        }
        outcomes.put(c.commandId(), Optional.of(run(c)));
    }

    private CommandAck run(Command c) {
        ack(c, CommandAck.of(c, device, AckPhase.RECEIVED, Instant.now()));
        if (c.type() == CommandType.ROLLBACK) {
            return finish(c, CommandAck.of(c, device, AckPhase.ROLLED_BACK, Instant.now()));
        }
        if (c.type() != CommandType.DEPLOY) {
            return finish(c, CommandAck.failed(c, device, new AckError("not-supported", "virtual devices only deploy"), Instant.now()));
        }
        ack(c, CommandAck.of(c, device, AckPhase.DOWNLOADING, Instant.now()));
        Exception last = null;
        for (int i = 0; i < syncSources.size(); i++) {
            Path scratch = dir.resolve("sync-" + c.commandId().replaceAll("[^A-Za-z0-9._-]", "_"));
            try {
                SyncClient sync = syncSources.get((firstSource + i) % syncSources.size()).apply(new ChunkStore(scratch.resolve("chunks")));
                sync.download(c.model(), c.version().orElseThrow(), profile, scratch.resolve("model.bin"), (done, total, reused, chunks) -> { });
                active = c.version().orElseThrow();
                ack(c, CommandAck.of(c, device, AckPhase.VERIFIED, Instant.now()));
                CommandAck activated = finish(c, CommandAck.of(c, device, AckPhase.ACTIVATED, Instant.now()));
                link.publish(Topic.state(fleet, device).value(), json.encode(state(true)), true);
                return activated;
            } catch (Exception e) {
                last = e;
            } finally {
                deleteTree(scratch);
            }
        }
        return finish(c, CommandAck.failed(c, device, new AckError("download-failed",
                Optional.ofNullable(last.getMessage()).orElse("the download failed")), Instant.now()));
    }

    private CommandAck finish(Command c, CommandAck a) {
        ack(c, a);
        return a;
    }

    /**
     * Publishes the retained state again, as the agent does every heartbeat ({@code telemetry.heartbeat-ms}, 60 s):
     * without it a device that is quiet longer than the control plane's {@code stale-after} counts as stale, and the
     * rollout's {@code maxStale} gate holds. Blocking (waits for the PUBACK); a no-op while disconnected.
     */
    public void heartbeat() {
        if (link.isConnected()) {
            link.publish(Topic.state(fleet, device).value(), json.encode(state(true)), true);
        }
    }

    public String active() {
        return active;
    }

    /** Command ids received, per intent ({@code "deploy MODEL VERSION"}): a copy. */
    public Map<String, Set<String>> receivedCommandIds() {
        synchronized (received) {
            Map<String, Set<String>> copy = new TreeMap<>();
            received.forEach((k, v) -> copy.put(k, new TreeSet<>(v)));
            return copy;
        }
    }

    /** Command ids this device acknowledged (any phase), per intent: a copy. */
    public Map<String, Set<String>> acknowledgedCommandIds() {
        synchronized (acknowledged) {
            Map<String, Set<String>> copy = new TreeMap<>();
            acknowledged.forEach((k, v) -> copy.put(k, new TreeSet<>(v)));
            return copy;
        }
    }

    @Override
    public void close() {
        link.close();
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // scratch space of a benchmark
        }
    }
}
