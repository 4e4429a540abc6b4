package io.edgefleet.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.edgefleet.cloud.CloudConfig;
import io.edgefleet.cloud.ControlPlane;
import io.edgefleet.cloud.lease.LeaseSettings;
import io.edgefleet.cloud.store.DatabaseSettings;
import io.edgefleet.testkit.Ports;
import io.edgefleet.testkit.PostgresExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: a control plane leading its replicas as a real process ({@code edgefleet cloud}, the lease set through the
 * environment), killed with SIGKILL (no release, no shutdown hook): the replica in this JVM takes the lease over within
 * the lease plus one retry (plus a margin for a loaded machine) with the next fencing token. Slow: a control-plane JVM
 * start. The in-process takeover (graceful stop) is {@code ReplicasApiTest} in the control plane's suite.
 */
@Tag("slow")
class ReplicaFailoverProcessTest {
    static final LeaseSettings LEASE = new LeaseSettings(Duration.ofMillis(1500), Duration.ofMillis(1000), Duration.ofMillis(200));

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    @TempDir
    Path dir;

    @Test
    void a_leader_killed_with_sigkill_is_replaced_after_its_lease_with_the_next_token() throws Exception {
        PostgresExtension.Database db = PG.newDatabase();
        int port = Ports.freePort();
        Map<String, String> env = Map.of("CLOUD_HTTP_PORT", Integer.toString(port), "CLOUD_INSTANCE", "proc",
                "CLOUD_DATABASE_URL", db.jdbcUrl(), "CLOUD_DATABASE_USER", db.user(),
                "CLOUD_DATABASE_LEASE_DURATION_DASH_MS", Long.toString(LEASE.duration().toMillis()),
                "CLOUD_DATABASE_LEASE_RENEW_DASH_DEADLINE_DASH_MS", Long.toString(LEASE.renewDeadline().toMillis()),
                "CLOUD_DATABASE_LEASE_RETRY_DASH_MS", Long.toString(LEASE.retry().toMillis()));
        try (ChildJvm leader = ChildJvm.start(dir.resolve("leader.log"), env, "cloud", "--data-dir", dir.resolve("a").toString(), "--plain-http")) {
            leader.awaitOk("http://127.0.0.1:" + port + "/observe/health/ready");
            String health = ChildJvm.get("http://127.0.0.1:" + port + "/observe/health").body();
            assertThat(health).as(health).contains("\"leader\":true").contains("\"token\":1");
            CloudConfig cfg = CloudConfig.defaults(dir.resolve("b")).withHttp("127.0.0.1", 0).withInstance("inproc")
                    .withHttpTls(io.edgefleet.cloud.tls.HttpTls.plain())
                    .withDatabase(DatabaseSettings.postgresql(db.jdbcUrl(), db.user(), Optional.empty()).withPoolSize(4).withLease(LEASE));
            try (ControlPlane follower = ControlPlane.start(cfg)) {
                Thread.sleep(LEASE.duration().toMillis()); // several of its retries: it must not take a lease that is renewed
                assertThat(follower.leadership().isLeader()).as("a renewed lease stays with its holder").isFalse();
                long killed = System.nanoTime();
                leader.process().destroyForcibly(); // SIGKILL: the lease is never released
                assertThat(leader.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
                Duration bound = LEASE.duration().plus(LEASE.retry()).plusSeconds(10);
                while (!follower.leadership().isLeader()) {
                    assertThat(System.nanoTime() - killed).as("taken over within %s", bound).isLessThan(bound.toNanos());
                    Thread.sleep(20);
                }
                System.out.printf("takeover after SIGKILL: %d ms (lease %d ms, retry %d ms)%n", (System.nanoTime() - killed) / 1_000_000,
                        LEASE.duration().toMillis(), LEASE.retry().toMillis());
                assertThat(follower.leadership().token()).hasValue(2);
            }
        }
    }
}
