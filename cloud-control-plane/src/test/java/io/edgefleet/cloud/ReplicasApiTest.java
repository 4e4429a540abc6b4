package io.edgefleet.cloud;

import static io.edgefleet.cloud.CloudTestSupport.OPERATOR;
import static io.edgefleet.cloud.CloudTestSupport.await;
import static io.edgefleet.cloud.CloudTestSupport.client;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.edgefleet.cloud.client.CloudClient;
import io.edgefleet.cloud.lease.LeaseSettings;
import io.edgefleet.cloud.store.DatabaseSettings;
import io.edgefleet.engines.synth.SyntheticModels;
import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fast sibling of {@link ReplicasTest}: two control planes on one real PostgreSQL database, no broker and no
 * agent. One leads, both answer the API and say who leads, chunks pushed through one are served by the other, an
 * operator's pause on the follower reaches the leader's rollout, and the follower takes over when the leader stops.
 */
class ReplicasApiTest {
    static final LeaseSettings LEASE = new LeaseSettings(Duration.ofMillis(1500), Duration.ofMillis(1000), Duration.ofMillis(200));

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    @TempDir
    Path dir;
    ControlPlane a;
    ControlPlane b;

    @AfterEach
    void stop() {
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
    }

    CloudConfig replica(String name, DatabaseSettings db) {
        return CloudTestSupport.config(dir.resolve(name)).withRolloutTick(Duration.ofMillis(100)).withInstance(name)
                .withSigningKey("k1", Optional.of(dir.resolve("keys"))).withDatabase(db.withLease(LEASE));
    }

    @Test
    void one_replica_leads_both_serve_the_api_and_chunks_and_the_follower_takes_over_when_the_leader_stops() throws Exception {
        PostgresExtension.Database db = PG.newDatabase();
        DatabaseSettings settings = DatabaseSettings.postgresql(db.jdbcUrl(), db.user(), Optional.empty()).withPoolSize(4);
        a = ControlPlane.start(replica("a", settings));
        await(Duration.ofSeconds(30), "a leads", () -> a.leadership().isLeader());
        b = ControlPlane.start(replica("b", settings));
        CloudClient opsA = client(a, OPERATOR);
        CloudClient opsB = client(b, OPERATOR);
        await(Duration.ofSeconds(10), "b has read the lease", () -> opsB.get("/api/v1").json().path("leader").path("leaderToken").asLong() == 1);
        assertThat(b.leadership().isLeader()).isFalse();
        JsonNode leaderA = opsA.get("/api/v1").json().get("leader");
        assertThat(leaderA.get("leader").asBoolean()).isTrue();
        assertThat(leaderA.get("token").asLong()).isEqualTo(1);
        assertThat(opsB.get("/api/v1").json().get("leader").get("leaderReplica").asText()).isEqualTo(leaderA.get("replica").asText());

        // pushed through the follower, served by the leader from the database
        Path v2 = SyntheticModels.classifierTflite(Files.createDirectories(dir.resolve("v2")));
        CloudClient.Response pushed = opsB.pushModel("m", "2", List.of(v2), List.of(), Map.of(), n -> { });
        assertThat(pushed.status()).as(pushed.text()).isEqualTo(201);
        JsonNode manifest = opsA.get("/sync/v1/manifests/m/2").json();
        for (JsonNode c : manifest.get("variants").get(0).get("chunks")) {
            String sha = c.get("sha256").asText();
            assertThat(Files.exists(dir.resolve("a/chunks/chunks").resolve(sha.substring(0, 2)).resolve(sha))).as("not on a's disk").isFalse();
            CloudClient.Response chunk = opsA.get("/sync/v1/chunks/" + sha);
            assertThat(chunk.status()).isEqualTo(200);
            assertThat(io.edgefleet.sync.chunks.Sha256.hex(chunk.body())).isEqualTo(sha);
            assertThat(chunk.body()).hasSize(c.get("sizeBytes").asInt());
        }

        // a third replica that missed the shared signing key (its own key-dir) refuses to start instead of signing with a key
        // no agent trusts
        Path ownKeys = dir.resolve("c-keys");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ControlPlane.start(replica("c", settings)
                .withSigningKey("k1", Optional.of(ownKeys)))).hasStackTraceContaining("is not the key that signed the models in the shared "
                + "database").hasStackTraceContaining("signing.key-dir");

        // a rollout created and paused on the follower is the leader's rollout
        assertThat(opsB.raw("PUT", "/api/v1/fleets/f/devices/d1", "application/json", "{}".getBytes()).status()).isEqualTo(200);
        CloudClient.Response created = opsB.raw("POST", "/api/v1/rollouts", "application/json", """
                {"model": "m", "version": "2", "selector": "fleet=f", "waves": [{"percent": 100}]}
                """.getBytes());
        assertThat(created.status()).as(created.text()).isEqualTo(201);
        String id = created.json().get("rollout").get("id").asText();
        await(Duration.ofSeconds(10), "the leader added the device", () -> a.rollouts().devices(id).size() == 1);
        assertThat(opsB.post("/api/v1/rollouts/" + id + "/pause", Map.of("reason", "checking")).status()).isEqualTo(200);
        assertThat(a.rollouts().get(id).orElseThrow().state()).isEqualTo(io.edgefleet.cloud.rollout.RolloutState.PAUSED);
        CloudClient.Response rollback = opsB.post("/api/v1/rollouts/" + id + "/rollback", Map.of("reason", "not here"));
        assertThat(rollback.status()).as(rollback.text()).isEqualTo(503);
        assertThat(rollback.json().get("detail").asText()).contains("does not run rollouts");

        a.close();
        a = null;
        await(LEASE.duration().plus(LEASE.retry()).plusSeconds(10), "b leads", () -> b.leadership().isLeader());
        assertThat(b.leadership().token()).hasValue(2);
        assertThat(opsB.get("/api/v1").json().get("leader").get("token").asLong()).isEqualTo(2);
        CloudClient.Response rolledBack = opsB.post("/api/v1/rollouts/" + id + "/rollback", Map.of("reason", "now the leader"));
        assertThat(rolledBack.status()).as(rolledBack.text()).isEqualTo(200);
        assertThat(b.rollouts().get(id).orElseThrow().state()).isEqualTo(io.edgefleet.cloud.rollout.RolloutState.ROLLED_BACK);
    }
}
