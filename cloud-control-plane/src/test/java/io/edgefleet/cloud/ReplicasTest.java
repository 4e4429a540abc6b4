package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.agent.AgentConfig;
import io.edgefleet.agent.EdgeAgent;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.lease.LeaseSettings;
import io.edgefleet.cloud.store.DatabaseSettings;
import io.edgefleet.engines.EngineOptions;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.protocols.messages.Command;
import io.edgefleet.protocols.messages.CommandAck;
import io.edgefleet.protocols.messages.MessageCodec;
import io.edgefleet.protocols.topics.Topic;
import io.edgefleet.sync.signing.Keys;
import io.edgefleet.testkit.MosquittoExtension;
import io.edgefleet.testkit.MqttCallbacks;
import io.edgefleet.testkit.PostgresExtension;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two control-plane replicas on one real PostgreSQL database, with a real Mosquitto and real agents
 * (issue 18): one leads (lease, fencing token), both serve the API, a model pushed through the leader is
 * downloaded by the agents from the other replica (chunks in the database), a rollout created through
 * the follower runs on the leader, the leader stops, the other takes over with the next token and finishes
 * the rollout, and an agent refuses the deposed leader's late command with its reason. The leader stops
 * gracefully here (in-process); the kill -9 of a real process is {@code ReplicaFailoverProcessTest} in the
 * simulator module. Slow (70 s on two busy cores: three agents, each model load verified in a child JVM); the default run
 * keeps {@link ReplicasApiTest} and {@code LeaderLeaseTest}.
 */
@org.junit.jupiter.api.Tag("slow")
class ReplicasTest {
    static final LeaseSettings LEASE = new LeaseSettings(Duration.ofMillis(1500), Duration.ofMillis(1000), Duration.ofMillis(200));

    @RegisterExtension
    static final MosquittoExtension MQTT = new MosquittoExtension();
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    @TempDir
    Path dir;
    ControlPlane a;
    ControlPlane b;
    final List<EdgeAgent> agents = new ArrayList<>();
    MqttClient spy;
    /** Per device: the fencing token of every command seen on the broker (0: none), in order. */
    final Map<String, List<Long>> tokensSeen = new ConcurrentHashMap<>();
    final List<CommandAck> acksSeen = new CopyOnWriteArrayList<>();

    CloudConfig replica(String name, DatabaseSettings db) {
        // separate data folders: only the signing key is shared (a mounted secret in production; see docs "Replicas")
        return CloudTestSupport.config(dir.resolve(name)).withMqtt(MQTT.broker().url()).withRolloutTick(Duration.ofMillis(100))
                .withInstance(name).withSigningKey("k1", Optional.of(dir.resolve("keys"))).withDatabase(db.withLease(LEASE));
    }

    @BeforeEach
    void start() throws Exception {
        PostgresExtension.Database db = PG.newDatabase();
        DatabaseSettings settings = DatabaseSettings.postgresql(db.jdbcUrl(), db.user(), Optional.empty()).withPoolSize(4);
        a = ControlPlane.start(replica("a", settings));
        await(Duration.ofSeconds(30), "a leads", () -> a.leadership().isLeader());
        b = ControlPlane.start(replica("b", settings));
        spy = new MqttClient(MQTT.broker().url(), "replicas-spy", new MemoryPersistence());
        spy.setCallback(MqttCallbacks.onMessage((t, m) -> {
            Topic topic = Topic.parse(t);
            if (t.endsWith("/cmd")) {
                Command c = MessageCodec.json().decode(m.getPayload(), Command.class);
                tokensSeen.computeIfAbsent(topic.device(), k -> new CopyOnWriteArrayList<>()).add(c.fencingToken().orElse(0));
            } else {
                acksSeen.add(MessageCodec.json().decode(m.getPayload(), CommandAck.class));
            }
        }));
        spy.connect();
        spy.subscribe(new String[] {"ef/v1/rep/+/cmd", "ef/v1/rep/+/cmd/ack"}, new int[] {1, 1});
    }

    @AfterEach
    void stop() throws Exception {
        if (spy != null) {
            spy.disconnect();
            spy.close();
        }
        agents.forEach(EdgeAgent::close);
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
    }

    private EdgeAgent agent(ControlPlane syncFrom, String device, Path baseFile) throws Exception {
        JsonNode key = client(syncFrom, OPERATOR).get("/api/v1/keys").json().get("keys").get(0);
        AgentConfig.Sync sync = new AgentConfig.Sync(URI.create("http://127.0.0.1:" + syncFrom.port()),
                Map.of(key.get("keyId").asText(), Keys.publicKey(key.get("publicKey").asText())));
        Path models = Files.createDirectories(dir.resolve("m-" + device));
        Files.copy(baseFile, models.resolve("rep.onnx"));
        return EdgeAgent.start(AgentConfig.defaults(dir.resolve("a-" + device)).withModelsDir(models).withHttp("127.0.0.1", 0)
                .withCoapPort(-1).withIdentity("rep", device).withProfile("raspberry-pi-4-4gb", EngineOptions.defaults())
                .withMqtt(MQTT.broker().url()).withSync(sync).withTls(CloudTestSupport.agentToken())
                .withIsolation(io.edgefleet.engines.isolation.IsolationOptions.defaults().withSharedVerdicts(true)));
    }

    private static JsonNode status(CloudClient c, String rollout) {
        CloudClient.Response r = c.get("/api/v1/rollouts/" + rollout);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        return r.json();
    }

    @Test
    void the_leader_runs_rollouts_the_other_takes_over_when_it_stops_and_finishes_them_and_agents_refuse_the_old_leaders_commands()
            throws Exception {
        CloudClient opsA = client(a, OPERATOR);
        CloudClient opsB = client(b, OPERATOR);
        await(Duration.ofSeconds(10), "b has read the lease", () -> b.leadership().isLeader() == false
                && opsB.get("/api/v1").json().path("leader").path("leaderToken").asLong() == 1);
        // both serve the API; each says who leads
        JsonNode leaderA = opsA.get("/api/v1").json().get("leader");
        JsonNode leaderB = opsB.get("/api/v1").json().get("leader");
        assertThat(leaderA.get("leader").asBoolean()).isTrue();
        assertThat(leaderA.get("token").asLong()).isEqualTo(1);
        assertThat(leaderB.get("leader").asBoolean()).isFalse();
        assertThat(leaderB.get("token").asLong()).isZero();
        assertThat(leaderB.get("leaderReplica").asText()).isEqualTo(leaderA.get("replica").asText()).startsWith("a-");
        JsonNode health = client(b, null).get("/observe/health").json();
        assertThat(health.toString()).contains("\"leader\"").contains(leaderA.get("replica").asText());
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port() + "/observe/metrics"))
                .header("Accept", "text/plain").build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).containsPattern("edgefleet_cloud_leader\\{replica=\"" + leaderA.get("replica").asText() + "\"[^}]*} 1\\.0")
                .containsPattern("edgefleet_cloud_leader\\{replica=\"" + leaderB.get("replica").asText() + "\"[^}]*} 0\\.0")
                .containsPattern("edgefleet_cloud_leader_token\\{replica=\"" + leaderA.get("replica").asText() + "\"[^}]*} 1\\.0");

        // a model pushed through a: its chunks come from b, which never had them on disk
        Path v2 = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")));
        CloudClient.Response pushed = opsA.pushModel("rep", "2", List.of(v2), List.of(), Map.of(), n -> { });
        assertThat(pushed.status()).as(pushed.text()).isEqualTo(201);
        JsonNode manifest = opsB.get("/sync/v1/manifests/rep/2").json();
        String sha = manifest.get("variants").get(0).get("chunks").get(0).get("sha256").asText();
        assertThat(Files.exists(dir.resolve("b/chunks/chunks").resolve(sha.substring(0, 2)).resolve(sha))).isFalse();
        CloudClient.Response chunk = opsB.get("/sync/v1/chunks/" + sha);
        assertThat(chunk.status()).isEqualTo(200);
        assertThat(io.edgefleet.sync.chunks.Sha256.hex(chunk.body())).isEqualTo(sha);

        Path base = SyntheticModels.classifierOnnx(Files.createDirectories(dir.resolve("base")));
        for (int i = 0; i < 3; i++) {
            agents.add(agent(b, "d" + i, base));
        }
        await(Duration.ofSeconds(60), "3 agents online on both replicas", () -> a.fleet().select(io.edgefleet.cloud.fleet.Selector.parse(
                "fleet=rep,status=online")).size() == 3 && b.fleet().select(io.edgefleet.cloud.fleet.Selector.parse("fleet=rep,status=online")).size() == 3);

        // created through the follower, run by the leader
        CloudClient.Response created = opsB.raw("POST", "/api/v1/rollouts", "application/json", """
                {"model": "rep", "version": "2", "selector": "fleet=rep",
                 "waves": [{"count": 1, "bake": "1h"}, {"percent": 100}],
                 "commandTimeout": "60s", "telemetryWait": "1s", "onTelemetryWait": "proceed"}
                """.getBytes());
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        String id = created.json().get("rollout").get("id").asText();
        await(Duration.ofSeconds(60), "wave 1 installed", () -> status(opsB, id).get("devices").findValuesAsText("state").contains("activated"));
        assertThat(tokensSeen.values().stream().flatMap(List::stream).toList()).as("wave 1 commanded by a, token 1").containsOnly(1L);

        // a follower cannot roll back (its commands would cross the leader's), and says where to go
        CloudClient.Response refused = opsB.post("/api/v1/rollouts/" + id + "/rollback", Map.of("reason", "not here"));
        assertThat(refused.status()).as(refused.text()).isEqualTo(503);
        assertThat(refused.json().get("detail").asText()).contains("does not run rollouts");

        // the leader stops: b takes over within the lease plus a margin, with the next token
        a.close();
        a = null;
        await(LEASE.duration().plus(LEASE.retry()).plusSeconds(10), "b leads", () -> b.leadership().isLeader());
        assertThat(b.leadership().token()).hasValue(2);

        // the rollout started under a finishes under b
        assertThat(opsB.post("/api/v1/rollouts/" + id + "/promote", Map.of("reason", "skip the bake")).status()).isEqualTo(200);
        await(Duration.ofSeconds(90), "rollout succeeded under b", () -> status(opsB, id).get("rollout").get("state").asText().equals("succeeded"));
        JsonNode done = status(opsB, id);
        assertThat(done.get("devices").findValuesAsText("state")).containsOnly("activated").hasSize(3);
        assertThat(agents).allSatisfy(ag -> assertThat(ag.slots().activeVersions()).containsEntry("rep", "2"));
        String late = tokensSeen.keySet().stream().filter(d -> tokensSeen.get(d).contains(2L)).findFirst().orElseThrow();
        assertThat(tokensSeen.get(late)).as("wave 2 commanded by b, token 2").containsOnly(2L);

        // the deposed leader's late command (token 1) to a device that saw token 2: refused with the reason, nothing changes
        MqttClient old = new MqttClient(MQTT.broker().url(), "old-leader", new MemoryPersistence());
        old.connect();
        Command stale = Command.rollback("stale-1", id, "rep", Optional.empty(), Instant.now()).withFencingToken(1);
        old.publish(Topic.command("rep", late).value(), MessageCodec.json().encode(stale), 1, false);
        old.disconnect();
        old.close();
        await(Duration.ofSeconds(30), "the refusal", () -> acksSeen.stream().anyMatch(x -> x.commandId().equals("stale-1")));
        CommandAck ack = acksSeen.stream().filter(x -> x.commandId().equals("stale-1")).findFirst().orElseThrow();
        assertThat(ack.staleRefusal()).isTrue();
        assertThat(ack.error().orElseThrow().message())
                .isEqualTo("command stale-1 carries fencing token 1 but this device has seen token 2 from a newer control-plane leader; refused as stale");
        assertThat(agents.stream().filter(ag -> ag.store().fencingToken() == 2).count()).isEqualTo(2);
        b.rollouts().tick();
        assertThat(status(opsB, id).get("devices").findValuesAsText("state")).containsOnly("activated");
        assertThat(status(opsB, id).get("rollout").get("state").asText()).isEqualTo("succeeded");

        // an acknowledgement answering the old leader's issue of the device's command (token 1) is not acted on; the same
        // acknowledgement under the token the device was commanded with (2) is. Same publisher, topic and QoS: in order.
        String deployId = io.edgefleet.cloud.rollout.Intent.DEPLOY.commandId(id, "rep/" + late);
        String ackTopic = Topic.command("rep", late).value() + "/ack";
        MqttClient device = new MqttClient(MQTT.broker().url(), "ack-writer", new MemoryPersistence());
        device.connect();
        CommandAck oldIssue = new CommandAck(CommandAck.SCHEMA_VERSION, deployId, Optional.of(id), late,
                io.edgefleet.protocols.messages.AckPhase.ROLLED_BACK, java.util.OptionalDouble.empty(), Optional.empty(), Instant.now(),
                java.util.OptionalLong.of(1));
        CommandAck current = new CommandAck(CommandAck.SCHEMA_VERSION, deployId, Optional.of(id), late,
                io.edgefleet.protocols.messages.AckPhase.FAILED, java.util.OptionalDouble.empty(),
                Optional.of(new io.edgefleet.protocols.messages.AckError("test", "under the current token")), Instant.now(),
                java.util.OptionalLong.of(2));
        device.publish(ackTopic, MessageCodec.json().encode(oldIssue), 1, false);
        device.publish(ackTopic, MessageCodec.json().encode(current), 1, false);
        device.disconnect();
        device.close();
        await(Duration.ofSeconds(30), "the current-token ack applied", () -> stateOf(opsB, id, late).equals("failed"));
        // had the token-1 ack been applied first, the device would be rolled-back, which a later failure cannot overwrite
        assertThat(stateOf(opsB, id, late)).isEqualTo("failed");
    }

    private static String stateOf(CloudClient c, String rollout, String device) {
        for (JsonNode d : status(c, rollout).get("devices")) {
            if (d.get("device").asText().equals(device)) {
                return d.get("state").asText();
            }
        }
        throw new AssertionError("no device " + device + " in " + rollout);
    }
}
