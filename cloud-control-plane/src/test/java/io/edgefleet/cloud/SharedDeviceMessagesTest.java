package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.lease.LeaseSettings;
import io.edgefleet.cloud.mqtt.DeviceInbox;
import io.edgefleet.cloud.rollout.DeviceState;
import io.edgefleet.cloud.store.DatabaseSettings;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.AckPhase;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.testkit.MqttCallbacks;
import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two control-plane replicas on one real PostgreSQL database and one real Mosquitto split the devices' states and
 * acknowledgements through MQTT 5 shared subscriptions (issue 18): each message is applied by one replica, once, and
 * an acknowledgement a follower receives settles the leader's rollout.
 */
class SharedDeviceMessagesTest {
    static final LeaseSettings LEASE = new LeaseSettings(Duration.ofMillis(1500), Duration.ofMillis(1000), Duration.ofMillis(200));
    static final int DEVICES = 12;

    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    @TempDir
    Path dir;
    ControlPlane a;
    ControlPlane b;
    MqttClient devices;

    @AfterEach
    void stop() throws Exception {
        if (devices != null) {
            devices.disconnect();
            devices.close();
        }
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
    }

    CloudConfig replica(String name, DatabaseSettings db) {
        return CloudTestSupport.config(dir.resolve(name)).withMqtt(MQTT.broker().url()).withRolloutTick(Duration.ofMillis(100))
                .withInstance(name).withSigningKey("k1", Optional.of(dir.resolve("keys"))).withDatabase(db.withLease(LEASE));
    }

    private void publish(String topic, byte[] payload, boolean retained) throws Exception {
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        m.setRetained(retained);
        devices.publish(topic, m);
    }

    private void state(String fleet, String device) throws Exception {
        publish(Topic.state(fleet, device).value(), MessageCodec.json().encode(new io.edgefleet.protocols.messages.DeviceState(fleet, device, true,
                "0.1.0", "raspberry-pi-4-4gb", Instant.now(), List.of())), true);
    }

    private static DeviceInbox inbox(ControlPlane cp) {
        return cp.inbox().orElseThrow();
    }

    @Test
    void each_state_and_ack_is_applied_once_by_one_replica_and_a_followers_ack_settles_the_leaders_rollout() throws Exception {
        PostgresExtension.Database db = PG.newDatabase();
        DatabaseSettings settings = DatabaseSettings.postgresql(db.jdbcUrl(), db.user(), Optional.empty()).withPoolSize(4);
        a = ControlPlane.start(replica("a", settings));
        await(Duration.ofSeconds(30), "a leads", () -> a.leadership().isLeader());
        b = ControlPlane.start(replica("b", settings));

        // the test's devices: one client publishing for every device, answering every command with "activated"
        Map<String, Set<String>> commandIds = new ConcurrentHashMap<>();
        AtomicInteger acksSent = new AtomicInteger();
        devices = new MqttClient(MQTT.broker().url(), "shared-devices", new MemoryPersistence());
        devices.setCallback(MqttCallbacks.onMessage((t, m) -> {
            String device = Topic.parse(t).device();
            Command c = MessageCodec.json().decode(m.getPayload(), Command.class);
            commandIds.computeIfAbsent(device, k -> ConcurrentHashMap.newKeySet()).add(c.commandId());
            Thread.ofVirtual().start(() -> { // not on Paho's callback thread: a publish waits for its PUBACK
                try {
                    publish(Topic.commandAck("f", device).value(), MessageCodec.json().encode(CommandAck.of(c, device, AckPhase.ACTIVATED,
                            Instant.now())), false);
                    acksSent.incrementAndGet();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }));
        devices.connect();
        devices.subscribe("ef/v1/f/+/cmd", 1);

        // a broker sends no retained message to a new shared subscription: probe until both replicas' subscriptions
        // are live, i.e. until each has applied a state (this also shows the states are split between them)
        int probes = 0;
        long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (inbox(a).statesApplied() == 0 || inbox(b).statesApplied() == 0) {
            assertThat(System.nanoTime()).as("both replicas apply states").isLessThan(until);
            state("probe", "p" + probes++);
            Thread.sleep(50);
        }
        // a probe sent before any subscription was live reached nobody; every other one is in the database, applied once
        Thread.sleep(300);
        await(Duration.ofSeconds(10), "every probe that reached a replica applied once", () -> inbox(a).statesApplied() + inbox(b).statesApplied()
                == a.fleet().select(io.edgefleet.cloud.fleet.Selector.parse("fleet=probe")).size());
        long base = inbox(a).statesApplied() + inbox(b).statesApplied();
        for (int i = 0; i < DEVICES; i++) {
            state("f", "d" + i);
        }
        CloudClient ops = client(b, OPERATOR);
        await(Duration.ofSeconds(20), "every device registered", () -> a.fleet().select(io.edgefleet.cloud.fleet.Selector.parse("fleet=f"))
                .size() == DEVICES);
        await(Duration.ofSeconds(10), "every state applied", () -> inbox(a).statesApplied() + inbox(b).statesApplied() == base + DEVICES);
        Thread.sleep(500); // a second copy (two replicas each applying every message) would land within this
        assertThat(inbox(a).statesApplied() + inbox(b).statesApplied()).as("each state applied by one replica, once")
                .isEqualTo(base + DEVICES);
        for (int i = 0; i < DEVICES; i++) {
            assertThat(a.events().list(Optional.of("f/d" + i), 10)).extracting(e -> e.kind()).containsExactly("device.registered");
        }

        Path v2 = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")));
        CloudClient.Response pushed = ops.pushModel("m", "2", List.of(v2), List.of(), Map.of(), n -> { });
        assertThat(pushed.status()).as(pushed.text()).isEqualTo(201);
        long acksBefore = inbox(a).acksApplied() + inbox(b).acksApplied();
        CloudClient.Response created = ops.raw("POST", "/api/v1/rollouts", "application/json", """
                {"model": "m", "version": "2", "selector": "fleet=f", "waves": [{"percent": 100, "bake": "0s"}],
                 "commandTimeout": "60s", "gates": {"minDevices": 0, "maxInstallFailures": 0}}
                """.getBytes());
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        String id = created.json().get("rollout").get("id").asText();
        await(Duration.ofSeconds(60), "rollout succeeded", () -> a.rollouts().get(id).orElseThrow().state()
                == io.edgefleet.cloud.rollout.RolloutState.SUCCEEDED);

        assertThat(a.leadership().isLeader()).as("a led the whole rollout").isTrue();
        assertThat(a.rollouts().devices(id)).hasSize(DEVICES).allSatisfy(d -> assertThat(d.state()).isEqualTo(DeviceState.ACTIVATED));
        assertThat(commandIds).hasSize(DEVICES).allSatisfy((d, ids) -> assertThat(ids).as(d + ": one command id").hasSize(1));
        await(Duration.ofSeconds(10), "every ack applied", () -> inbox(a).acksApplied() + inbox(b).acksApplied() - acksBefore == acksSent.get());
        assertThat(inbox(b).acksApplied()).as("the follower applied acknowledgements that settled the leader's rollout").isPositive();
        assertThat(inbox(a).acksApplied() + inbox(b).acksApplied() - acksBefore).as("each ack applied by one replica, once")
                .isEqualTo(acksSent.get());
    }
}
