package io.edgefleet.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.CommandType;
import io.edgefleet.protocols.messages.DeviceState;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.sync.client.SyncClient;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.transport.mqtt.MqttSession;
import io.edgefleet.transport.mqtt.SessionConfig;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The rollout bench's virtual device on both of its MQTT clients against a real Mosquitto, seen from a
 * control plane's side (the product's own session): retained state on connect, a command run once and its
 * redelivery answered with the recorded outcome, a stale fencing token refused, and the command ids it
 * records per intent. Downloads are the sync client's and are exercised by the bench's slow test.
 */
class VirtualDeviceTest {
    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @TempDir
    Path dir;

    private final MessageCodec json = MessageCodec.json();

    @ParameterizedTest
    @ValueSource(strings = {"hivemq", "paho"})
    void runs_a_command_id_once_refuses_stale_tokens_and_records_the_ids_per_intent(String client) throws Exception {
        String fleet = "vdt";
        String name = "d-" + client;
        BlockingQueue<CommandAck> acks = new LinkedBlockingQueue<>();
        BlockingQueue<DeviceState> states = new LinkedBlockingQueue<>();
        DeviceLink.Factory links = client.equals("hivemq") ? DeviceLink.hivemq("127.0.0.1", MQTT.broker().port())
                : DeviceLink.paho(MQTT.broker().url(), Optional.empty());
        Function<io.edgefleet.sync.chunks.ChunkStore, SyncClient> noSync = chunks -> {
            throw new AssertionError("a rollback downloads nothing");
        };
        try (ExecutorService work = Executors.newVirtualThreadPerTaskExecutor();
                MqttSession control = MqttSession.create(SessionConfig.of(MQTT.broker().url(), "control-" + client, Optional.empty())
                        .withSubscription(Topic.commandAck(fleet, name).value()).withSubscription(Topic.state(fleet, name).value()), (m, ack) -> {
                            if (m.topic().endsWith("/state")) {
                                states.add(json.decode(m.payload(), DeviceState.class));
                            } else {
                                acks.add(json.decode(m.payload(), CommandAck.class));
                            }
                        });
                VirtualDevice device = new VirtualDevice(links, fleet, name, DeviceCatalog.builtIn().get("raspberry-pi-4-4gb"), "dense", "1",
                        List.of(noSync), dir, work)) {
            control.start();
            awaitTrue(control::isConnected);
            device.connect();
            DeviceState online = states.poll(20, TimeUnit.SECONDS);
            assertThat(online).as("retained state after connect").isNotNull();
            assertThat(online.online()).isTrue();
            assertThat(device.active()).isEqualTo("1");

            Command c1 = rollback("c1", 2);
            String topic = Topic.command(fleet, name).value();
            control.publish(topic, json.encode(c1), false);
            assertThat(next(acks)).extracting(CommandAck::commandId, CommandAck::phase).containsExactly("c1", AckPhase.RECEIVED);
            assertThat(next(acks)).extracting(CommandAck::commandId, CommandAck::phase).containsExactly("c1", AckPhase.ROLLED_BACK);

            control.publish(topic, json.encode(c1), false); // a new leader sending the same id again
            CommandAck again = next(acks);
            assertThat(again).extracting(CommandAck::commandId, CommandAck::phase).as("answered with its outcome, not run again")
                    .containsExactly("c1", AckPhase.ROLLED_BACK);

            control.publish(topic, json.encode(rollback("c0", 1)), false); // a deposed leader's late command
            CommandAck stale = next(acks);
            assertThat(stale.commandId()).isEqualTo("c0");
            assertThat(stale.phase()).isEqualTo(AckPhase.FAILED);
            assertThat(stale.staleRefusal()).isTrue();
            assertThat(acks.poll(300, TimeUnit.MILLISECONDS)).as("nothing more").isNull();

            Map<String, Set<String>> ids = Map.of("rollback dense", Set.of("c1"));
            assertThat(device.receivedCommandIds()).isEqualTo(ids);
            assertThat(device.acknowledgedCommandIds()).isEqualTo(ids);
        }
    }

    private static Command rollback(String id, long token) {
        return new Command(Command.SCHEMA_VERSION, id, CommandType.ROLLBACK, Optional.of("r1"), "dense", Optional.empty(), Map.of(), false,
                Instant.now(), Optional.empty(), OptionalLong.of(token));
    }

    private static CommandAck next(BlockingQueue<CommandAck> acks) throws InterruptedException {
        CommandAck a = acks.poll(20, TimeUnit.SECONDS);
        assertThat(a).as("an acknowledgement within 20 s").isNotNull();
        return a;
    }

    private static void awaitTrue(java.util.function.BooleanSupplier s) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!s.getAsBoolean()) {
            assertThat(System.nanoTime()).as("within 20 s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
